"""Facts validation: the caller's facts, checked against the schema and coerced.

Stage: the first step of every evaluation, before any rule is tried.
Input: a mapping of fact names to values (JSON-like: ints, decimals, decimal
strings, bools, strings), or a batch of them.
Output: every schema fact's value in its run-time form (bool; int for
int/days; Decimal for decimal/money; str for enum/string), or a `FactsError`
listing every problem at once, each naming the fact, what it expects and the
rules that read it. (Param overrides are `params.py`.)
Must not: evaluate rules; turn a binary float into money other than through
its shortest repr; accept `true` as a number; stop at the first problem.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import repeat
from typing import Any

import attrs

from policylang.schema_model import FactDef, FactType, Schema

Value = bool | int | Decimal | str
Coercer = Callable[[Mapping[str, Any]], Value]



class Marker:
    """A named sentinel value (its repr is its name)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING: Any = Marker("MISSING")      # a fact the caller did not give
INVALID: Any = Marker("INVALID")      # a value that does not convert
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_WHOLE = (FactType.INT, FactType.DAYS)
_EXACT = (FactType.DECIMAL, FactType.MONEY)


@attrs.frozen(slots=True)
class FactProblem:
    """One bad fact: what was expected, what was given, and the rules that read it."""

    fact: str
    expected: str
    given: str
    rules: tuple[str, ...]
    message: str


class FactsError(Exception):
    """The facts do not fit the schema; nothing was evaluated. `.problems` lists them all;
    `.index` is the position of the bad item in `evaluate_many`, else None."""

    def __init__(self, problems: Iterable[FactProblem], index: int | None = None) -> None:
        self.problems = tuple(problems)
        self.index = index
        super().__init__(self.problems)

    def __str__(self) -> str:
        where = f"item {self.index}: " if self.index is not None else ""
        count = len(self.problems)
        head = f"{where}the facts do not fit the schema ({count} problem{'s' * (count != 1)})"
        return "\n".join([head + ":", *(f"  - {p.message}" for p in self.problems)])


class _Invalid(Exception):
    """Raised by a fast coercer; the slow path then collects every problem."""


# -- conversions: a value in its run-time form, or INVALID --------------------------------

def to_whole(value: Any) -> Any:
    """A whole number: an int, or an integral float/Decimal; never a bool."""
    kind = type(value)
    if kind is int:
        return value
    if kind is bool or kind is str:
        return INVALID
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else INVALID
    if isinstance(value, float):
        return int(value) if value.is_integer() else INVALID
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return INVALID


def to_decimal(value: Any, currency: str | None = None) -> Any:
    """An exact Decimal: from a Decimal, an int, a decimal string (optionally followed
    by the fact's currency) or a float through its repr; never a bool."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        if currency and text.endswith(currency):
            text = text[: -len(currency)].rstrip()
        return Decimal(text) if _DECIMAL_TEXT.fullmatch(text) else INVALID
    if kind is int:
        return Decimal(value)
    if kind is bool:
        return INVALID
    if isinstance(value, Decimal):
        return value if value.is_finite() else INVALID
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else INVALID
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return Decimal(int(value))
    return INVALID


def convert(fact: FactDef, value: Any) -> Any:
    """A fact's run-time value from the caller's value (MISSING gives the default),
    or INVALID when it has the wrong type or lies outside the fact's domain."""
    if value is MISSING:
        return fact.default if fact.has_default else INVALID
    match fact.type:
        case FactType.BOOL:
            return value if value is True or value is False else INVALID
        case FactType.INT | FactType.DAYS:
            result = to_whole(value)
        case FactType.DECIMAL | FactType.MONEY:
            result = to_decimal(value, fact.currency)
        case FactType.ENUM:
            return value if isinstance(value, str) and value in fact.values else INVALID
        case FactType.STRING:
            return value if isinstance(value, str) else INVALID
    if result is INVALID or not _in_domain(fact, result):
        return INVALID
    return result


def _in_domain(fact: FactDef, value: int | Decimal) -> bool:
    return ((fact.minimum is None or value >= fact.minimum)
            and (fact.maximum is None or value <= fact.maximum))


# -- words for messages ---------------------------------------------------------------

def expected_words(fact: FactDef) -> str:
    """What a fact accepts, in words: `a whole number of days between 0 and 3650`."""
    span = _range_words(fact)
    match fact.type:
        case FactType.BOOL:
            return "true or false"
        case FactType.INT:
            return "a whole number" + span
        case FactType.DAYS:
            return "a whole number of days" + span
        case FactType.DECIMAL:
            return f'a number{span} (a JSON number or a decimal string such as "0.25")'
        case FactType.MONEY:
            return (f"an amount in {fact.currency}{span} "
                    '(a JSON number or a decimal string such as "1062.67")')
        case FactType.ENUM:
            return "one of " + ", ".join(fact.values)
    return "text"


def _range_words(fact: FactDef) -> str:
    low, high = fact.minimum, fact.maximum
    if low is not None and high is not None:
        return f" between {low} and {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""


def given_words(value: Any) -> str:
    """What the caller gave, as they would write it in JSON."""
    if value is MISSING:
        return "nothing (the fact is missing and has no default)"
    if value is None or isinstance(value, bool | str | int):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal | float):
        return str(value)
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' * (len(text) > 60)}"


_RULES_SHOWN = 6           # a message names this many rules, then says how many more


def _problem(fact: FactDef, expected: str, value: Any, rules: tuple[str, ...]) -> FactProblem:
    given = given_words(value)
    shown = ", ".join(rules[:_RULES_SHOWN])
    if len(rules) > _RULES_SHOWN:
        shown += f" and {len(rules) - _RULES_SHOWN} more"
    needed = ("needed by " + ("rule " if len(rules) == 1 else "rules ") + shown
              if rules else "no rule reads it, but the schema requires it")
    message = f"fact `{fact.name}`: expected {expected}, got {given}; {needed}"
    return FactProblem(fact.name, expected, given, rules, message)


# -- the validator: built once per compiled policy ------------------------------------

@attrs.frozen(slots=True)
class FactsValidator:
    """Checks and coerces facts for one schema. The value list it returns follows
    `order`: whole-number facts, then exact (decimal, money), bools, enums and
    strings, each group in schema order, so the fast path is five tight loops that
    take values already in their run-time form, decimal strings and omitted facts
    with a default. Anything else goes through the per-fact converters, and any
    failure there collects every problem."""

    facts: tuple[FactDef, ...]                  # schema order (for messages)
    order: tuple[FactDef, ...]                  # value-list order
    expected: Mapping[str, str]
    rules: Mapping[str, tuple[str, ...]]
    coercers: tuple[Coercer, ...]               # in value-list order
    _whole: tuple[tuple[str, Any, Any, Any], ...]      # name, low, high, default
    _exact: tuple[tuple[str, Any, Any, Any], ...]
    _bools: tuple[tuple[str, Any], ...]                # name, default
    _enums: tuple[tuple[str, frozenset[str], Any], ...]
    _strings: tuple[tuple[str, Any], ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Fact names in value-list order."""
        return tuple(f.name for f in self.order)

    def coerce(self, facts: Mapping[str, Any]) -> list[Value]:
        """The facts' values in `order`; FactsError (with every problem) if any is bad."""
        try:
            get = facts.get
        except AttributeError:
            raise FactsError(self.problems(facts)) from None
        out: list[Value] = []
        append = out.append
        try:
            for name, low, high, default in self._whole:
                value = get(name, default)
                if type(value) is not int or not low <= value <= high:
                    return self._convert(facts)
                append(value)
            for name, low, high, default in self._exact:
                value = get(name, default)
                if type(value) is str and _decimal_text(value):
                    value = Decimal(value)
                elif type(value) is not Decimal:
                    return self._convert(facts)
                if not low <= value <= high:
                    return self._convert(facts)
                append(value)
            for name, default in self._bools:
                value = get(name, default)
                if value is not True and value is not False:
                    return self._convert(facts)
                append(value)
            for name, allowed, default in self._enums:
                value = get(name, default)
                if type(value) is not str or value not in allowed:
                    return self._convert(facts)
                append(value)
            for name, default in self._strings:
                value = get(name, default)
                if type(value) is not str:
                    return self._convert(facts)
                append(value)
        except ArithmeticError:                  # a NaN Decimal compared with a bound
            return self._convert(facts)
        return out

    def coerce_columns(self, items: Sequence[Mapping[str, Any]]) -> list[tuple[Value, ...]] | None:
        """Many loans at once, one fact (column) at a time: every check is a C-level pass
        over a column (types, bounds, enum sets, decimal text), so a batch pays a few
        tens of nanoseconds per fact and loan. The value tuples follow `order`. None
        when any column is not plainly valid: the caller then checks row by row, which
        coerces what can be coerced and names every problem with its item."""
        if not items or not all(map(_is_dict, items)):
            return None
        columns: list[Any] = []
        for name, low, high, default in self._whole:
            column = _column(items, name, default)
            if set(map(type, column)) != _INT or min(column) < low or max(column) > high:
                return None
            columns.append(column)
        for name, low, high, default in self._exact:
            column = _column(items, name, default)
            column = _decimal_column(column)
            if column is None or min(column) < low or max(column) > high:
                return None
            columns.append(column)
        for name, default in self._bools:
            column = _column(items, name, default)
            if set(map(type, column)) != _BOOL:
                return None
            columns.append(column)
        for name, allowed, default in self._enums:
            column = _column(items, name, default)
            if set(map(type, column)) != _STR or not allowed.issuperset(column):
                return None
            columns.append(column)
        for name, default in self._strings:
            column = _column(items, name, default)
            if set(map(type, column)) != _STR:
                return None
            columns.append(column)
        return list(zip(*columns, strict=True))

    def _convert(self, facts: Mapping[str, Any]) -> list[Value]:
        try:
            return [coerce(facts) for coerce in self.coercers]
        except (_Invalid, AttributeError, TypeError, ArithmeticError):   # e.g. Decimal NaN
            raise FactsError(self.problems(facts)) from None

    def problems(self, facts: Any) -> list[FactProblem]:
        """Every problem with `facts`, in schema order (empty when they are fine)."""
        if not isinstance(facts, Mapping):
            return [FactProblem("", "a mapping of fact names to values", given_words(facts), (),
                                f"facts must be a mapping of fact names to values, got "
                                f"{given_words(facts)}")]
        found = []
        for fact in self.facts:
            value = facts.get(fact.name, MISSING)
            if convert(fact, value) is INVALID:
                found.append(_problem(fact, self.expected[fact.name], value,
                                      self.rules.get(fact.name, ())))
        return found


_decimal_text = _DECIMAL_TEXT.fullmatch
_DECIMAL_LINES = re.compile(
    rf"{_DECIMAL_TEXT.pattern}(?:\n{_DECIMAL_TEXT.pattern})*").fullmatch
_INT, _BOOL, _STR = {int}, {bool}, {str}


def _column(items: Sequence[Mapping[str, Any]], name: str, default: Any) -> list[Any]:
    """One fact of every item (`default` where it is omitted), at C speed."""
    return list(map(dict.get, items, repeat(name), repeat(default)))  # type: ignore[arg-type]


def _is_dict(item: Any) -> bool:
    return type(item) is dict


def _decimal_column(column: list[Any]) -> list[Decimal] | None:
    """A column of Decimals or of decimal strings as Decimals (finite), else None.
    The strings are checked by one regular-expression pass over them all, joined by
    newlines, so a column costs one C-level match instead of one per value."""
    kinds = set(map(type, column))
    if kinds == {Decimal}:
        return column if all(map(Decimal.is_finite, column)) else None
    if kinds == {str}:
        joined = "\n".join(column)
        if not _DECIMAL_LINES(joined) or joined.count("\n") != len(column) - 1:
            return None
        return list(map(Decimal, column))
    return None


_GROUPS = ((FactType.INT, FactType.DAYS), (FactType.DECIMAL, FactType.MONEY), (FactType.BOOL,),
           (FactType.ENUM,), (FactType.STRING,))


def build_validator(schema: Schema, rules_by_fact: Mapping[str, tuple[str, ...]]
                    ) -> FactsValidator:
    """A validator for `schema`; `rules_by_fact` names, per fact, the rules that read it."""
    facts = tuple(schema.facts.values())
    whole, exact, bools, enums, strings = (
        tuple(f for f in facts if f.type in group) for group in _GROUPS)
    order = whole + exact + bools + enums + strings
    return FactsValidator(
        facts=facts, order=order,
        expected={f.name: expected_words(f) for f in facts}, rules=dict(rules_by_fact),
        coercers=tuple(_coercer(f) for f in order),
        whole=tuple((f.name, *_bounds(f), _default(f)) for f in whole),
        exact=tuple((f.name, *_bounds(f), _default(f)) for f in exact),
        bools=tuple((f.name, _default(f)) for f in bools),
        enums=tuple((f.name, frozenset(f.values), _default(f)) for f in enums),
        strings=tuple((f.name, _default(f)) for f in strings))


def _default(fact: FactDef) -> Any:
    """What an omitted fact stands for: its default, or MISSING (which fails every check)."""
    return fact.default if fact.has_default else MISSING


def _bounds(fact: FactDef) -> tuple[Any, Any]:
    """(low, high) for comparisons; a missing bound is an infinity of the fact's type."""
    infinite: Any = math.inf if fact.type in _WHOLE else Decimal("Infinity")
    low = fact.minimum if fact.minimum is not None else -infinite
    high = fact.maximum if fact.maximum is not None else infinite
    return low, high


def _coercer(fact: FactDef) -> Coercer:
    """A closure with a fast path for the usual run-time form of this fact's type."""
    name = fact.name

    def slow(value: Any) -> Value:
        result = convert(fact, value)
        if result is INVALID:
            raise _Invalid
        return result  # type: ignore[no-any-return]

    if fact.type in _WHOLE or fact.type in _EXACT:
        kind: type = int if fact.type in _WHOLE else Decimal
        low, high = _bounds(fact)

        def ranged(facts: Mapping[str, Any]) -> Value:
            value = facts.get(name, MISSING)
            if type(value) is kind and low <= value <= high:
                return value  # type: ignore[no-any-return]
            return slow(value)
        return ranged
    if fact.type is FactType.BOOL:
        def boolean(facts: Mapping[str, Any]) -> Value:
            value = facts.get(name, MISSING)
            return value if value is True or value is False else slow(value)
        return boolean
    if fact.type is FactType.ENUM:
        allowed = frozenset(fact.values)

        def enum(facts: Mapping[str, Any]) -> Value:
            value = facts.get(name, MISSING)
            return value if type(value) is str and value in allowed else slow(value)
        return enum

    def text(facts: Mapping[str, Any]) -> Value:
        value = facts.get(name, MISSING)
        return value if type(value) is str else slow(value)
    return text
