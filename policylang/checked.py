"""The checked policy: the AST plus what the checker learned about it.

Produced by `checker.py` only when a policy has no errors; consumed by the
formatter-free stages after it (compile, explain, analysis). Side tables
are keyed by node identity (`id(node)`): the tree is never mutated, and the
checked policy holds the tree, so identities stay valid.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal

import attrs

from policylang import nodes
from policylang.schema_model import Schema
from policylang.source import SourceFile
from policylang.typesys import Type

Value = bool | int | Decimal | str


class NameKind(enum.Enum):
    FACT = "fact"
    LET = "let"
    PARAM = "param"
    ENUM_VALUE = "enum value"


@attrs.frozen(slots=True)
class Resolution:
    """What a `Name` in an expression stands for."""

    kind: NameKind
    name: str
    type: Type


@attrs.frozen(slots=True)
class ParamInfo:
    """A param: its type (fixed by its literal) and its default value (run-time form)."""

    name: str
    type: Type
    value: Value
    node: nodes.Param = attrs.field(eq=False)


@attrs.frozen(slots=True)
class LetInfo:
    name: str
    type: Type
    node: nodes.Let = attrs.field(eq=False)


@attrs.frozen(slots=True, eq=False)
class GuardUse:
    """A guard in force for a policy: its name, version and file, and the guard checked
    on its own (whose nodes the policy's side tables also describe)."""

    name: str
    version: str | None
    checked: CheckedPolicy

    @property
    def file(self) -> str:
        return self.checked.source.name


@attrs.frozen(slots=True, eq=False)
class CheckedPolicy:
    """A policy (or a guard file) that parsed and checked with no errors, ready to compile.

    `lets` are in dependency order (a let comes after every let it uses).
    `rules` are the guards' rules (in the order of the `guards` line, each guard's in
    source order), then the policy's own rules in source order. A guard's lets and
    params are keyed `GUARD.NAME`, so they never clash with the policy's. Run-time
    value forms: days -> int (weeks already multiplied out), money/decimal/percent ->
    Decimal, number literals -> Decimal, bool -> bool, enum/string -> str."""

    source: SourceFile
    policy: nodes.Policy
    comments: tuple[nodes.Comment, ...]
    schema: Schema
    name: str
    version: str | None
    title: str | None
    params: Mapping[str, ParamInfo]
    lets: Mapping[str, LetInfo]
    rules: tuple[nodes.Rule, ...]
    asserts: tuple[nodes.Assert | nodes.AssertMonotone, ...]
    types: Mapping[int, Type]
    names: Mapping[int, Resolution]
    digest: str
    is_guard: bool = False                   # a guard file checked on its own
    guards: tuple[GuardUse, ...] = ()        # the guards in force, in `guards` line order
    guard_of: Mapping[int, GuardUse] = attrs.field(factory=dict)   # id(rule) -> its guard

    def rule_name(self, rule: nodes.Rule) -> str:
        """The rule's name in output: `guard NAME: RULE` for a guard's rule."""
        guard = self.guard_of.get(id(rule))
        own = nodes.rule_name(rule)
        return own if guard is None else f"guard {guard.name}: {own}"

    def source_of(self, rule: nodes.Rule) -> SourceFile:
        """The file a rule (and every expression in it) was written in."""
        guard = self.guard_of.get(id(rule))
        return self.source if guard is None else guard.checked.source

    def is_guard_rule(self, rule: nodes.Rule) -> bool:
        return self.is_guard or id(rule) in self.guard_of

    @property
    def own_rules(self) -> tuple[nodes.Rule, ...]:
        """The rules written in this file (not the guards')."""
        return tuple(r for r in self.rules if id(r) not in self.guard_of)

    def evaluation_order(self) -> tuple[nodes.Rule, ...]:
        """The contract's order: every guard rule first (guards in `guards` line order,
        each by priority then source order; never cut off, since a guard has no `final`
        rule and they come first), then the policy's rules by priority, then source order."""
        tiers = {id(g.checked): i for i, g in enumerate(self.guards)}
        last = len(self.guards)

        def key(index: int) -> tuple[int, int, int]:
            rule = self.rules[index]
            guard = self.guard_of.get(id(rule))
            tier = last if guard is None else tiers[id(guard.checked)]
            return (tier, -(rule.priority or 0), index)
        return tuple(self.rules[i] for i in sorted(range(len(self.rules)), key=key))

    def type_of(self, expr: nodes.Expr) -> Type:
        return self.types[id(expr)]

    def resolve(self, name: nodes.Name) -> Resolution:
        return self.names[id(name)]

    def facts_used_by(self, rule: nodes.Rule) -> tuple[str, ...]:
        """Schema facts a rule reads, directly or through lets (for error messages)."""
        seen: dict[str, None] = {}
        self._collect_facts(rule.condition, seen, set())
        return tuple(seen)

    def _collect_facts(self, expr: object, seen: dict[str, None], lets: set[str]) -> None:
        if isinstance(expr, nodes.Name):
            res = self.names.get(id(expr))
            if res is None:
                return
            if res.kind is NameKind.FACT:
                seen.setdefault(res.name, None)
            elif res.kind is NameKind.LET and res.name not in lets:
                lets.add(res.name)
                self._collect_facts(self.lets[res.name].node.expr, seen, lets)
            return
        for field in attrs.fields(type(expr)) if attrs.has(type(expr)) else ():
            value = getattr(expr, field.name)
            children = value if isinstance(value, tuple) else (value,)
            for child in children:
                if attrs.has(type(child)):
                    self._collect_facts(child, seen, lets)


def literal_value(literal: nodes.Literal) -> Value:
    """The run-time value of a literal (percent as a fraction, weeks as days)."""
    match literal:
        case nodes.Number(value=v) | nodes.Money(amount=v):
            return v
        case nodes.Percent(value=v):
            return v / 100
        case nodes.Duration(amount=a, unit=u):
            days = a * 7 if u is nodes.DurationUnit.WEEK else a
            return int(days) if days == days.to_integral_value() else days
        case nodes.String(value=v) | nodes.Bool(value=v):
            return v
    raise TypeError(f"not a literal: {literal!r}")
