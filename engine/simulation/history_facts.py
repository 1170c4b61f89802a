"""History facts in a replay: what the schema's `history` declarations say a fact is,
computed from the replay's own earlier actions.

The engine never derives these (an embedding system supplies them); a replay must,
or its ladder would never move: the letter sent today is what makes tomorrow's
`days_since_letter` 1. The value on day D counts actions of days before D only, so
the facts of a day never depend on that day's own decision:

- `days_since: PATTERN`: D minus the last day a matching action was taken, capped at
  the fact's maximum; the fact's default when there was none.
- `count: PATTERN, within: N days`: matching actions taken on days D-N … D-1 (each
  matching action of a decision counts once).
- `ever: PATTERN`: true once a matching action has been taken on an earlier day.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from policylang.schema_model import FactDef, HistorySpec, Schema

FAR_AWAY = 100000       # "never", for a day count with neither a default nor a maximum


@attrs.frozen(slots=True)
class HistoryFact:
    """One declared history fact, ready to be tracked."""

    name: str
    spec: HistorySpec
    default: Any
    maximum: Any

    def matches(self, verb: str, target: str, using: str | None) -> bool:
        return self.spec.pattern.matches(verb, target, using)


def history_facts(schema: Schema) -> tuple[HistoryFact, ...]:
    """The schema's history facts, in declaration order."""
    return tuple(_history_fact(fact) for fact in schema.facts.values() if fact.history)


def _history_fact(fact: FactDef) -> HistoryFact:
    """Before any matching action a fact is its default; a `days_since` fact with no
    default is then its maximum, or FAR_AWAY ("as long ago as can be said")."""
    assert fact.history is not None
    far = fact.maximum if fact.maximum is not None else FAR_AWAY
    default = fact.default if fact.has_default else (
        far if fact.history.kind == "days_since" else None)
    if not fact.has_default and fact.history.kind == "ever":
        default = False
    return HistoryFact(fact.name, fact.history, default, fact.maximum)


class LoanHistoryState:
    """The history facts of one loan as the replay goes forward day by day.

    Call `facts(day)` for the values of a day (day numbers are ordinals, so
    subtraction gives days), then `record(day, actions)` with that day's actions.
    """

    __slots__ = ("_counts", "_defs", "_ever", "_last", "_live", "_targets")

    def __init__(self, defs: tuple[HistoryFact, ...],
                 targets: dict[tuple[str, str, str | None], tuple[int, ...]] | None = None
                 ) -> None:
        self._defs = defs
        # Which facts an action feeds, by action; share one dict across loans.
        self._targets = {} if targets is None else targets
        self._last: list[int | None] = [None] * len(defs)
        self._ever = [False] * len(defs)
        self._counts: list[deque[int]] = [deque() for _ in defs]
        # For `fill`: (slot, last day, cap) of each days_since fact seen so far, or None
        # when the facts changed since the last fill (and every slot must be rewritten).
        self._live: list[tuple[int, int, int | None]] | None = None

    def facts(self, day: int) -> dict[str, Any]:
        values: dict[str, Any] = {}
        last, ever, counts = self._last, self._ever, self._counts
        for index, fact in enumerate(self._defs):
            kind = fact.spec.kind
            if kind == "days_since":
                seen = last[index]
                if seen is None:
                    values[fact.name] = fact.default
                else:
                    gap = day - seen
                    values[fact.name] = gap if fact.maximum is None or gap <= fact.maximum \
                        else int(fact.maximum)
            elif kind == "ever":
                values[fact.name] = ever[index]
            else:
                window = counts[index]
                horizon = day - (fact.spec.within_days or 0)
                while window and window[0] < horizon:
                    window.popleft()
                values[fact.name] = _capped(len(window), fact.maximum)
        return values

    def fill(self, day: int, env: list[Any], where: HistorySlots) -> None:
        """`facts(day)` written into a value list: fact i at `env[where.slots[i]]`. Only
        the values that can have changed since the last fill are written, so `env` must
        be the same list every day, and no one else may write these slots."""
        live = self._live
        if live is None:
            live = self._live = self._rewrite(env, where)
        for slot, seen, cap in live:
            gap = day - seen
            env[slot] = gap if cap is None or gap <= cap else cap
        counts = self._counts
        for index, slot, within, cap in where.count:
            window = counts[index]
            horizon = day - within
            while window and window[0] < horizon:
                window.popleft()
            env[slot] = _capped(len(window), cap)

    def _rewrite(self, env: list[Any], where: HistorySlots) -> list[tuple[int, int, int | None]]:
        """Write the days_since facts never seen and the ever facts; the days_since
        facts seen, which change every day, are returned for `fill` to write."""
        last, ever = self._last, self._ever
        live = []
        for index, slot, default, cap in where.since:
            seen = last[index]
            if seen is None:
                env[slot] = default
            else:
                live.append((slot, seen, cap))
        for index, slot in where.ever:
            env[slot] = ever[index]
        return live

    def record(self, day: int, actions: Iterable[tuple[str, str, str | None]]) -> None:
        """Remember the actions taken on `day` (verb, target, template)."""
        self.record_fed(day, self.fed(actions))

    def fed(self, actions: Iterable[tuple[str, str, str | None]]) -> tuple[int, ...]:
        """The facts `actions` feed, once per matching action (a count counts each)."""
        indices: list[int] = []
        for key in actions:
            fed = self._targets.get(key)
            if fed is None:
                fed = self._targets[key] = tuple(
                    index for index, fact in enumerate(self._defs) if fact.matches(*key))
            indices.extend(fed)
        return tuple(indices)

    def record_fed(self, day: int, indices: Iterable[int]) -> None:
        """`record` given what `fed` returned for the day's actions."""
        self._live = None
        for index in indices:
            self._last[index] = day
            self._ever[index] = True
            if self._defs[index].spec.kind == "count":
                self._counts[index].append(day)


@attrs.frozen(slots=True)
class HistorySlots:
    """Where each history fact goes in a value list, split by kind, decided once per
    replay: (index, slot, default, cap) for days_since, (index, slot) for ever,
    (index, slot, within days, cap) for count."""

    slots: tuple[int, ...]
    since: tuple[tuple[int, int, Any, int | None], ...]
    ever: tuple[tuple[int, int], ...]
    count: tuple[tuple[int, int, int, Any], ...]

    @classmethod
    def of(cls, defs: tuple[HistoryFact, ...], slots: tuple[int, ...]) -> HistorySlots:
        since, ever, count = [], [], []
        for index, (fact, slot) in enumerate(zip(defs, slots, strict=True)):
            kind = fact.spec.kind
            if kind == "days_since":
                cap = None if fact.maximum is None else int(fact.maximum)
                since.append((index, slot, fact.default, cap))
            elif kind == "ever":
                ever.append((index, slot))
            else:
                count.append((index, slot, fact.spec.within_days or 0, fact.maximum))
        return cls(slots, tuple(since), tuple(ever), tuple(count))


def _capped(value: int, maximum: Any) -> int:
    return value if maximum is None or value <= maximum else int(maximum)


def declared(schema: Schema) -> Mapping[str, HistoryFact]:
    """History facts by name."""
    return {fact.name: fact for fact in history_facts(schema)}
