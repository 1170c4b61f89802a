"""Param overrides: the caller's values for a policy's params, checked and typed.

Stage: the first step of an evaluation that overrides params.
Input: a mapping of param names to literal strings (`"5 days"`, `"5days"`,
`"30%"`, `"100 CNY"`, `"true"`) or already-typed values (int days, Decimal,
bool, str). Output: the param values in declaration order, or a `ParamError`
naming every bad override with its code (E306 unknown, E209 wrong type,
E307 a param of one of the policy's guards, which no caller may override).
Must not: eval anything (a string is parsed with the policy grammar, as a
literal); accept a value of another type than the param's literal.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from engine.facts import INVALID, Value, given_words, to_decimal, to_whole
from policylang import nodes
from policylang.checked import literal_value
from policylang.parser import parse_text
from policylang.suggest import did_you_mean
from policylang.typesys import Type, TypeKind, money


class ParamError(ValueError):
    """A param override names no param of the policy (E306) or has the wrong type (E209).
    `.problems` are the messages, `.codes` their diagnostic codes, in the same order."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        pairs = tuple(problems)
        self.codes = tuple(code for code, _ in pairs)
        self.problems = tuple(message for _, message in pairs)
        super().__init__("\n".join(f"error[{code}]: {message}" for code, message in pairs))


@attrs.frozen(slots=True)
class ParamBinder:
    """Turns a caller's overrides into the param values of one evaluation. A value is a
    string in literal syntax (`"5 days"`, `"5days"`, `"30%"`, `"100 CNY"`, `"true"`)
    or an already-typed value (int days, Decimal, bool, str)."""

    names: tuple[str, ...]
    types: tuple[Type, ...]
    defaults: tuple[Value, ...]
    # For each param, the guard it belongs to (named `GUARD.NAME` in `names`), or None
    # for the policy's own. A guard's param is never overridden: a guard must not be
    # loosened at run time.
    owners: tuple[str | None, ...] = ()

    def bind(self, overrides: Mapping[str, Any] | None) -> tuple[Value, ...]:
        """The param values in declaration order; ParamError naming every bad override."""
        if not overrides:
            return self.defaults
        values = list(self.defaults)
        problems = []
        own = self.own_names()
        for name, given in overrides.items():
            if name not in own:
                guard = self.guard_owning(name)
                problems.append(("E307", _guard_param(name, guard)) if guard is not None
                                else ("E306", _unknown_param(name, own)))
                continue
            index = self.names.index(name)
            value, problem = coerce_param(self.types[index], given)
            if problem:
                problems.append(("E209", f"param `{name}`: {problem}"))
            else:
                values[index] = value
        if problems:
            raise ParamError(problems)
        return tuple(values)

    def own_names(self) -> tuple[str, ...]:
        """The params a caller may override: the policy's own."""
        if not self.owners:
            return self.names
        return tuple(n for n, o in zip(self.names, self.owners, strict=True) if o is None)

    def guard_owning(self, name: Any) -> str | None:
        """The guard whose param `name` is (written bare or `GUARD.NAME`), if any."""
        for key, owner in zip(self.names, self.owners, strict=False):
            if owner is not None and name in (key, key.removeprefix(owner + ".")):
                return owner
        return None


def _guard_param(name: Any, guard: str) -> str:
    return (f"param `{name}` belongs to guard {guard}, and a guard's params cannot be "
            f"overridden: no caller may loosen a guard; change the guard file instead")


def _unknown_param(name: Any, known: tuple[str, ...]) -> str:
    hint = did_you_mean(str(name), known)
    listing = ("the policy's params are " + ", ".join(known)) if known else \
        "the policy declares no params"
    return f"unknown param `{name}`: {listing}" + (f"; {hint}" if hint else "")


def param_words(kind: Type) -> str:
    """What an override of a param of type `kind` must look like."""
    match kind.kind:
        case TypeKind.DAYS:
            return "a whole number of days such as `5 days`"
        case TypeKind.NUMBER:
            return "a number such as `3`, `0.25` or `30%`"
        case TypeKind.MONEY:
            return f"an amount in {kind.currency} such as `100 {kind.currency}`"
        case TypeKind.BOOL:
            return "`true` or `false`"
    return "text"


def coerce_param(kind: Type, given: Any) -> tuple[Value | None, str | None]:
    """(value, None) when `given` fits a param of type `kind`, else (None, what is wrong)."""
    if isinstance(given, str) and not (kind.kind is TypeKind.STRING
                                       and not given.lstrip().startswith('"')):
        literal = parse_literal(given)
        value = _literal_fits(kind, literal) if literal is not None else INVALID
    else:
        value = _typed_fits(kind, given)
    if value is INVALID:
        hint = _days_hint(kind, given)
        problem = f"expected {param_words(kind)}, got {given_words(given)}"
        return None, problem + (f"; {hint}" if hint else "")
    return value, None


@functools.lru_cache(maxsize=512)
def parse_literal(text: str) -> nodes.Literal | None:
    """A literal parsed with the policy grammar (parsing only), or None."""
    result = parse_text(f"param value = {text}")
    statements = result.policy.statements if result.policy is not None else ()
    if len(statements) != 1 or not isinstance(statements[0], nodes.Param):
        return None
    return statements[0].value


def _literal_fits(kind: Type, literal: nodes.Literal) -> Any:
    value = literal_value(literal)
    match literal:
        case nodes.Duration():
            return value if kind.kind is TypeKind.DAYS and isinstance(value, int) else INVALID
        case nodes.Number() | nodes.Percent():
            return value if kind.kind is TypeKind.NUMBER else INVALID
        case nodes.Money(currency=currency):
            return value if kind == money(currency) else INVALID
        case nodes.Bool():
            return value if kind.kind is TypeKind.BOOL else INVALID
    return value if kind.kind is TypeKind.STRING else INVALID


def _typed_fits(kind: Type, given: Any) -> Any:
    match kind.kind:
        case TypeKind.DAYS:
            if isinstance(given, datetime.timedelta):
                return given.days if given == datetime.timedelta(days=given.days) else INVALID
            return to_whole(given)
        case TypeKind.NUMBER | TypeKind.MONEY:
            return INVALID if isinstance(given, str) else to_decimal(given)
        case TypeKind.BOOL:
            return given if given is True or given is False else INVALID
    return given if isinstance(given, str) else INVALID


def _days_hint(kind: Type, given: Any) -> str | None:
    if kind.kind is TypeKind.DAYS and isinstance(given, str):
        literal = parse_literal(given)
        if isinstance(literal, nodes.Number):
            return f"did you mean {given.strip()} days?"
    return None
