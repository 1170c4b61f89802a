"""Deadline facts in a replay: days left in the limitation and guarantee periods.

Stage: inside both replay engines, beside the ledger (`loanday.py` for the row engine,
`DeadlineArrays` for the columnar one). Input: the schema (which facts it declares,
the periods' defaults, which notices the catalogue marks `signed_demand`), each loan's
dates and static facts, and the replay's own actions. Output: per loan-day the values
of `days_to_limitation` and `days_to_guarantee_end`, before the clamp to their domains.
Must not: read the policy's params, or let a day's own decision change that day's
facts (a notice sent on day D counts from D + 1 on, like every history fact).

The rules (docs/deadlines.md gives the sources):
- maturity is the last due date of an instalment with something due; both periods
  count from it (民法典 188, 189 for instalments; 692 for the guarantee);
- the limitation period ends `limitation_years` later (calendar years, the same day
  of the month, or the month's last day, 民法典 202); a signed demand to any target but
  the guarantor (`signed_demand` in the catalogue), sent on or before the last day,
  restarts it from the day it is sent (民法典 195); once lapsed it stays lapsed;
- the guarantee period ends `guarantee_months` after maturity and is never extended
  (民法典 692); a signed demand to the guarantor sent within it (maturity .. end)
  meets the deadline: from then on the fact is its "nothing pending" value, as it is
  for a loan whose guarantor fact (the `requires` of `notify guarantor`) is false on
  the loans file (events do not change this);
- the value is the last day minus the day: 0 on the last day, negative after it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import attrs
import numpy as np

from engine.simulation.history import LoanHistory
from policylang.schema_model import FactDef, FactType, Schema

DEADLINE_FACTS = ("days_to_limitation", "days_to_guarantee_end")
# The loans-file facts that set the periods; without them in the schema the law's
# durations apply (民法典 188: three years; 692: six months), named here, not hidden.
PERIOD_FACTS = ("limitation_years", "guarantee_months")
LAW_LIMITATION_YEARS = 3
LAW_GUARANTEE_MONTHS = 6
GUARANTOR = "guarantor"     # the catalogue target whose signed demand meets the guarantee
NOTHING_PENDING = 100000    # the value with no deadline, when the fact has no default
LIMITATION, GUARANTEE = 1, 2     # what a decision's actions do: bits of `kinds`
_NONE = np.iinfo(np.int64).max // 4      # "no guarantee deadline" in DeadlineArrays


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day (民法典 202)."""
    year, month = divmod(day.month - 1 + months, 12)
    last = calendar.monthrange(day.year + year, month + 1)[1]
    return date(day.year + year, month + 1, min(day.day, last))


@attrs.frozen(slots=True)
class DeadlinePlan:
    """What a replay needs to derive the deadline facts, decided once per schema."""

    names: tuple[str, ...]                          # deadline facts the schema declares
    demands: dict[tuple[str, str, str | None], int]  # action -> LIMITATION or GUARANTEE
    guarantor_fact: str | None                      # bool fact: the loan has a guarantor
    years: int                                      # defaults of the two periods
    months: int
    pending: dict[str, int]                         # per fact: its "nothing pending" value

    @classmethod
    def of(cls, schema: Schema) -> DeadlinePlan | None:
        """None when the schema declares neither deadline fact."""
        names = tuple(name for name in DEADLINE_FACTS if name in schema.facts)
        if not names:
            return None
        demands: dict[tuple[str, str, str | None], int] = {}
        guarantor_fact = None
        for action in schema.actions.values():
            for target, templates in action.signed_demand.items():
                kind = GUARANTEE if target == GUARANTOR else LIMITATION
                demands.update(((action.verb, target, t), kind) for t in templates)
                if kind == GUARANTEE:
                    guarantor_fact = action.requires.get(target, guarantor_fact)
        facts = schema.facts
        return cls(names, demands, guarantor_fact,
                   _period(facts.get(PERIOD_FACTS[0]), LAW_LIMITATION_YEARS),
                   _period(facts.get(PERIOD_FACTS[1]), LAW_GUARANTEE_MONTHS),
                   {name: _pending(facts[name]) for name in names})

    def kind(self, actions: Iterable[tuple[str, str, str | None]]) -> int:
        """LIMITATION | GUARANTEE bits for the qualifying demands among `actions`."""
        bits = 0
        for key in actions:
            bits |= self.demands.get(key, 0)
        return bits

    def loan(self, loan: LoanHistory) -> LoanDeadlines:
        return LoanDeadlines(self, loan)


def _period(fact: FactDef | None, law: int) -> int:
    if fact is None or not fact.has_default:
        return law
    return int(fact.default)                        # type: ignore[arg-type]


def _pending(fact: FactDef) -> int:
    if fact.has_default and fact.type in (FactType.DAYS, FactType.INT):
        return int(fact.default)                    # type: ignore[arg-type]
    return int(fact.maximum) if fact.maximum is not None else NOTHING_PENDING


def maturity(loan: LoanHistory) -> date:
    """The last due date of an instalment with something due (the origination if none)."""
    return max((i.due_date for i in loan.installments if i.amount_due > 0),
               default=loan.origination_date)


def loan_periods(plan: DeadlinePlan, loan: LoanHistory) -> tuple[int, int, bool]:
    """(limitation years, guarantee months, has a guarantee deadline) of one loan."""
    years = loan.static.get(PERIOD_FACTS[0], plan.years)
    months = loan.static.get(PERIOD_FACTS[1], plan.months)
    guaranteed = plan.guarantor_fact is None or loan.static.get(plan.guarantor_fact) is True
    return int(years), int(months), guaranteed


class LoanDeadlines:
    """The deadlines of one loan in the row engine; day numbers are ordinals."""

    __slots__ = ("_guarantee_end", "_limitation_end", "_matures", "_plan", "_years")

    def __init__(self, plan: DeadlinePlan, loan: LoanHistory) -> None:
        self._plan = plan
        matures = maturity(loan)
        years, months, guaranteed = loan_periods(plan, loan)
        self._years, self._matures = years, matures.toordinal()
        self._limitation_end = add_months(matures, 12 * years).toordinal()
        self._guarantee_end = add_months(matures, months).toordinal() if guaranteed else None

    @property
    def matures(self) -> date:
        return date.fromordinal(self._matures)

    @property
    def limitation_end(self) -> date:
        """The last day of the limitation period as it stands."""
        return date.fromordinal(self._limitation_end)

    @property
    def guarantee_end(self) -> date | None:
        """The last day of the guarantee period; None when met or there is none."""
        return None if self._guarantee_end is None else date.fromordinal(self._guarantee_end)

    def values(self, day: int) -> dict[str, int]:
        """The deadline facts of `day`, unclamped."""
        out = {"days_to_limitation": self._limitation_end - day,
               "days_to_guarantee_end": (self._plan.pending["days_to_guarantee_end"]
                                         if self._guarantee_end is None
                                         else self._guarantee_end - day)}
        if len(self._plan.names) < len(DEADLINE_FACTS):
            return {name: out[name] for name in self._plan.names}
        return out

    def record(self, day: int, kind: int) -> None:
        """The qualifying demands (`DeadlinePlan.kind`) sent on `day`."""
        if kind & LIMITATION and day <= self._limitation_end:
            restarted = add_months(date.fromordinal(day), 12 * self._years).toordinal()
            self._limitation_end = max(self._limitation_end, restarted)
        end = self._guarantee_end
        if kind & GUARANTEE and end is not None and self._matures <= day <= end:
            self._guarantee_end = None


class DeadlineArrays:
    """The deadlines of a chunk of loans in the columnar engine (`LoanDeadlines` as
    arrays); `record` takes each row's decision number and the replay's decisions."""

    def __init__(self, plan: DeadlinePlan, loans: Sequence[LoanHistory]) -> None:
        self.plan = plan
        size = len(loans)
        periods = [loan_periods(plan, loan) for loan in loans]
        matures = [maturity(loan) for loan in loans]
        self.years = np.fromiter((p[0] for p in periods), dtype=np.int64, count=size)
        self.matures = np.fromiter((m.toordinal() for m in matures), dtype=np.int64,
                                   count=size)
        self.limitation_end = np.fromiter(
            (add_months(m, 12 * p[0]).toordinal() for m, p in zip(matures, periods,
                                                                  strict=True)),
            dtype=np.int64, count=size)
        self.guarantee_end = np.fromiter(
            (add_months(m, p[1]).toordinal() if p[2] else _NONE
             for m, p in zip(matures, periods, strict=True)), dtype=np.int64, count=size)
        self.kinds: list[int] = []              # per decision number

    def columns(self, day: int, rows: np.ndarray | None) -> dict[str, np.ndarray]:
        """The declared deadline facts of `day` for `rows` (None: all), unclamped."""
        take = (lambda a: a) if rows is None else (lambda a: a[rows])
        out: dict[str, np.ndarray] = {}
        if "days_to_limitation" in self.plan.names:
            out["days_to_limitation"] = take(self.limitation_end) - day
        if "days_to_guarantee_end" in self.plan.names:
            end = take(self.guarantee_end)
            out["days_to_guarantee_end"] = np.where(
                end == _NONE, self.plan.pending["days_to_guarantee_end"], end - day)
        return out

    def record(self, day: int, rows: np.ndarray, which: np.ndarray,
               decisions: Sequence[Any]) -> None:
        """The decisions of `day`: loan rows[i] got decisions[which[i]]."""
        kinds = self.kinds
        while len(kinds) < len(decisions):
            actions = decisions[len(kinds)].actions
            kinds.append(self.plan.kind((a.verb, a.target, a.using) for a in actions))
        if not any(kinds):
            return
        kind = np.asarray(kinds, dtype=np.int64)[which]
        self._restart(day, rows[(kind & LIMITATION) != 0])
        met = rows[(kind & GUARANTEE) != 0]
        end = self.guarantee_end[met]
        met = met[(end != _NONE) & (self.matures[met] <= day) & (day <= end)]
        self.guarantee_end[met] = _NONE

    def _restart(self, day: int, rows: np.ndarray) -> None:
        rows = rows[day <= self.limitation_end[rows]]
        if not rows.size:
            return
        sent = date.fromordinal(day)
        years = self.years[rows]
        for count in np.unique(years).tolist():
            hit = rows[years == count]
            restarted = add_months(sent, 12 * count).toordinal()
            self.limitation_end[hit] = np.maximum(self.limitation_end[hit], restarted)
