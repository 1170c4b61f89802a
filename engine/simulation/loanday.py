"""The facts of one loan on one day of a replay: static facts, events, ledger, history.

Both replay engines (row and columnar) walk loans through these cursors, so the two
can differ only in how they evaluate the policy, never in the facts they evaluate it
on. Order of precedence on day D: the loans file (or the schema default), then every
event dated D or earlier in date order, then the ledger facts the schema declares,
then the history facts from the replay's own actions before D.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import attrs

from engine.simulation.deadlines import DeadlinePlan
from engine.simulation.history import LoanHistory
from engine.simulation.history_facts import (
    FAR_AWAY,
    HistoryFact,
    HistorySlots,
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
    deadlines: DeadlinePlan | None = None           # days_to_limitation, ... (deadlines.py)
    # Which history facts each action feeds, filled as actions are seen (shared).
    fed_by: dict[tuple[str, str, str | None], tuple[int, ...]] = attrs.field(
        factory=dict, eq=False)

    @classmethod
    def of(cls, schema: Schema) -> FactPlan:
        facts = schema.facts
        declared = tuple(name for name in LEDGER_FACTS if name in facts)
        deadlines = DeadlinePlan.of(schema)
        numeric = declared + (deadlines.names if deadlines is not None else ())
        bounded = tuple((name, facts[name].minimum, facts[name].maximum) for name in numeric
                        if facts[name].type is not FactType.BOOL)
        return cls(declared, bounded, history_facts(schema),
                   _quiet_default(facts.get("due_in")),
                   _quiet_default(facts.get("days_since_payment")), deadlines)

    @property
    def deadline_names(self) -> tuple[str, ...]:
        return self.deadlines.names if self.deadlines is not None else ()

    def slots(self, names: tuple[str, ...]) -> ValueSlots:
        """Where each fact goes in a value list holding the facts `names` (every fact
        of the schema, in the validator's order)."""
        index = {name: slot for slot, name in enumerate(names)}
        # The ledger facts not declared, or declared as history facts (history comes
        # last, so wins), are written to the list's last slot, a scratch one.
        historic = {fact.name for fact in self.history}
        ledger_names = set(self.ledger_names) - historic
        ledger = tuple(index[name] if name in ledger_names else -1 for name in LEDGER_FACTS)
        deadline = tuple(index[name] if name not in historic else -1
                         for name in self.deadline_names)
        bounded = tuple((index[name], low, high) for name, low, high in self.ledger
                        if name in ledger_names or (name in self.deadline_names
                                                    and name not in historic))
        history = HistorySlots.of(self.history, tuple(index[f.name] for f in self.history))
        derived = {index[name]: name for name in (*self.ledger_names, *self.deadline_names)}
        derived.update((index[fact.name], fact.name) for fact in self.history)
        return ValueSlots(
            names=names, index=index, ledger=ledger,
            both=tuple(b for b in bounded if b[1] is not None and b[2] is not None),
            either=tuple(b for b in bounded if b[1] is None or b[2] is None),
            history=history, derived=tuple(derived.items()), overdue=index.get("overdue"),
            deadline=deadline)


@attrs.frozen(slots=True)
class ValueSlots:
    """A FactPlan laid over one value list: the slot of every fact. The list is the
    facts in `names` order, then the params and lets, then one scratch slot (-1)."""

    names: tuple[str, ...]
    index: dict[str, int]
    ledger: tuple[int, ...]                         # per LEDGER_FACTS; scratch if undeclared
    both: tuple[tuple[int, Any, Any], ...]          # bounded ledger slots: (slot, low, high)
    either: tuple[tuple[int, Any, Any], ...]        # ... with one bound None
    history: HistorySlots
    derived: tuple[tuple[int, str], ...]            # slots the ledger and history write
    overdue: int | None
    deadline: tuple[int, ...] = ()                  # per FactPlan.deadline_names


def _quiet_default(fact: FactDef | None) -> int:
    """The value of a day count with nothing to count: the fact's default, else its
    maximum (the schema's "as far away as can be said"), else 100000."""
    if fact is None or fact.type not in (FactType.DAYS, FactType.INT):
        return FAR_AWAY
    if fact.has_default:
        return int(fact.default)                     # type: ignore[arg-type]
    return int(fact.maximum) if fact.maximum is not None else FAR_AWAY


_MISSING = object()         # a fact neither the loans file nor an event has given yet


class LoanCursor:
    """One loan walked forward from its origination, one day at a time."""

    __slots__ = ("_days", "_deadlines", "_end", "_event_at", "_facts", "_history", "_ledger",
                 "_plan", "loan")

    def __init__(self, loan: LoanHistory, plan: FactPlan, end: date) -> None:
        self.loan = loan
        self._plan = plan
        ledger = LoanLedger(loan, due_in_default=plan.due_in_default,
                            days_since_payment_default=plan.days_since_payment_default)
        self._ledger, self._end = ledger, end
        self._days = ledger.days(loan.origination_date, end)
        self._facts: dict[str, Any] = dict(loan.static)
        self._event_at = 0
        self._history = LoanHistoryState(plan.history, plan.fed_by)
        self._deadlines = plan.deadlines.loan(loan) if plan.deadlines is not None else None

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
        if self._deadlines is not None:
            facts.update(self._deadlines.values(day.toordinal()))
        for name, low, high in self._plan.ledger:
            value = facts[name]
            if (high is not None and value > high) or (low is not None and value < low):
                facts[name] = _clamped(value, low, high)
        facts.update(self._history.facts(day.toordinal()))
        return day, facts

    def record(self, day: date, actions: Iterable[tuple[str, str, str | None]]) -> None:
        """The actions the policy took on `day`, for tomorrow's history facts."""
        self.record_fed(day, self.fed(actions))

    def get(self, name: str, default: Any) -> Any:
        """A fact from the loans file or an event seen so far (not ledger or history)."""
        return self._facts.get(name, default)

    def fed(self, actions: Iterable[tuple[str, str, str | None]]) -> tuple[int, ...]:
        """What `actions` feed, for `record_fed` (the same for every day and loan): the
        history facts' indices, then -kind for a qualifying demand (deadlines.py)."""
        actions = list(actions)
        fed = self._history.fed(actions)
        kind = self._plan.deadlines.kind(actions) if self._plan.deadlines is not None else 0
        return (*fed, -kind) if kind else fed

    def record_fed(self, day: date, indices: tuple[int, ...]) -> None:
        """`record` given what `fed` returned for the day's actions."""
        if indices and indices[-1] < 0:
            if self._deadlines is not None:
                self._deadlines.record(day.toordinal(), -indices[-1])
            indices = indices[:-1]
        self._history.record_fed(day.toordinal(), indices)

    def values(self, where: ValueSlots, tail: tuple[Any, ...]
               ) -> Iterator[tuple[date, list[Any], dict[str, Any] | None]]:
        """The days as value lists instead of dicts (use either this or the iterator):
        each day, one list (the same list every day: facts in `where.names` order,
        `tail`, the params and blank lets, reset each day, then a scratch slot), or the
        day's facts dict instead when a fact is missing, for the caller to validate.
        The same facts as `__next__`, in the same order of precedence."""
        width = len(where.names)
        env: list[Any] = [self._facts.get(name, _MISSING) for name in where.names]
        derived = dict(where.derived)
        for slot in derived:
            env[slot] = None
        missing = env.count(_MISSING)
        env += tail
        env.append(None)                                  # the scratch slot
        index, events, at = where.index, self.loan.events, self._event_at
        following = events[at].date if at < len(events) else None
        both, either = where.both, where.either
        history, slots = self._history, where.history
        deadlines, deadline_slots = self._deadlines, where.deadline
        for day in self._ledger.fill(self.loan.origination_date, self._end, env, where.ledger):
            if deadlines is not None:
                for slot, value in zip(deadline_slots,
                                       deadlines.values(day.toordinal()).values(), strict=True):
                    env[slot] = value
            if following is not None and following <= day:
                while at < len(events) and events[at].date <= day:
                    event = events[at]
                    self._facts[event.fact] = event.value
                    slot = index.get(event.fact)
                    if slot is not None and slot not in derived:
                        missing -= env[slot] is _MISSING
                        env[slot] = event.value
                    at += 1
                following = events[at].date if at < len(events) else None
            for slot, low, high in both:
                value = env[slot]
                if not low <= value <= high:
                    env[slot] = _clamped(value, low, high)
            for slot, low, high in either:
                value = env[slot]
                if (high is not None and value > high) or (low is not None and value < low):
                    env[slot] = _clamped(value, low, high)
            history.fill(day.toordinal(), env, slots)
            env[width:-1] = tail                           # blank lets
            if missing:
                facts = dict(self._facts)
                facts.update((name, env[slot]) for slot, name in where.derived)
                yield day, env, facts
            else:
                yield day, env, None


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
