"""Columnar evaluation: one compiled policy, many loans given as columns.

Stage: batch evaluation; the day-by-day simulation decides all of a day's active
loans at once.
Input: a `CompiledPolicy`; per batch, one column per fact (n values each) and
optional param overrides (the same as `CompiledPolicy.evaluate` takes).
Output: one `Decision` per loan, the same as `CompiledPolicy.evaluate` gives for
that loan alone.
How: the rule tests are `vectorize.py`'s; their bool arrays are packed into the
compiled policy's own matched-rule masks (bit i: the rule at position i of the
evaluation order), and each distinct mask gets its decision from the compiled
policy once, so `final`, `suppress`, dedup and order stay in api.py/ordering.py.
Columns: a sequence (or array) of what the validator takes for the fact (ints for
days/int; Decimals, ints or decimal strings for money/decimal; True/False; str),
or the fast forms: integer arrays for days/int, `Scaled` int64 units for money
(cents: `Scaled(cents, 2)`; an integer array is whole units), bool arrays. Money
becomes exact int64 units of one scale per column; a column that does not fit
64 bits is kept as Decimals and the conditions reading it go loan by loan. A
missing column takes the fact's default. A bad column raises `FactsError` naming
the fact and the first bad row, before anything is evaluated.
Must not: evaluate rules itself or decide anything differently from `evaluate`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import repeat
from typing import Any

import attrs
import numpy as np

from engine.api import CompiledPolicy, cut_after_final
from engine.compile import DECIMAL
from engine.decision import Decision
from engine.facts import INVALID, FactProblem, FactsError, given_words, to_decimal, to_whole
from engine.vectorize import (
    INT64_MAX,
    Frame,
    Num,
    Unvectorisable,
    VectorTests,
    decimal_places,
    enum_codes,
    num_of,
    vectorise,
)
from policylang.schema_model import FactDef, FactType

Column = np.ndarray | Sequence[Any]


@attrs.frozen(slots=True)
class Scaled:
    """An exact decimal column given as integers: value = units / 10**scale."""

    units: np.ndarray
    scale: int = 0


class _Bad(Exception):
    """A column that does not fit its fact: what was given, and where."""

    def __init__(self, given: Any, row: int | None = None) -> None:
        super().__init__(given)
        self.given = given
        self.row = row


@attrs.frozen(slots=True)
class _Column:
    """A fact's column: its vector form (None when it has none, e.g. over 64 bits)
    and a maker of the row engine's values (for the loan-by-loan fallback)."""

    vector: Any
    python: Callable[[], Sequence[Any]]


@attrs.frozen(slots=True, eq=False)
class ColumnarPolicy:
    """A compiled policy with vector rule tests: immutable, safe to share."""

    policy: CompiledPolicy
    tests: VectorTests = attrs.field(repr=False)
    codes: Mapping[str, int] = attrs.field(repr=False)
    final_bits: int = attrs.field(repr=False)

    @property
    def per_row(self) -> tuple[str, ...]:
        """The conditions evaluated loan by loan (rule: `text` (why))."""
        return self.tests.per_row

    def decide_columns(self, columns: Mapping[str, Column | Scaled], n: int,
                       params: Mapping[str, Any] | None = None) -> list[Decision]:
        """One decision per loan (row) of `columns`, in row order."""
        decisions, rows = self.decide_distinct(columns, n, params)
        table = np.empty(len(decisions), dtype=object)
        table[:] = decisions
        return table[rows].tolist()  # type: ignore[no-any-return]

    def decide_distinct(self, columns: Mapping[str, Column | Scaled], n: int,
                        params: Mapping[str, Any] | None = None
                        ) -> tuple[list[Decision], np.ndarray]:
        """The distinct decisions of the batch, and for each row the index of its own:
        a caller that acts per decision need not look at every row."""
        values = self.policy.binder.bind(params)          # ParamError first, as evaluate
        prepared = self._prepare(columns, n)
        if n == 0:
            return [], np.zeros(0, dtype=np.intp)
        frame = _frame(self.policy, prepared, n, values)
        matched = [test(frame, None) for test in self.tests.tests]
        masks, rows = _distinct_masks(matched, n)
        fired: dict[int, int] = {}      # masks after `final`, in first-seen order
        index = np.array([fired.setdefault(cut_after_final(mask, self.final_bits), len(fired))
                          for mask in masks], dtype=np.intp)
        return [self._decision(mask) for mask in fired], index[rows]

    def evaluate_many(self, items: Iterable[Mapping[str, Any]],
                      params: Mapping[str, Any] | None = None) -> list[Decision]:
        """`CompiledPolicy.evaluate_many` through the columns. The items' facts become
        columns directly (each column accepts what the validator accepts); when any
        column is refused, the items are validated one by one, so the FactsError names
        the first bad item (`.index`) with all its problems, as `evaluate_many` does."""
        self.policy.binder.bind(params)
        rows = items if isinstance(items, list) else list(items)
        if all(type(row) is dict for row in rows):
            columns = _dict_columns(self.policy.validator.order, rows)
            try:
                return self.decide_columns(columns, len(rows), params)
            except FactsError:
                pass
        checked = _checked_rows(self.policy, rows)
        return self.decide_columns(self.columns_of(checked), len(checked), params)

    def columns_of(self, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
                   ) -> dict[str, list[Any]]:
        """Columns from already-validated rows: value lists in the validator's order
        (what `FactsValidator.coerce` returns) or mappings (omitted facts: defaults)."""
        facts = self.policy.validator.order
        if rows and isinstance(rows[0], Mapping):
            return {f.name: [row.get(f.name, f.default) for row in rows]  # type: ignore[union-attr]
                    for f in facts}
        if not rows:
            return {f.name: [] for f in facts}
        return {f.name: list(column)
                for f, column in zip(facts, zip(*rows, strict=True), strict=True)}

    def _prepare(self, columns: Mapping[str, Column | Scaled], n: int) -> list[_Column]:
        """Every fact's column in the validator's order; FactsError listing every bad one."""
        prepared, problems = [], []
        validator = self.policy.validator
        for fact in validator.order:
            try:
                prepared.append(_column(fact, columns.get(fact.name, _ABSENT), n, self.codes))
            except _Bad as bad:
                where = f" (row {bad.row})" if bad.row is not None else ""
                expected = validator.expected[fact.name]
                given = given_words(bad.given)
                problems.append(FactProblem(
                    fact.name, expected, given, validator.rules.get(fact.name, ()),
                    f"column `{fact.name}`: expected {expected}, got {given}{where}"))
        if problems:
            raise FactsError(problems)
        return prepared

    def _decision(self, fired: int) -> Decision:
        """The compiled policy's decision for the rules that fired, through the memo
        `evaluate` fills and reads (one shared object per outcome)."""
        return self.policy.decision_for(fired)


def columnar(policy: CompiledPolicy) -> ColumnarPolicy:
    """Vectorise `policy`'s rule tests once; decide batches as often as needed."""
    codes = enum_codes(policy.schema)
    rules = tuple(plan.node for plan in policy.plans)
    return ColumnarPolicy(policy=policy,
                          tests=vectorise(policy.checked, policy.program, rules, codes),
                          codes=codes,
                          final_bits=sum(1 << p.index for p in policy.plans if p.final))


def _dict_columns(facts: tuple[FactDef, ...], rows: list[dict[str, Any]]
                  ) -> dict[str, Sequence[Any]]:
    """The facts of dicts as columns: row by row when every dict has every fact (which
    reads each dict once, cache-friendly), else fact by fact with the defaults."""
    if not rows:
        return {f.name: [] for f in facts}
    try:
        columns = zip(*map(operator.itemgetter(*(f.name for f in facts)), rows), strict=True)
        return {f.name: column for f, column in zip(facts, columns, strict=True)}
    except KeyError:
        return {f.name: list(map(dict.get, rows, repeat(f.name),
                                 repeat(f.default if f.has_default else _ABSENT_VALUE)))
                for f in facts}


def _checked_rows(policy: CompiledPolicy, rows: list[Mapping[str, Any]]) -> list[Any]:
    """Loan by loan, as `evaluate_many` does when a column is not plainly valid: the
    first bad item raises FactsError with its index."""
    checked = []
    for index, facts in enumerate(rows):
        try:
            checked.append(policy.validator.coerce(facts))
        except FactsError as error:
            raise FactsError(error.problems, index=index) from None
    return checked


# -- one batch ---------------------------------------------------------------------------

def _frame(policy: CompiledPolicy, prepared: list[_Column], n: int,
           params: tuple[Any, ...]) -> Frame:
    vectors = {fact.name: column.vector
               for fact, column in zip(policy.validator.order, prepared, strict=True)}

    def fact(name: str) -> Any:
        vector = vectors[name]
        if vector is None:
            raise Unvectorisable(f"column `{name}` has no 64-bit form")
        return vector
    envs = _EnvRows(prepared, (*params, *policy.program.let_blank))
    return Frame(n=n, fact=fact, params=params, envs=envs)


class _EnvRows:
    """The row engine's value lists of rows, built on first use and kept for the batch,
    so a let one fallback computed is reused by the next, as in one evaluation."""

    def __init__(self, columns: list[_Column], tail: tuple[Any, ...]) -> None:
        self.columns = columns
        self.tail = list(tail)
        self.values: list[Sequence[Any]] | None = None
        self.built: dict[int, list[Any]] = {}

    def __call__(self, rows: np.ndarray) -> list[list[Any]]:
        if self.values is None:
            self.values = [column.python() for column in self.columns]
        values, built, out = self.values, self.built, []
        for row in rows.tolist():
            env = built.get(row)
            if env is None:
                env = built[row] = [column[row] for column in values] + self.tail
            out.append(env)
        return out


def _distinct_masks(matched: list[np.ndarray], n: int) -> tuple[list[int], np.ndarray]:
    """Bool arrays (rule i matched, by evaluation order) -> the distinct masks as ints
    and, per row, the index of its mask: rule i is bit i % 64 of 64-bit word i // 64."""
    words = [np.zeros(n, dtype=np.uint64) for _ in range(max(1, -(-len(matched) // 64)))]
    for index, rows in enumerate(matched):
        words[index // 64] |= rows.astype(np.uint64) << np.uint64(index % 64)
    if len(words) == 1:
        unique, inverse = np.unique(words[0], return_inverse=True)
        return [int(key) for key in unique.tolist()], inverse.reshape(-1)
    unique, inverse = np.unique(np.stack(words, axis=1), axis=0, return_inverse=True)
    masks = [sum(int(word) << (64 * i) for i, word in enumerate(row)) for row in unique.tolist()]
    return masks, inverse.reshape(-1)


class _Words:
    """A description standing in for a value in a message."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


# -- columns -----------------------------------------------------------------------------
# Each converter takes what the row engine's validator takes for that fact type (fast
# paths first: the run-time forms and NumPy arrays) and raises _Bad at the first value
# the validator would refuse; `evaluate_many` relies on that (a refused batch is then
# validated loan by loan, never the other way round).

_ABSENT: Any = object()                     # a column the caller did not give
_ABSENT_VALUE: Any = _Words("nothing (the fact is missing and has no default)")
_EMPTY = np.zeros(0, dtype=np.int64)
_WHOLE = (FactType.INT, FactType.DAYS)
_EXACT = (FactType.DECIMAL, FactType.MONEY)


def _column(fact: FactDef, raw: Any, n: int, codes: Mapping[str, int]) -> _Column:
    """A fact's column checked (type, length, domain) and converted; _Bad if it is not."""
    if raw is _ABSENT:
        if not fact.has_default:
            raise _Bad(_Words("no column (the fact has no default)"))
        return _default_column(fact, n, codes)
    size = len(raw.units) if isinstance(raw, Scaled) else len(raw)
    if size != n:
        raise _Bad(_Words(f"a column of {size} values for {n} loans"))
    if fact.type in _WHOLE:
        column = _whole_column(raw)
    elif fact.type in _EXACT:
        column = _exact_column(raw, fact.currency)
    elif fact.type is FactType.BOOL:
        column = _bool_column(raw)
    else:
        column = _text_column(raw, fact, codes)
    if fact.type in _WHOLE or fact.type in _EXACT:
        _check_domain(fact, column)
    return column


def _default_column(fact: FactDef, n: int, codes: Mapping[str, int]) -> _Column:
    value = fact.default
    if fact.type in _WHOLE or fact.type in _EXACT:
        vector: Any = _num_or_none(value)  # type: ignore[arg-type]
    elif fact.type is FactType.ENUM:
        vector = codes[value]  # type: ignore[index]
    else:
        vector = value
    return _Column(vector, lambda: [value] * n)


def _num_or_none(value: int | Decimal) -> Num | None:
    try:
        return num_of(value)
    except Unvectorisable:
        return None


def _values(raw: Any) -> list[Any]:
    return raw.tolist() if isinstance(raw, np.ndarray) else list(raw)


def _converted(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """Every value through the validator's converter; _Bad at the first it refuses."""
    out = list(map(convert, values))
    if INVALID in out:
        bad = next(i for i, v in enumerate(out) if v is INVALID)
        raise _Bad(values[bad], bad)
    return out


def _whole_column(raw: Any) -> _Column:
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu" and (
            raw.dtype.kind == "i" or not raw.size or int(raw.max()) <= INT64_MAX):
        data = raw.astype(np.int64, copy=False)
        return _Column(_num_array(data, 0), data.tolist)
    values = _values(raw)
    if not set(map(type, values)) <= {int}:
        values = _converted(values, to_whole)
    try:
        data = np.array(values, dtype=np.int64)
    except OverflowError:
        return _Column(None, lambda: values)
    return _Column(_num_array(data, 0), lambda: values)


def _exact_column(raw: Any, currency: str | None) -> _Column:
    if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
        raw = Scaled(raw, 0)
    if isinstance(raw, Scaled):
        return _scaled_column(raw)
    values = _values(raw)
    try:
        ratios = list(map(Decimal.as_integer_ratio, values))    # every value a finite Decimal
    except (TypeError, ValueError, OverflowError):
        texts = _decimal_texts(values)
        values = texts if texts is not None else _converted(
            values, lambda value: to_decimal(value, currency))
        ratios = list(map(Decimal.as_integer_ratio, values))
    return _Column(_decimal_units(ratios) if values else Num(_EMPTY, 0, 0), lambda: values)


_PLAIN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_PLAIN_LINES = re.compile(rf"{_PLAIN}(?:\n{_PLAIN})*").fullmatch


def _decimal_texts(values: list[Any]) -> list[Decimal] | None:
    """Plain decimal strings ("1062.67", no spaces or currency: a subset of what the
    validator takes) as Decimals, checked by one match over them all; else None."""
    if not set(map(type, values)) <= {str}:
        return None
    joined = "\n".join(values)
    if joined.count("\n") != len(values) - 1 or not _PLAIN_LINES(joined):
        return None
    return list(map(Decimal, values))


def _decimal_units(ratios: list[tuple[int, int]]) -> Num | None:
    """Exact decimals (as integer ratios) as int64 units of one scale, the most places
    any value has; None when a value does not fit. A finite Decimal's denominator is a
    power of ten's divisor, so units = numerator * (10**scale // denominator) exactly."""
    numerators, denominators = zip(*ratios, strict=True)
    places = {d: decimal_places(d) or 0 for d in set(denominators)}
    scale = max(places.values())
    factors = {d: 10**scale // d for d in places}
    count = len(ratios)
    try:
        tops = _num_array(np.fromiter(numerators, dtype=np.int64, count=count), 0)
        if tops is None or tops.bound * max(factors.values()) > INT64_MAX:
            raise OverflowError
        if len(factors) == 1:
            factor = factors[denominators[0]]
            return Num(tops.data * factor, scale, tops.bound * factor)
        scale_up = np.fromiter(map(factors.__getitem__, denominators), dtype=np.int64,
                               count=count)
        return _num_array(tops.data * scale_up, scale)
    except OverflowError:        # a big value or one with many places: one by one, or None
        exact = map(operator.mul, numerators, map(factors.__getitem__, denominators))
        try:
            return _num_array(np.fromiter(exact, dtype=np.int64, count=count), scale)
        except OverflowError:
            return None


def _scaled_column(raw: Scaled) -> _Column:
    units = raw.units
    if not isinstance(units, np.ndarray) or units.dtype.kind not in "iu" or raw.scale < 0:
        raise _Bad(_Words(f"Scaled units of type {getattr(units, 'dtype', type(units))}, "
                          f"scale {raw.scale}"))
    if units.dtype.kind == "u" and units.size and int(units.max()) > INT64_MAX:
        raise _Bad(int(units.max()), int(units.argmax()))
    data = units.astype(np.int64, copy=False)

    def python() -> list[Decimal]:
        return [DECIMAL.scaleb(Decimal(u), -raw.scale) for u in data.tolist()]
    return _Column(_num_array(data, raw.scale), python)


def _num_array(data: np.ndarray, scale: int) -> Num | None:
    if not data.size:
        return Num(data, scale, 0)
    bound = max(-int(data.min()), int(data.max()))
    return Num(data, scale, bound) if bound <= INT64_MAX else None


def _bool_column(raw: Any) -> _Column:
    if isinstance(raw, np.ndarray) and raw.dtype == np.bool_:
        return _Column(raw, raw.tolist)
    values = _values(raw)
    if not set(map(type, values)) <= {bool}:          # only True and False, as validated
        bad = next(i for i, v in enumerate(values) if v is not True and v is not False)
        raise _Bad(values[bad], bad)
    return _Column(np.array(values, dtype=bool), lambda: values)


def _text_column(raw: Any, fact: FactDef, codes: Mapping[str, int]) -> _Column:
    values = _values(raw)
    if fact.type is FactType.STRING:
        if not set(map(type, values)) <= {str}:
            bad = next(i for i, v in enumerate(values) if not isinstance(v, str))
            raise _Bad(values[bad], bad)
        return _Column(np.array(values, dtype=object), lambda: values)
    allowed = frozenset(fact.values)
    try:
        known = allowed.issuperset(values)      # only a str equals a str
    except TypeError:                           # an unhashable value
        known = False
    if not known:
        bad = next(i for i, v in enumerate(values) if not (type(v) is str and v in allowed))
        raise _Bad(values[bad], bad)
    data = np.fromiter(map(codes.__getitem__, values), dtype=np.int32, count=len(values))
    return _Column(data, lambda: values)


def _check_domain(fact: FactDef, column: _Column) -> None:
    """_Bad at the row holding the smallest (or largest) value when it is out of bounds."""
    vector = column.vector
    if isinstance(vector, Num) and isinstance(vector.data, np.ndarray):
        if not vector.data.size:
            return
        rows = int(vector.data.argmin()), int(vector.data.argmax())
        low, high = (DECIMAL.scaleb(Decimal(int(vector.data[row])), -vector.scale)
                     for row in rows)
    else:
        values = column.python()
        if not values:
            return
        rows = (min(range(len(values)), key=values.__getitem__),
                max(range(len(values)), key=values.__getitem__))
        low, high = values[rows[0]], values[rows[1]]
    if fact.minimum is not None and low < fact.minimum:
        raise _Bad(low, rows[0])
    if fact.maximum is not None and high > fact.maximum:
        raise _Bad(high, rows[1])
