"""Replay a policy over historic loans, day by day: the row engine, and the result
both engines produce.

Every loan is walked from its origination (so history facts such as
`days_since_letter` are right on the first day reported) to the day it is repaid or
the end date; days before `start` are evaluated but not reported. Each day's actions
feed the next day's history facts. The result is ordered by loan (the loans file's
order), then date, then the decision's own order, whatever the engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import attrs

from engine.api import CompiledPolicy
from engine.decision import Action, Decision, SuppressedAction
from engine.simulation.history import LoanHistory, Portfolio
from engine.simulation.loanday import FactPlan, LoanCursor, ValueSlots, last_date


@attrs.frozen(slots=True)
class Window:
    """The days reported: `start` to `end` inclusive (None: from each origination, to
    the latest date in the input)."""

    start: date | None = None
    end: date | None = None

    def resolved_end(self, portfolio: Portfolio) -> date | None:
        return self.end if self.end is not None else last_date(portfolio)


ALL_DAYS = Window()


@attrs.frozen(slots=True)
class LoanDay:
    """One evaluated loan-day: what the policy decided for this loan on this day."""

    loan_id: str
    day: date
    overdue: int
    actions: tuple[Action, ...]
    # What `suppress` removed that day (the report counts the guards'); not compared:
    # the Spark engine does not carry it.
    suppressed: tuple[SuppressedAction, ...] = attrs.field(default=(), eq=False)


@attrs.frozen
class ReplayResult:
    """Every reported loan-day of every loan, in output order."""

    policy: CompiledPolicy
    engine: str
    window: Window
    end: date | None
    loans: int
    days: tuple[LoanDay, ...]

    def by_loan(self) -> Iterator[tuple[str, list[LoanDay]]]:
        """The loan-days grouped by loan, in output order."""
        current: str | None = None
        group: list[LoanDay] = []
        for loan_day in self.days:
            if loan_day.loan_id != current and group:
                yield current, group            # type: ignore[misc]
                group = []
            current = loan_day.loan_id
            group.append(loan_day)
        if group:
            yield current, group                # type: ignore[misc]


# What a decision's actions feed, by the decision's id (the decision is kept with it,
# so the id cannot be reused): see LoanCursor.fed.
Fed = dict[int, tuple[Decision, tuple[int, ...]]]
FED_LIMIT = 4096            # decisions beyond the policy's memo are new objects every day


def action_keys(actions: Sequence[Action]) -> list[tuple[str, str, str | None]]:
    return [(a.verb, a.target, a.using) for a in actions]


def replay_loan(policy: CompiledPolicy, loan: LoanHistory, plan: FactPlan, window: Window, *,
                end: date, params: Mapping[str, Any] | None,
                where: ValueSlots | None = None, fed: Fed | None = None,
                kept_facts: dict[date, Mapping[str, Any]] | None = None) -> list[LoanDay]:
    """The reported days of one loan, evaluated one by one with the compiled policy.
    `where` and `fed` may be shared by every loan of a replay (see replay_rows). For
    each day that is a key of `kept_facts`, its value is set to the day's facts (the
    notices of a replay show them)."""
    cursor = LoanCursor(loan, plan, end)
    start = window.start
    days: list[LoanDay] = []
    # evaluate() without its per-call work: params bound once per loan, and what the
    # actions of each (shared, memoised) decision feed worked out once.
    # The facts are already in engine form and inside their domains (the reader converted
    # and checked them, the ledger clamps, history facts are capped), so the cursor
    # writes them straight into the value list; on a day a fact is still missing, the
    # day's facts go through full validation, which raises the FactsError `evaluate` would.
    tail = (*policy.binder.bind(params), *policy.program.let_blank)
    if where is None:
        where = plan.slots(policy.validator.names)
    fed = {} if fed is None else fed
    coerce, decide, record, overdue = policy.validator.coerce, policy.decide, \
        cursor.record_fed, where.overdue
    loan_id, after = loan.loan_id, start is None
    for day, env, facts in cursor.values(where, tail):
        decision = decide(env if facts is None else coerce(facts) + list(tail))
        seen = fed.get(id(decision))
        if seen is None:
            seen = (decision, cursor.fed(action_keys(decision.actions)))
            if len(fed) < FED_LIMIT:      # kept with its decision, so the id is not reused
                fed[id(decision)] = seen
        if seen[1]:
            record(day, seen[1])
        if after or day >= start:                       # type: ignore[operator]
            after = True
            if kept_facts and day in kept_facts:    # a snapshot: `env` is reused tomorrow
                kept_facts[day] = dict(facts) if facts is not None else dict(
                    zip(where.names, env, strict=False))
            if facts is None and overdue is not None:
                days.append(LoanDay(loan_id, day, env[overdue], decision.actions,
                                    decision.suppressed))
            else:
                days.append(LoanDay(loan_id, day, _overdue(facts, cursor), decision.actions,
                                    decision.suppressed))
    return days


def _overdue(facts: Mapping[str, Any] | None, cursor: LoanCursor) -> Any:
    """The day's `overdue` fact, 0 when there is none, given the day's facts or, when
    the schema has no `overdue` fact, the cursor (the loans file and events)."""
    return (facts if facts is not None else cursor).get("overdue", 0)


def replay_rows(policy: CompiledPolicy, portfolio: Portfolio, window: Window = ALL_DAYS,
                params: Mapping[str, Any] | None = None) -> ReplayResult:
    """The row engine: each loan on its own, day after day."""
    end = window.resolved_end(portfolio)
    plan = FactPlan.of(policy.schema)
    where, fed = plan.slots(policy.validator.names), {}
    days: list[LoanDay] = []
    if end is not None:
        for loan in portfolio:
            days.extend(replay_loan(policy, loan, plan, window, end=end, params=params,
                                    where=where, fed=fed))
    return ReplayResult(policy, "row", window, end, len(portfolio), tuple(days))
