"""The vectorised replay: the whole state of a chunk of loans as arrays, one calendar
day at a time, with the columnar rule tests.

Stage: `policylang simulate`'s columnar engine (`engines.replay_columnar`, the
default), held to the row engine's result (`replay.replay_rows`): the same loan-days,
overdue and ordered actions, loans in portfolio order, then date.
Input: a `CompiledPolicy`, a `Portfolio`, a `Window` and param overrides.
Output: `replay_vectorised` gives a `ReplayResult`. For large runs `replay_compact`
yields one `CompactDays` per chunk of loans (arrays of loan, day, overdue and decision
number, plus the table of distinct decisions) and `write_actions_csv` writes actions.csv
from them without building a `LoanDay` per loan-day, which is what costs most then.
Must not: build a facts dict per loan-day (the row engines' cost), touch float, or
decide differently from `CompiledPolicy.evaluate`.

How: loans go in chunks (`chunk` loans; fewer when the days to report are many, so the
per-chunk output matrices stay under `CHUNK_CELLS` cells and memory stays bounded).
For a chunk, `ledger_arrays.LedgerArrays` replays instalments and payments,
`history_arrays.GivenColumns` holds the loans-file facts and applies each day's events,
and `history_arrays.HistoryArrays` the history facts. Each day the active loans' columns
(already in the vector form `engine.vectorize` reads: int64 units `Num`, bool arrays,
enum codes) go through the columnar policy's rule tests; the matched-rule masks give
the distinct decisions through `CompiledPolicy.decision_for`, the same shared memo
`evaluate` uses, and those decisions feed the history facts of the next day. The
columns are built by this module, so they are not validated again per day: values
come from `history.read_history` (already converted and checked), from the ledger
(clamped into the fact's domain, as `loanday.py` does) and from history facts (capped).
Fallback: amounts that do not fit int64 units, or a history fact without a default,
make `replay_vectorised` use the row engine (`NotVectorisable`).
Speed (tests/perf/bench_simulate.py, one core): about 1.2-1.9 million loan-days/s
for `replay_compact` on 100,000 loans over a year (45 and 20 rules), about 60x the row
engine; `replay_vectorised` is bounded by building one LoanDay object per loan-day.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MemberDescriptorType
from typing import Any

import attrs
import numpy as np

from engine.api import CompiledPolicy, cut_after_final
from engine.columnar import ColumnarPolicy, columnar
from engine.compile import DECIMAL
from engine.decision import Decision
from engine.simulation.deadlines import DeadlineArrays
from engine.simulation.history import LoanHistory, Portfolio
from engine.simulation.history_arrays import EXACT, FeedTable, GivenColumns, HistoryArrays
from engine.simulation.ledger_arrays import LedgerArrays, TooBig, money_scale, places
from engine.simulation.loanday import FactPlan
from engine.simulation.replay import ALL_DAYS, LoanDay, ReplayResult, Window, replay_rows
from engine.vectorize import INT64_MAX, Frame, Num
from policylang.schema_model import FactDef, FactType

ENGINE = "columnar"
CHUNK_LOANS = 20000          # loans replayed together: big enough to amortise NumPy calls
CHUNK_CELLS = 12_000_000     # loans x reported days of a chunk (two int32 matrices)
ACTION_COLUMNS = ("loan_id", "date", "overdue", "verb", "target", "using", "rules")


class NotVectorisable(Exception):
    """The portfolio has something the arrays cannot hold exactly (an amount beyond
    int64 units, a history fact with no default): use the row engine."""


@attrs.frozen(eq=False)
class CompactDays:
    """The reported loan-days of one chunk, as arrays in output order (loan, then day):
    `loan` indexes `loan_ids`, `day` is a date ordinal, `decision` indexes `decisions`
    (the replay's table of distinct decisions, shared by every chunk)."""

    loan_ids: tuple[str, ...]
    loan: np.ndarray
    day: np.ndarray
    overdue: np.ndarray
    decision: np.ndarray
    decisions: Sequence[Decision]

    def __len__(self) -> int:
        return len(self.loan)


def replay_vectorised(policy: CompiledPolicy, portfolio: Portfolio,
                      window: Window = ALL_DAYS, params: Mapping[str, Any] | None = None,
                      *, chunk: int = CHUNK_LOANS) -> ReplayResult:
    """The same `ReplayResult` as `replay_rows` (engine "vectorised"), many times faster."""
    try:
        days = [d for part in replay_compact(policy, portfolio, window, params, chunk=chunk)
                for d in loan_days(part)]
    except NotVectorisable:
        return replay_rows(policy, portfolio, window, params)
    return ReplayResult(policy, ENGINE, window, window.resolved_end(portfolio),
                        len(portfolio), tuple(days))


def replay_compact(policy: CompiledPolicy, portfolio: Portfolio, window: Window = ALL_DAYS,
                   params: Mapping[str, Any] | None = None, *, chunk: int = CHUNK_LOANS
                   ) -> Iterator[CompactDays]:
    """The replay chunk by chunk, as arrays (memory: one chunk at a time). Raises
    NotVectorisable, at the first chunk that has it, when the data do not fit the arrays."""
    end = window.resolved_end(portfolio)
    loans = portfolio.loans
    if end is None or not loans or (window.start is not None and window.start > end):
        return                                  # nothing to report
    run = _Run.of(policy, loans, window, end, params)
    reported = end.toordinal() - run.report_from(loans) + 1
    size = max(1, min(chunk, CHUNK_CELLS // max(reported, 1)))
    for first in range(0, len(loans), size):
        yield run.chunk(loans[first:first + size])


def loan_days(part: CompactDays) -> list[LoanDay]:
    """The `LoanDay` records of a chunk, in output order."""
    if not len(part):
        return []
    first = int(part.day.min())
    dates = _objects([date.fromordinal(d) for d in range(first, int(part.day.max()) + 1)])
    columns = (np.array(part.loan_ids, dtype=object)[part.loan].tolist(),
               dates[part.day - first].tolist(), part.overdue.tolist(),
               _objects([d.actions for d in part.decisions])[part.decision].tolist(),
               _objects([d.suppressed for d in part.decisions])[part.decision].tolist())
    if _SLOTS is None:
        return list(map(LoanDay, *columns))
    days = [_NEW(LoanDay) for _ in range(len(part))]
    for setter, values in zip(_SLOTS, columns, strict=True):
        deque(map(setter, days, values), maxlen=0)      # runs the setters, keeps nothing
    return days


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _slot_setters() -> tuple[Callable[[Any, Any], None], ...] | None:
    """The slot setters of LoanDay's five fields, in constructor order, or None when it
    is not the plain frozen slots class this relies on. Building millions of LoanDays
    through attrs' frozen __init__ costs twice as much as setting the slots column by
    column; the result is the same object (tests compare with ==)."""
    names = ("loan_id", "day", "overdue", "actions", "suppressed")
    if tuple(f.name for f in attrs.fields(LoanDay)) != names:
        return None
    setters = [LoanDay.__dict__.get(name) for name in names]
    if not all(isinstance(s, MemberDescriptorType) for s in setters):
        return None
    return tuple(s.__set__ for s in setters)  # type: ignore[union-attr]


_NEW = object.__new__
_SLOTS = _slot_setters()


def action_rows(part: CompactDays) -> Iterator[tuple[Any, ...]]:
    """actions.csv rows of a chunk (`writers.action_rows` of its loan-days), taking only
    the loan-days whose decision has actions."""
    tails = [[(a.verb, a.target, a.using or "", ";".join(a.rules)) for a in d.actions]
             for d in part.decisions]
    busy = np.array([bool(t) for t in tails], dtype=bool)[part.decision]
    dates: dict[int, str] = {}
    for loan, day, overdue, which in zip(part.loan[busy].tolist(), part.day[busy].tolist(),
                                         part.overdue[busy].tolist(),
                                         part.decision[busy].tolist(), strict=True):
        text = dates.get(day) or dates.setdefault(day, date.fromordinal(day).isoformat())
        head = (part.loan_ids[loan], text, overdue)
        for tail in tails[which]:
            yield head + tail


def write_actions_csv(parts: Iterator[CompactDays], path: Path) -> int:
    """Write actions.csv (header, LF line ends) from compact chunks; the rows written."""
    written = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ACTION_COLUMNS)
        for part in parts:
            rows = list(action_rows(part))
            writer.writerows(rows)
            written += len(rows)
    return written


# -- one replay ----------------------------------------------------------------------------

@attrs.define
class _Run:
    """What every chunk of one replay shares: the plan, the evaluator, the decisions."""

    policy: CompiledPolicy
    plan: FactPlan
    evaluator: _DayDecider
    start: int | None
    end: int
    scale: int
    given: tuple[FactDef, ...]          # facts the input files give: not ledger or history

    @classmethod
    def of(cls, policy: CompiledPolicy, loans: Sequence[LoanHistory], window: Window,
           end: date, params: Mapping[str, Any] | None) -> _Run:
        plan = FactPlan.of(policy.schema)
        if any(f.spec.kind == "days_since" and f.default is None for f in plan.history):
            raise NotVectorisable("a days_since history fact has no default")
        start = window.start.toordinal() if window.start is not None else None
        derived = {*plan.ledger_names, *plan.deadline_names, *(f.name for f in plan.history)}
        given = tuple(f for f in policy.validator.order if f.name not in derived)
        return cls(policy, plan, _DayDecider(columnar(policy), params, plan),
                   start, end.toordinal(), money_scale(loans), given)

    def report_from(self, loans: Sequence[LoanHistory]) -> int:
        first = min(loan.origination_date for loan in loans).toordinal()
        return first if self.start is None else max(first, self.start)

    def chunk(self, loans: Sequence[LoanHistory]) -> CompactDays:
        try:
            ledger = LedgerArrays(loans, self.scale, self.end)
            given = GivenColumns(self.given, loans, self.evaluator.codes, self.end)
        except TooBig as why:
            raise NotVectorisable(str(why)) from None
        history = HistoryArrays(self.plan.history, len(loans))
        deadlines = (DeadlineArrays(self.plan.deadlines, loans)
                     if self.plan.deadlines is not None else None)
        days = _ChunkDays(len(loans), self.report_from(loans), self.end)
        origination, stop = ledger.origination, ledger.stop
        last = min(self.end, int(stop.max()) - 1)
        for day in range(int(origination.min()), last + 1):
            ledger.advance(day)
            given.advance(day)
            rows = np.flatnonzero((origination <= day) & (stop > day))
            if not rows.size:
                continue
            sel = None if rows.size == len(loans) else rows
            columns = self.ledger_vectors(ledger, day, sel)
            overdue = columns.pop(" overdue")
            if deadlines is not None:
                columns.update(self.deadline_vectors(deadlines, day, sel))
            columns.update(_history_vectors(self.policy, history.columns(day, sel)))
            which = self.evaluator.decide(len(rows), columns, given.view(sel))
            history.record(day, rows, which, self.evaluator.feeds)
            if deadlines is not None:
                deadlines.record(day, rows, which, self.evaluator.decisions)
            days.put(day, sel, which, overdue)
        loan, day_of, overdue, which = days.reported(origination, stop, self.end)
        return CompactDays(tuple(loan.loan_id for loan in loans), loan, day_of, overdue,
                           which, self.evaluator.decisions)

    def ledger_vectors(self, ledger: LedgerArrays, day: int, sel: np.ndarray | None
                       ) -> dict[str, Any]:
        """The declared ledger facts in vector form, clamped to their domains, and under
        " overdue" the overdue a LoanDay reports (0 when the schema has no `overdue`)."""
        plan, facts = self.plan, self.policy.schema.facts
        values = ledger.facts(day, sel, frozenset(plan.ledger_names),
                              (plan.due_in_default, plan.days_since_payment_default))
        out: dict[str, Any] = {}
        for name in plan.ledger_names:
            out[name] = _ledger_vector(facts[name], values[name], self.scale)
        overdue = out.get("overdue")
        out[" overdue"] = overdue.data if overdue is not None else np.zeros(
            len(values["overdue"]), dtype=np.int64)
        return out


    def deadline_vectors(self, deadlines: DeadlineArrays, day: int, sel: np.ndarray | None
                         ) -> dict[str, Any]:
        """The deadline facts in vector form, clamped to their domains (history wins)."""
        facts = self.policy.schema.facts
        historic = {f.name for f in self.plan.history}
        return {name: _ledger_vector(facts[name], values, 0)
                for name, values in deadlines.columns(day, sel).items() if name not in historic}


def _ledger_vector(fact: FactDef, values: np.ndarray, scale: int) -> Any:
    """A ledger column in vector form, kept inside the fact's domain as loanday.py does
    (a next instalment 400 days away is "366 or more" when `due_in` stops at 366)."""
    if values.dtype == np.bool_:
        return values
    if fact.type in EXACT:
        wanted = max(scale, *(places(b) for b in (fact.minimum, fact.maximum)))
        data = values * 10 ** (wanted - scale) if wanted > scale else values
        return _num(_clipped(data, fact, wanted), wanted)
    return _num(_clipped(values, fact, 0), 0)


def _clipped(data: np.ndarray, fact: FactDef, scale: int) -> np.ndarray:
    """`data` inside [minimum, maximum] (in units of `scale`); itself when it is already."""
    if not data.size:
        return data
    low = None if fact.minimum is None else int(Decimal(fact.minimum).scaleb(scale))
    high = None if fact.maximum is None else int(Decimal(fact.maximum).scaleb(scale))
    if (low is None or int(data.min()) >= low) and (high is None or int(data.max()) <= high):
        return data
    return np.clip(data, low, high)


def _num(data: np.ndarray, scale: int) -> Num:
    bound = max(-int(data.min()), int(data.max())) if data.size else 0
    if bound > INT64_MAX:
        raise NotVectorisable("a ledger value does not fit 64 bits")
    return Num(data, scale, bound)


def _history_vectors(policy: CompiledPolicy, values: dict[str, np.ndarray]) -> dict[str, Any]:
    facts = policy.schema.facts
    return {name: column if facts[name].type is FactType.BOOL else _num(column, 0)
            for name, column in values.items()}


class _ChunkDays:
    """The reported days of a chunk: decision number and overdue per (day, loan),
    day-major so that a day's writes are one row. A loan is evaluated on consecutive
    days, so its reported days are one run, and the output (loan, then day) is built
    from the runs arithmetically."""

    def __init__(self, size: int, first: int, end: int) -> None:
        self.first = first
        width = max(0, end - first + 1)
        self.decision = np.zeros((width, size), dtype=np.int32)
        self.overdue = np.zeros((width, size), dtype=np.int32)

    def put(self, day: int, rows: np.ndarray | None, which: np.ndarray,
            overdue: np.ndarray) -> None:
        if day >= self.first:
            at = day - self.first
            if rows is None:
                self.decision[at] = which
                self.overdue[at] = overdue
            else:
                self.decision[at, rows] = which
                self.overdue[at, rows] = overdue

    def reported(self, origination: np.ndarray, stop: np.ndarray, end: int
                 ) -> tuple[np.ndarray, ...]:
        """(loan, day, overdue, decision) of every reported loan-day: loan r's run is
        max(origination, first) .. min(stop - 1, end)."""
        low = np.maximum(origination, self.first)
        high = np.minimum(stop - 1, end)
        lengths = np.maximum(high - low + 1, 0)
        loan = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        starts = np.cumsum(lengths) - lengths
        column = (np.arange(len(loan), dtype=np.int32)
                  - np.repeat((starts - low + self.first).astype(np.int32), lengths))
        return (loan, column + np.int32(self.first), self.overdue[column, loan],
                self.decision[column, loan])


# -- one day's decisions ----------------------------------------------------------------------

class _DayDecider:
    """The columnar policy's rule tests on one day's columns; the distinct fired-rule masks
    numbered once per replay (`decisions`), and what each feeds (`feeds`)."""

    def __init__(self, evaluator: ColumnarPolicy, params: Mapping[str, Any] | None,
                 plan: FactPlan) -> None:
        policy = evaluator.policy
        self.policy = policy
        self.tests = evaluator.tests.tests
        self.final_bits = evaluator.final_bits
        self.codes = evaluator.codes
        self.names = {code: value for value, code in evaluator.codes.items()}
        self.params = policy.binder.bind(params)
        self.tail = (*self.params, *policy.program.let_blank)
        self.number: dict[int, int] = {}       # by matched-rule mask
        self.fired: dict[int, int] = {}        # by fired-rule mask
        self.decisions: list[Decision] = []
        self.feeds = FeedTable(plan.history)

    def decide(self, n: int, columns: dict[str, Any], given: Callable[[str], Any]
               ) -> np.ndarray:
        """Each row's decision number."""
        cache = dict(columns)

        def fact(name: str) -> Any:
            found = cache.get(name)
            if found is None:
                found = cache[name] = given(name)
            return found
        frame = Frame(n=n, fact=fact, params=self.params, envs=_Envs(self, fact))
        masks, inverse = _distinct_masks([test(frame, None) for test in self.tests], n)
        number = self.number
        numbers = np.array([number[m] if m in number else self.numbered(m) for m in masks],
                           dtype=np.int32)
        return numbers[inverse]

    def numbered(self, mask: int) -> int:
        """The number of the decision for the matched rules `mask` (new ones appended);
        masks that fire the same rules after `final` share one number."""
        fired = cut_after_final(mask, self.final_bits)
        found = self.fired.get(fired)
        if found is None:
            decision = self.policy.decision_for(fired)
            found = self.fired[fired] = len(self.decisions)
            self.decisions.append(decision)
            self.feeds.add(decision.actions)
        self.number[mask] = found
        return found

    def python(self, fact: FactDef, vector: Any) -> list[Any]:
        """A column as the row engine's values (for conditions evaluated loan by loan)."""
        if isinstance(vector, Num):
            data = vector.data.tolist()
            if fact.type in EXACT:
                return [DECIMAL.scaleb(Decimal(u), -vector.scale) for u in data]
            return data
        if fact.type is FactType.ENUM:
            return [self.names[c] for c in vector.tolist()]
        return list(vector.tolist())


class _Envs:
    """The row engine's value lists of a day's rows, built on first use and kept for the
    day, so a let computed by one loan-by-loan condition is reused by the next."""

    def __init__(self, decider: _DayDecider, fact: Callable[[str], Any]) -> None:
        self.decider = decider
        self.fact = fact
        self.values: list[list[Any]] | None = None
        self.built: dict[int, list[Any]] = {}

    def __call__(self, rows: np.ndarray) -> list[list[Any]]:
        decider = self.decider
        if self.values is None:
            self.values = [decider.python(f, self.fact(f.name))
                           for f in decider.policy.validator.order]
        out = []
        for row in rows.tolist():
            env = self.built.get(row)
            if env is None:
                env = self.built[row] = [column[row] for column in self.values]
                env += decider.tail
            out.append(env)
        return out


def _distinct_masks(matched: list[np.ndarray], n: int) -> tuple[list[int], np.ndarray]:
    """Bool arrays (rule i matched, in evaluation order) -> the distinct masks as ints (bit
    i: rule i) and each row's index among them. Bits go 64 rules to a uint64 word; for
    more than 64 rules the rows' words are compared together."""
    words = []
    for first in range(0, max(len(matched), 1), 64):
        word = np.zeros(n, dtype=np.uint64)
        for bit, rows in enumerate(matched[first:first + 64]):
            if rows.any():                      # most rules match no loan on a given day
                word |= rows.astype(np.uint64) << np.uint64(bit)
        words.append(word)
    if len(words) == 1:
        return _distinct(words[0])
    unique, inverse = np.unique(np.stack(words, axis=1), axis=0, return_inverse=True)
    masks = [sum(int(w) << (64 * i) for i, w in enumerate(row)) for row in unique.tolist()]
    return masks, inverse.reshape(-1)


def _distinct(keys: np.ndarray) -> tuple[list[int], np.ndarray]:
    """np.unique of one word per row, sorting only the rows where some rule matched: on
    most loan-days (current loans) none does, and the sort is the costly part."""
    some = np.flatnonzero(keys)
    if len(some) * 2 > len(keys):
        unique, inverse = np.unique(keys, return_inverse=True)
        return [int(k) for k in unique.tolist()], inverse.reshape(-1)
    unique, inverse = np.unique(keys[some], return_inverse=True)
    index = np.zeros(len(keys), dtype=np.intp)
    index[some] = inverse.reshape(-1) + 1
    return [0, *(int(k) for k in unique.tolist())], index
