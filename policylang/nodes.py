"""The policy AST: immutable nodes, one class per grammar construct.

Built by `build.py`, read by every later stage. Every node has a `span`
that is excluded from equality, so equal trees compare equal wherever they
stand. Nodes carry no behaviour; checker types live in side tables.
Numbers are `Decimal`, never float.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from decimal import Decimal

import attrs

from policylang.source import NO_SPAN, Span


def _span() -> Span:
    return attrs.field(default=NO_SPAN, eq=False, repr=False)  # type: ignore[no-any-return]


node = attrs.frozen(kw_only=True, slots=True)


class CompareOp(enum.Enum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class ArithOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"


class DurationUnit(enum.Enum):
    DAY = "day"
    WEEK = "week"


# -- identifiers -------------------------------------------------------------

@node
class Ident:
    """A name as written: `overdue`, `call`, `逾期天数`."""

    text: str
    span: Span = _span()


# -- expressions -------------------------------------------------------------

@node
class Name:
    """A reference to a fact, let, param or bare enum value: `overdue`."""

    text: str
    span: Span = _span()


@node
class Number:
    """`7`, `0.25`."""

    value: Decimal
    span: Span = _span()


@node
class Percent:
    """`30%`: `value` is the written number (30); it means value / 100."""

    value: Decimal
    span: Span = _span()


@node
class Duration:
    """`7 days`, `2 weeks`: `amount` in `unit`s."""

    amount: Decimal
    unit: DurationUnit
    span: Span = _span()


@node
class Money:
    """`1062.67 CNY`."""

    amount: Decimal
    currency: str
    span: Span = _span()


@node
class String:
    """`"text"`."""

    value: str
    span: Span = _span()


@node
class Bool:
    """`true` / `false`."""

    value: bool
    span: Span = _span()


@node
class Negate:
    """`-x`."""

    operand: Expr
    span: Span = _span()


@node
class Arith:
    """`a + b`, `a - b`, `a * b`, `a / b`."""

    op: ArithOp
    left: Expr
    right: Expr
    span: Span = _span()


@node
class Compare:
    """`a >= b`."""

    op: CompareOp
    left: Expr
    right: Expr
    span: Span = _span()


@node
class Between:
    """`x between low and high` (both ends included)."""

    subject: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@node
class InSet:
    """`x in {a, b}` / `x not in {a, b}`."""

    subject: Expr
    items: tuple[Expr, ...]
    negated: bool
    span: Span = _span()


@node
class Not:
    """`not c`."""

    operand: Expr
    span: Span = _span()


@node
class And:
    """`a and b and c`."""

    operands: tuple[Expr, ...]
    span: Span = _span()


@node
class Or:
    """`a or b or c`."""

    operands: tuple[Expr, ...]
    span: Span = _span()


Literal = Number | Percent | Duration | Money | String | Bool
Expr = (Name | Number | Percent | Duration | Money | String | Bool | Negate | Arith
        | Compare | Between | InSet | Not | And | Or)


# -- actions -----------------------------------------------------------------

@node
class ActionRef:
    """`verb target [using template]`: `notify guarantor using guarantor_demand`."""

    verb: Ident
    target: Ident
    using: Ident | None = None
    span: Span = _span()


@node
class Suppress:
    """`suppress verb [target]`."""

    verb: Ident
    target: Ident | None = None
    span: Span = _span()


ActionItem = ActionRef | Suppress


# -- statements --------------------------------------------------------------

@node
class Header:
    """`policy NAME [version "V"] ["TITLE"]`."""

    name: Ident
    version: str | None = None
    title: str | None = None
    span: Span = _span()


@node
class GuardHeader:
    """`guard NAME [version "V"] ["TITLE"]` (guard files)."""

    name: Ident
    version: str | None = None
    title: str | None = None
    span: Span = _span()


@node
class SchemaDecl:
    """`schema "PATH"`."""

    path: str
    span: Span = _span()


@node
class GuardsDecl:
    """`guards "PATH", "PATH"`."""

    paths: tuple[str, ...]
    span: Span = _span()


@node
class Param:
    """`param NAME = LITERAL`."""

    name: Ident
    value: Literal
    span: Span = _span()


@node
class Let:
    """`let NAME = EXPR`."""

    name: Ident
    expr: Expr
    span: Span = _span()


@node
class Rule:
    """`[rule NAME ["LABEL"] [priority N] [final] :] CONDITION -> ACTION, ...`."""

    name: Ident | None
    label: str | None
    priority: int | None
    final: bool
    condition: Expr
    actions: tuple[ActionItem, ...]
    span: Span = _span()


@node
class ExpectAction:
    """`-> ACTION` or `-> no ACTION` in an assertion."""

    action: ActionRef
    negated: bool
    span: Span = _span()


@node
class ExpectAny:
    """`-> any` in an assertion."""

    span: Span = _span()


@node
class Assert:
    """`assert COND -> EXPECTATION`."""

    condition: Expr
    expect: ExpectAction | ExpectAny
    span: Span = _span()


@node
class AssertMonotone:
    """`assert monotone FACT`."""

    fact: Ident
    span: Span = _span()


Statement = (Header | GuardHeader | SchemaDecl | GuardsDecl | Param | Let | Rule
             | Assert | AssertMonotone)


@node
class Comment:
    """`# text` (kept by the formatter; not part of the meaning)."""

    text: str
    span: Span = _span()


@node
class Policy:
    """A whole file: its statements in source order."""

    statements: tuple[Statement, ...]
    span: Span = _span()


def rule_name(rule: Rule) -> str:
    """A rule's name in messages and output: its own, or `line N` for an unnamed rule."""
    return rule.name.text if rule.name is not None else f"line {rule.span.line}"


def name_nodes(expr: object) -> Iterator[Name]:
    """Every name an expression reads, in source order (lets and params as names: the
    checker's resolution says what each one stands for)."""
    if isinstance(expr, Name):
        yield expr
        return
    for field in attrs.fields(type(expr)):  # type: ignore[arg-type]
        value = getattr(expr, field.name)
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Expr):
                yield from name_nodes(child)
