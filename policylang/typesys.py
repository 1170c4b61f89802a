"""Types of the condition language and their unit rules.

Input: operand types. Output: the result type or None when the operation is
not allowed. The checker turns None into a diagnostic; the compiler relies
on the checker, so at run time a value's representation follows its type:
BOOL -> bool, NUMBER -> Decimal or int, DAYS -> int or Decimal (days),
MONEY -> Decimal (currency known statically), ENUM and STRING -> str.
Must not: report diagnostics or look at nodes.
"""

from __future__ import annotations

import enum

import attrs

from policylang.nodes import ArithOp
from policylang.schema_model import FactDef, FactType


class TypeKind(enum.Enum):
    BOOL = "true/false"
    NUMBER = "number"
    DAYS = "duration in days"
    MONEY = "money"
    ENUM = "enum"
    STRING = "text"
    ERROR = "error"         # an expression already reported; checks nothing further


@attrs.frozen(slots=True)
class Type:
    kind: TypeKind
    currency: str | None = None
    values: tuple[str, ...] = ()     # enum values

    def __str__(self) -> str:
        if self.kind is TypeKind.MONEY:
            return f"money in {self.currency}"
        if self.kind is TypeKind.ENUM:
            return "one of {" + ", ".join(self.values) + "}"
        return self.kind.value

    @property
    def is_error(self) -> bool:
        return self.kind is TypeKind.ERROR

    @property
    def ordered(self) -> bool:
        """Whether `<`, `>` and `between` make sense for this type."""
        return self.kind in (TypeKind.NUMBER, TypeKind.DAYS, TypeKind.MONEY)


BOOL = Type(TypeKind.BOOL)
NUMBER = Type(TypeKind.NUMBER)
DAYS = Type(TypeKind.DAYS)
STRING = Type(TypeKind.STRING)
ERROR = Type(TypeKind.ERROR)


def money(currency: str) -> Type:
    return Type(TypeKind.MONEY, currency=currency)


def enum_of(values: tuple[str, ...]) -> Type:
    return Type(TypeKind.ENUM, values=values)


def fact_type(fact: FactDef) -> Type:
    """The condition-language type of a schema fact."""
    match fact.type:
        case FactType.BOOL:
            return BOOL
        case FactType.INT | FactType.DECIMAL:
            return NUMBER
        case FactType.DAYS:
            return DAYS
        case FactType.MONEY:
            return money(fact.currency or "")
        case FactType.ENUM:
            return enum_of(fact.values)
        case FactType.STRING:
            return STRING


def comparable(left: Type, right: Type) -> bool:
    """Whether `left == right` is meaningful (same kind, same currency, same enum)."""
    if left.kind is not right.kind:
        return False
    if left.kind is TypeKind.MONEY:
        return left.currency == right.currency
    if left.kind is TypeKind.ENUM:
        return set(left.values) == set(right.values)
    return True


def arith_result(op: ArithOp, left: Type, right: Type) -> Type | None:
    """The unit rules: money ± money (same currency), money * number, days ± days,
    days * number, x / number keeps x's unit, like / like gives a number."""
    k_left, k_right = left.kind, right.kind
    scalar = (TypeKind.NUMBER,)
    if op in (ArithOp.ADD, ArithOp.SUB):
        if k_left is k_right and k_left in (TypeKind.NUMBER, TypeKind.DAYS):
            return left
        if k_left is k_right is TypeKind.MONEY:
            return left if left.currency == right.currency else None
        return None
    if op is ArithOp.MUL:
        if k_left in scalar and k_right in (TypeKind.NUMBER, TypeKind.DAYS, TypeKind.MONEY):
            return right
        if k_right in scalar and k_left in (TypeKind.DAYS, TypeKind.MONEY):
            return left
        return None
    # division
    if k_right in scalar and k_left in (TypeKind.NUMBER, TypeKind.DAYS, TypeKind.MONEY):
        return left
    if k_left is k_right is TypeKind.DAYS:
        return NUMBER
    if k_left is k_right is TypeKind.MONEY and left.currency == right.currency:
        return NUMBER
    return None
