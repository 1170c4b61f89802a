"""The facts a loan's history gives, as arrays over a chunk of loans, day by day: those
of the input files (`GivenColumns`: the loans file, then events from their date on) and
the history facts fed by the replay's own actions (`HistoryArrays`). The ledger's are
in `ledger_arrays.py`.

Stage: inside the vectorised replay (`fastreplay.py`), between two days' decisions.
Input: a chunk of `LoanHistory` records and the schema; per day, the rows (loans)
decided and, per row, the number of the decision it got.
Output: per day, each fact's column in the vector form `engine.vectorize` reads.
Must not: differ from `LoanCursor` / `LoanHistoryState` on any loan-day, or validate
values again (`history.read_history` converted and checked them). History facts: the
value on day D counts actions of days before D only, so `record(D, ...)` always follows
`columns(D, ...)`:

- `days_since`: the last day a matching action was taken (NEVER before any); the value
  is D minus it, capped at the fact's maximum, or the fact's default when NEVER.
- `ever`: a bool per loan, set once and never cleared.
- `count ... within N days`: a ring of N per-day counts per loan (slot = day mod N),
  and their running sum, which is exactly the count of days D-N .. D-1 because a loan
  records every day it is evaluated (days are consecutive for a loan, from its
  origination). Each matching action of a decision counts once, as in the row engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from engine.decision import Action
from engine.simulation.history import LoanHistory
from engine.simulation.history_facts import HistoryFact
from engine.simulation.ledger_arrays import TooBig, places, units_of
from engine.vectorize import Num
from policylang.schema_model import FactDef, FactType

NEVER = np.iinfo(np.int64).min // 4      # a "last day" before any real day
WHOLE = (FactType.INT, FactType.DAYS)
EXACT = (FactType.DECIMAL, FactType.MONEY)


class HistoryArrays:
    """The history state of `size` loans (rows of a chunk), all starting empty."""

    def __init__(self, facts: tuple[HistoryFact, ...], size: int) -> None:
        self.facts = facts
        self.size = size
        self.last = {f.name: np.full(size, NEVER, dtype=np.int64)
                     for f in facts if f.spec.kind == "days_since"}
        self.ever = {f.name: np.zeros(size, dtype=bool) for f in facts if f.spec.kind == "ever"}
        self.rings = {f.name: np.zeros((_within(f), size), dtype=np.int32)
                      for f in facts if f.spec.kind == "count" and _within(f)}
        self.sums = {name: np.zeros(size, dtype=np.int64) for name in self.rings}

    def columns(self, day: int, rows: np.ndarray | None) -> dict[str, Any]:
        """Each history fact on `day` for `rows` (None: every loan of the chunk): int64
        arrays for day counts and counts, bool arrays for `ever`."""
        out: dict[str, Any] = {}
        for fact in self.facts:
            kind = fact.spec.kind
            if kind == "days_since":
                out[fact.name] = _days_since(fact, _take(self.last[fact.name], rows), day)
            elif kind == "ever":
                out[fact.name] = _take(self.ever[fact.name], rows)
            elif fact.name in self.sums:
                out[fact.name] = _capped(_take(self.sums[fact.name], rows), fact.maximum)
            else:                               # within 0 days: nothing is ever inside
                out[fact.name] = np.zeros(self.size if rows is None else len(rows),
                                          dtype=np.int64)
        return out

    def record(self, day: int, rows: np.ndarray, which: np.ndarray, feeds: FeedTable) -> None:
        """The decisions of `day`: loan rows[i] got decision number which[i]; `feeds`
        says, per decision number, how many of its actions match each fact."""
        for fact in self.facts:
            counts = feeds.counts(fact.name)
            name, kind = fact.name, fact.spec.kind
            if kind == "count":
                if name in self.rings:
                    self._count(name, day, rows, counts[which])
                continue
            hit = rows[counts[which] > 0] if counts.any() else rows[:0]
            if kind == "days_since":
                self.last[name][hit] = day
            else:
                self.ever[name][hit] = True

    def _count(self, name: str, day: int, rows: np.ndarray, added: np.ndarray) -> None:
        """Day `day` takes the ring slot of day `day - N`, which leaves the window."""
        ring, total = self.rings[name], self.sums[name]
        slot = ring[day % len(ring)]
        total -= slot
        slot[:] = 0
        slot[rows] = added
        total += slot


class FeedTable:
    """For every decision seen so far (by its global number), how many of its actions
    match each history fact. Decisions are few (tens to thousands per replay), so the
    table is small and grows as new ones appear."""

    def __init__(self, facts: tuple[HistoryFact, ...]) -> None:
        self.facts = facts
        self.size = 0
        self._table = np.zeros((len(facts), 16), dtype=np.int64)   # grows by doubling
        self._index = {fact.name: i for i, fact in enumerate(facts)}
        self._memo: dict[tuple[str, str, str | None], tuple[int, ...]] = {}

    def add(self, actions: tuple[Action, ...]) -> None:
        """The next decision's actions (its number is the count added before it)."""
        if self.size == self._table.shape[1]:
            self._table = np.concatenate([self._table, np.zeros_like(self._table)], axis=1)
        column = self._table[:, self.size]
        for action in actions:
            key = (action.verb, action.target, action.using)
            fed = self._memo.get(key)
            if fed is None:
                fed = self._memo[key] = tuple(
                    i for i, fact in enumerate(self.facts) if fact.matches(*key))
            for index in fed:
                column[index] += 1
        self.size += 1

    def counts(self, name: str) -> np.ndarray:
        """Matching actions per decision number (a view; beyond `size`: zeros)."""
        return self._table[self._index[name]]


def _within(fact: HistoryFact) -> int:
    return int(fact.spec.within_days or 0)


def _take(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _days_since(fact: HistoryFact, last: np.ndarray, day: int) -> np.ndarray:
    gap = _capped(day - last, fact.maximum)         # NEVER gives a huge gap: replaced
    return np.where(last == NEVER, np.int64(int(fact.default)), gap)  # type: ignore[arg-type]


def _capped(values: np.ndarray, maximum: Any) -> np.ndarray:
    return values if maximum is None else np.minimum(values, int(maximum))


# -- the input files' facts ------------------------------------------------------------

class GivenColumns:
    """The facts the loans file gives (with defaults), changed by events from their date on
    (the event's effective day is max(date, origination), as a cursor applies it)."""

    def __init__(self, facts: Sequence[FactDef], loans: Sequence[LoanHistory],
                 codes: Mapping[str, int], end: int) -> None:
        self.facts = {f.name: f for f in facts}
        self.codes = codes
        self.columns: dict[str, np.ndarray] = {}
        self.scales: dict[str, int] = {}
        self.bounds: dict[str, int] = {}
        self.events: dict[str, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        changes: dict[str, dict[tuple[int, int], Any]] = {name: {} for name in self.facts}
        for row, loan in enumerate(loans):
            start = loan.origination_date.toordinal()
            for event in loan.events:                   # the last event of a loan-day wins
                day = max(event.date.toordinal(), start)
                if day <= end and event.fact in changes:
                    changes[event.fact][day, row] = event.value
        for name, fact in self.facts.items():
            self._build(fact, loans, changes[name])

    def _build(self, fact: FactDef, loans: Sequence[LoanHistory],
               changes: dict[tuple[int, int], Any]) -> None:
        name = fact.name
        placeholder = fact.default if fact.has_default else _placeholder(fact)
        first = [loan.static.get(name, placeholder) for loan in loans]
        scale = 0
        if fact.type in EXACT:
            scale = max(map(places, {*first, *changes.values()}))
            self.scales[name] = scale
        encode = self._encoder(fact, scale)
        column = encode(first)
        self.columns[name] = column
        by_day: dict[int, tuple[list[int], list[Any]]] = {}
        for (day, row), value in sorted(changes.items()):
            rows, values = by_day.setdefault(day, ([], []))
            rows.append(row)
            values.append(value)
        self.events[name] = [(day, np.array(rows, dtype=np.intp), encode(values))
                             for day, (rows, values) in sorted(by_day.items(), reverse=True)]
        if fact.type in WHOLE or fact.type in EXACT:
            everything = np.concatenate([column, *(v for _, _, v in self.events[name])])
            self.bounds[name] = max(-int(everything.min()), int(everything.max()), 0) \
                if everything.size else 0

    def _encoder(self, fact: FactDef, scale: int) -> Callable[[list[Any]], np.ndarray]:
        if fact.type is FactType.BOOL:
            return lambda values: np.array(values, dtype=bool)
        if fact.type in WHOLE:
            return lambda values: _int64(list(values))
        if fact.type in EXACT:
            units = units_of(scale)
            return lambda values: _int64(list(map(units, values)))
        if fact.type is FactType.ENUM:
            codes = self.codes
            return lambda values: np.fromiter(map(codes.__getitem__, values), dtype=np.int32,
                                              count=len(values))
        return lambda values: np.array(values, dtype=object)

    def advance(self, day: int) -> None:
        """Apply the events effective on `day` (days asked in increasing order)."""
        for name, pending in self.events.items():
            while pending and pending[-1][0] <= day:
                _, rows, values = pending.pop()
                self.columns[name][rows] = values

    def view(self, sel: np.ndarray | None) -> Callable[[str], Any]:
        """The vector form of a given fact over `sel` (None: every loan), on demand."""
        def vector(name: str) -> Any:
            column = self.columns[name]
            data = column if sel is None else column[sel]
            fact = self.facts[name]
            if fact.type in WHOLE or fact.type in EXACT:
                return Num(data, self.scales.get(name, 0), self.bounds[name])
            return data
        return vector


def _placeholder(fact: FactDef) -> Any:
    """A stand-in before the origination-day event that must set a fact with no default
    (`history.read_history` refuses loans where none does)."""
    if fact.type is FactType.BOOL:
        return False
    if fact.type in WHOLE or fact.type in EXACT:
        return 0
    return fact.values[0] if fact.type is FactType.ENUM else ""


def _int64(values: list[int]) -> np.ndarray:
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise TooBig("a value does not fit int64 units") from None
