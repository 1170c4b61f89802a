"""The facts of one loan on one day of a replay: static facts, events, ledger, history.

Both replay engines (row and columnar) walk loans through these cursors, so the two
can differ only in how they evaluate the policy, never in the facts they evaluate it
on. Order of precedence on day D: the loans file (or the schema default), then every
event dated D or earlier in date order, then the ledger facts the schema declares,
then the history facts from the replay's own actions before D.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import attrs

from engine.simulation.history import LoanHistory
from engine.simulation.history_facts import (
    FAR_AWAY,
    HistoryFact,
    LoanHistoryState,
    history_facts,
)
from engine.simulation.ledger import LEDGER_FACTS, LoanLedger
from policylang.schema_model import FactDef, FactType, Schema


@attrs.frozen(slots=True)
class FactPlan:
    """What a replay derives, decided once per schema."""

    ledger_names: tuple[str, ...]                  # ledger facts the schema declares
    ledger: tuple[tuple[str, Any, Any], ...]        # (fact, minimum, maximum) of numeric ones
    history: tuple[HistoryFact, ...]
    due_in_default: int
    days_since_payment_default: int
    # Which history facts each action feeds, filled as actions are seen (shared).
    fed_by: dict[tuple[str, str, str | None], tuple[int, ...]] = attrs.field(
        factory=dict, eq=False)

    @classmethod
    def of(cls, schema: Schema) -> FactPlan:
        facts = schema.facts
        declared = tuple(name for name in LEDGER_FACTS if name in facts)
        bounded = tuple((name, facts[name].minimum, facts[name].maximum) for name in declared
                        if facts[name].type is not FactType.BOOL)
        return cls(declared, bounded, history_facts(schema),
                   _quiet_default(facts.get("due_in")),
                   _quiet_default(facts.get("days_since_payment")))


def _quiet_default(fact: FactDef | None) -> int:
    """The value of a day count with nothing to count: the fact's default, else its
    maximum (the schema's "as far away as can be said"), else 100000."""
    if fact is None or fact.type not in (FactType.DAYS, FactType.INT):
        return FAR_AWAY
    if fact.has_default:
        return int(fact.default)                     # type: ignore[arg-type]
    return int(fact.maximum) if fact.maximum is not None else FAR_AWAY


class LoanCursor:
    """One loan walked forward from its origination, one day at a time."""

    __slots__ = ("_days", "_event_at", "_facts", "_history", "_plan", "loan")

    def __init__(self, loan: LoanHistory, plan: FactPlan, end: date) -> None:
        self.loan = loan
        self._plan = plan
        ledger = LoanLedger(loan, due_in_default=plan.due_in_default,
                            days_since_payment_default=plan.days_since_payment_default)
        self._days = ledger.days(loan.origination_date, end)
        self._facts: dict[str, Any] = dict(loan.static)
        self._event_at = 0
        self._history = LoanHistoryState(plan.history, plan.fed_by)

    def __iter__(self) -> Iterator[tuple[date, dict[str, Any]]]:
        return self

    def __next__(self) -> tuple[date, dict[str, Any]]:
        """The next day and its complete facts; StopIteration once the loan is repaid
        or the end date is passed."""
        day, ledger = next(self._days)
        events = self.loan.events
        while self._event_at < len(events) and events[self._event_at].date <= day:
            event = events[self._event_at]
            self._facts[event.fact] = event.value
            self._event_at += 1
        facts = dict(self._facts)
        for name in self._plan.ledger_names:
            facts[name] = ledger[name]
        for name, low, high in self._plan.ledger:
            value = ledger[name]
            if (high is not None and value > high) or (low is not None and value < low):
                facts[name] = _clamped(value, low, high)
        facts.update(self._history.facts(day.toordinal()))
        return day, facts

    def record(self, day: date, actions: Iterable[tuple[str, str, str | None]]) -> None:
        """The actions the policy took on `day`, for tomorrow's history facts."""
        self._history.record(day.toordinal(), actions)


def _clamped(value: Any, low: Any, high: Any) -> Any:
    """Ledger values are kept inside the fact's domain: a next instalment 400 days away
    is "366 or more" to a schema whose `due_in` stops at 366."""
    if isinstance(value, bool):
        return value
    if high is not None and value > high:
        return type(value)(high)
    if low is not None and value < low:
        return type(value)(low)
    return value


def last_date(loans: Iterable[LoanHistory]) -> date | None:
    """The end of a replay given no `--to`: the last day the input records something
    happening (a payment or an event). Due dates after it are a schedule, not history:
    replaying them would show loans falling behind only because the data stops. With
    no payment or event at all, the last due date."""
    observed: date | None = None
    scheduled: date | None = None
    for loan in loans:
        seen = [p.date for p in loan.payments[-1:]] + [e.date for e in loan.events[-1:]]
        seen += [i.paid_date for i in loan.installments if i.paid_date is not None]
        if seen:
            latest = max(seen)
            observed = latest if observed is None or latest > observed else observed
        planned = max([loan.origination_date] + [i.due_date for i in loan.installments])
        scheduled = planned if scheduled is None or planned > scheduled else scheduled
    return observed if observed is not None else scheduled


def static_facts(loan: LoanHistory) -> Mapping[str, Any]:
    """The facts the loans file gave (with defaults), before any event."""
    return loan.static
