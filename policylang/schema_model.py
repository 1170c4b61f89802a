"""The schema as data: fact definitions, the action catalogue, exclusive pairs.

Produced by `schema.py` from YAML; read by the checker, the engine and the
analyser. Immutable. Must not: read files or report diagnostics.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal

import attrs

from policylang.source import NO_SPAN, Span


class FactType(enum.Enum):
    """The contract's fact types."""

    BOOL = "bool"
    INT = "int"
    DECIMAL = "decimal"
    DAYS = "days"
    MONEY = "money"
    ENUM = "enum"
    STRING = "string"


@attrs.frozen(slots=True)
class ActionPattern:
    """`verb [target] [using template]`; a missing part matches anything."""

    verb: str
    target: str | None = None
    using: str | None = None

    def matches(self, verb: str, target: str, using: str | None) -> bool:
        return (self.verb == verb
                and (self.target is None or self.target == target)
                and (self.using is None or self.using == using))

    def __str__(self) -> str:
        parts = [self.verb]
        if self.target is not None:
            parts.append(self.target)
        if self.using is not None:
            parts.append(f"using {self.using}")
        return " ".join(parts)


@attrs.frozen(slots=True)
class HistorySpec:
    """How a replay derives a fact from earlier actions (simulation issue)."""

    kind: str                      # "days_since" | "count" | "ever"
    pattern: ActionPattern
    within_days: int | None = None


@attrs.frozen(slots=True)
class FactDef:
    """One fact: its type and domain. Values are exact: int for int/days, Decimal for
    decimal/money, str for enum/string, bool for bool. `default` is None when the
    fact has none (then `has_default` is False)."""

    name: str
    type: FactType
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    default: bool | int | Decimal | str | None = None
    has_default: bool = False
    currency: str | None = None
    values: tuple[str, ...] = ()
    label: str | None = None       # the display name (Chinese in this project's schemas)
    label_en: str | None = None    # the English display name (the review's --lang en)
    doc: str | None = None
    history: HistorySpec | None = None
    span: Span = attrs.field(default=NO_SPAN, eq=False)


@attrs.frozen(slots=True)
class ActionDef:
    """One verb of the catalogue: allowed targets and templates, stage, requires. `cost`
    is what one such action costs, in the schema's currency (None: not given); only
    simulation reports read it."""

    verb: str
    targets: tuple[str, ...]
    stage: int
    templates: tuple[str, ...] = ()
    channel: str | None = None
    requires: Mapping[str, str] = attrs.field(factory=dict)   # target -> bool fact
    cost: Decimal | None = None
    label: str | None = None       # the display name (Chinese in this project's schemas)
    label_en: str | None = None    # the English display name (the review's --lang en)
    doc: str | None = None
    # target -> templates whose notice counts as a signed, dated written demand (deadlines)
    signed_demand: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    span: Span = attrs.field(default=NO_SPAN, eq=False)


@attrs.frozen(slots=True)
class Schema:
    """A loaded, validated schema. `text` is the YAML text (part of the policy digest)."""

    path: str
    text: str
    facts: Mapping[str, FactDef]
    actions: Mapping[str, ActionDef]
    exclusive: tuple[tuple[ActionPattern, ActionPattern], ...] = ()

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(f.currency for f in self.facts.values() if f.currency)
