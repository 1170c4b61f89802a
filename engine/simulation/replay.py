"""Replay a policy over historic loans, day by day: the row engine, and the result
both engines produce.

Every loan is walked from its origination (so history facts such as
`days_since_letter` are right on the first day reported) to the day it is repaid or
the end date; days before `start` are evaluated but not reported. Each day's actions
feed the next day's history facts. The result is ordered by loan (the loans file's
order), then date, then the decision's own order, whatever the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

import attrs

from engine.api import CompiledPolicy
from engine.decision import Action
from engine.simulation.history import LoanHistory, Portfolio
from engine.simulation.loanday import FactPlan, LoanCursor, last_date


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


def action_keys(actions: Sequence[Action]) -> list[tuple[str, str, str | None]]:
    return [(a.verb, a.target, a.using) for a in actions]


def replay_loan(policy: CompiledPolicy, loan: LoanHistory, plan: FactPlan, window: Window, *,
                end: date, params: Mapping[str, Any] | None) -> list[LoanDay]:
    """The reported days of one loan, evaluated one by one with the compiled policy."""
    cursor = LoanCursor(loan, plan, end)
    start = window.start
    days: list[LoanDay] = []
    # evaluate() without its per-call work: params bound once per loan, and the action
    # keys of each (shared, memoised) decision worked out once.
    # The facts are already in engine form and inside their domains (the reader converted
    # and checked them, the ledger clamps, history facts are capped), so they are read
    # straight into the value list; a fact still missing goes through full validation,
    # which raises the FactsError `evaluate` would.
    tail = (*policy.binder.bind(params), *policy.program.let_blank)
    coerce, decide = policy.validator.coerce, policy.decide
    values = itemgetter(*(fact.name for fact in policy.validator.order))
    keys: dict[int, list[tuple[str, str, str | None]]] = {}
    for day, facts in cursor:
        try:
            env = list(values(facts))
        except KeyError:
            env = coerce(facts)
        env += tail
        decision = decide(env)
        fed = keys.get(id(decision))
        if fed is None:
            fed = keys[id(decision)] = action_keys(decision.actions)
        cursor.record(day, fed)
        if start is None or day >= start:
            days.append(LoanDay(loan.loan_id, day, facts.get("overdue", 0), decision.actions))
    return days


def replay_rows(policy: CompiledPolicy, portfolio: Portfolio, window: Window = ALL_DAYS,
                params: Mapping[str, Any] | None = None,
                progress: Callable[[int], None] | None = None) -> ReplayResult:
    """The row engine: each loan on its own, day after day."""
    end = window.resolved_end(portfolio)
    plan = FactPlan.of(policy.schema)
    days: list[LoanDay] = []
    if end is not None:
        for loan in portfolio:
            days.extend(replay_loan(policy, loan, plan, window, end=end, params=params))
            if progress is not None:
                progress(1)
    return ReplayResult(policy, "row", window, end, len(portfolio), tuple(days))
