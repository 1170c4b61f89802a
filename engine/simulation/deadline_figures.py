"""The deadline section of a replay's report: loans whose limitation or guarantee period
lapsed, or is about to, without a qualifying notice, and the guards' suppressions.

Stage: beside `figures.py`, after each engine chunk. Input: each loan's reported
loan-days (whole loans, in output order), its `LoanHistory` and the schema's
`DeadlinePlan`; the margin in days (`simulate --deadline-margin`). Output: the
`deadlines` object of summary.json.
Must not: keep loan-days; depend on how loans were cut into chunks.

A loan is listed for a period (limitation, or guarantee when it has one) when, on a
day it was evaluated, the period had lapsed (status `lapsed`: its last day passed with
no qualifying notice in time), or when on its last evaluated day the period ends within
the margin (status `within_margin`: still open, no notice has yet restarted or met it).
The periods are replayed from the loan's dates and the signed demands among its
reported actions, by the same rules as the engines (`deadlines.py`); with `--from`,
notices sent before the window are not seen (docs/deadlines.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from engine.simulation.deadlines import GUARANTEE, LIMITATION, DeadlinePlan, LoanDeadlines
from engine.simulation.history import LoanHistory
from engine.simulation.replay import LoanDay, action_keys

LISTED = 1000               # loans listed in summary.json; the rest are counted
DEFAULT_MARGIN = 90         # days: `simulate --deadline-margin`
GUARD_PREFIX = "guard "     # a guard's suppression is reported as "guard NAME: RULE"


class DeadlineTally:
    """The deadline findings and guard suppressions of one replay."""

    def __init__(self, plan: DeadlinePlan | None, loans: Mapping[str, LoanHistory] | None,
                 margin: int = DEFAULT_MARGIN, end: date | None = None) -> None:
        self.plan, self.loans, self.margin, self.end = plan, loans, margin, end
        self.counts: Counter[tuple[str, str]] = Counter()
        self.listed: list[dict[str, Any]] = []
        self.guards: Counter[str] = Counter()

    def add_loan(self, days: Sequence[LoanDay]) -> None:
        for loan_day in days:
            for suppressed in loan_day.suppressed:
                if suppressed.by.startswith(GUARD_PREFIX):
                    self.guards[suppressed.by] += 1
        if self.plan is None or self.loans is None or not days:
            return
        loan = self.loans.get(days[0].loan_id)
        if loan is not None:
            for finding in loan_findings(self.plan, loan, days, self.margin, self.end):
                self.counts[(finding["period"], finding["status"])] += 1
                if len(self.listed) < LISTED:
                    self.listed.append(finding)

    def summary(self) -> dict[str, Any]:
        counts = {period: {status: self.counts[(period, status)]
                           for status in ("lapsed", "within_margin")}
                  for period in ("limitation", "guarantee")}
        listed = sum(self.counts.values())
        return {"margin_days": self.margin, "derived": self.plan is not None, **counts,
                "loans": self.listed, "more_loans": listed - len(self.listed),
                "guard_suppressions": dict(sorted(self.guards.items(),
                                                  key=lambda item: (-item[1], item[0])))}


def loan_findings(plan: DeadlinePlan, loan: LoanHistory, days: Sequence[LoanDay],
                  margin: int, end: date | None = None) -> list[dict[str, Any]]:
    """The deadline findings of one loan (at most one per period), given its loan-days;
    `end` is the replay's last day (a loan evaluated to then is still unpaid; one whose
    days stop earlier was repaid, and is listed only for a period that lapsed)."""
    state = LoanDeadlines(plan, loan)
    has_guarantee = state.guarantee_end is not None
    lapsed: dict[str, date] = {}                  # period -> its last day, once passed
    notices: dict[str, date] = {}                 # period -> the last qualifying notice
    for loan_day in days:
        if "limitation" not in lapsed and state.limitation_end < loan_day.day:
            lapsed["limitation"] = state.limitation_end
        end = state.guarantee_end
        if "guarantee" not in lapsed and end is not None and end < loan_day.day:
            lapsed["guarantee"] = end
        kind = plan.kind(action_keys(loan_day.actions))
        if kind & LIMITATION:
            notices["limitation"] = loan_day.day
        if kind & GUARANTEE:
            notices["guarantee"] = loan_day.day
        state.record(loan_day.day.toordinal(), kind)
    last, replay_end = days[-1].day, end
    found = []
    ends = {"limitation": state.limitation_end, "guarantee": state.guarantee_end}
    for period in ("limitation", "guarantee"):
        if period == "guarantee" and not has_guarantee:
            continue
        end = lapsed.get(period) or ends[period]
        if period in lapsed:
            status = "lapsed"
        elif (end is not None and 0 <= (end - last).days <= margin
              and (replay_end is None or last >= replay_end)):
            status = "within_margin"
        else:
            continue
        notice = notices.get(period)
        found.append({"loan_id": loan.loan_id, "period": period, "status": status,
                      "maturity": state.matures.isoformat(), "ends": end.isoformat(),
                      "last_notice": notice.isoformat() if notice else None,
                      "last_day": last.isoformat()})
    return found
