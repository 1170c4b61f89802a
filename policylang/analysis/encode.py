"""Encode: a checked policy as SMT formulas over the schema's fact domains.

Stage: the first step of the analysis. Input: a `CheckedPolicy` and a set of
fact variables (one set per copy of the facts: `monotone` needs two).
Output: z3 formulas: each rule's match condition, whether it fires after
`final`, whether each (rule, action) pair survives `suppress`, whether each
action is in the result and which of two actions comes first. The meaning is
the engine's exactly (docs/semantics.md; a policy's guards' rules come first,
are never final, and suppress what any other rule produces): decimals are exact rationals; a
comparison, `between` or `in` with a division by zero is false; params are at
their values; lets are expanded.
Must not: solve anything; approximate (what cannot be encoded exactly raises
`Unsupported`, which the callers report as "could not decide").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import z3

from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind, literal_value
from policylang.schema_model import ActionPattern, FactDef, FactType, Schema

ActionKey = tuple[str, str, str | None]


class Unsupported(Exception):
    """Something the encoding cannot express exactly."""


@attrs.frozen(slots=True)
class Term:
    """An encoded value: the z3 term, and when it is defined (no division by zero)."""

    term: Any
    defined: Any


@attrs.frozen(slots=True, eq=False)
class Facts:
    """One copy of the fact variables, with their domain constraints."""

    variables: Mapping[str, Any]
    domain: Any                     # z3 Bool: every variable inside its fact's domain
    enum_ids: Mapping[str, int]     # enum value name -> the id that stands for it
    ctx: Any                        # the z3 context: one per analysis, for determinism

    def __getitem__(self, name: str) -> Any:
        return self.variables[name]


def enum_ids(*schemas: Schema) -> dict[str, int]:
    """One number per enum value name, shared by every enum (so equal names compare equal)."""
    ids: dict[str, int] = {}
    for schema in schemas:
        for fact in schema.facts.values():
            for value in fact.values:
                ids.setdefault(value, len(ids))
    return ids


def make_facts(schema: Schema, suffix: str = "", ids: Mapping[str, int] | None = None,
               shared: Mapping[str, Any] | None = None, ctx: Any = None) -> Facts:
    """Variables for every fact of `schema`, named `fact{suffix}`; `shared` reuses given
    variables (the facts that stay equal between the two copies of `monotone`)."""
    ids = ids if ids is not None else enum_ids(schema)
    ctx = ctx if ctx is not None else z3.Context()   # a fresh context: same ids, same answers
    variables: dict[str, Any] = {}
    limits = []
    for fact in schema.facts.values():
        if shared is not None and fact.name in shared:
            variables[fact.name] = shared[fact.name]
            continue
        var = _variable(fact, fact.name + suffix, ctx)
        variables[fact.name] = var
        limits.extend(_limits(fact, var, ids, ctx))
    return Facts(variables, z3.And(*limits) if limits else z3.BoolVal(True, ctx), ids, ctx)


def _variable(fact: FactDef, name: str, ctx: Any) -> Any:
    match fact.type:
        case FactType.BOOL:
            return z3.Bool(name, ctx)
        case FactType.INT | FactType.DAYS | FactType.ENUM:
            return z3.Int(name, ctx)
        case FactType.DECIMAL | FactType.MONEY:
            return z3.Real(name, ctx)
    return z3.String(name, ctx)


def _limits(fact: FactDef, var: Any, ids: Mapping[str, int], ctx: Any) -> list[Any]:
    if fact.type is FactType.ENUM:
        return [z3.Or(*(var == ids[v] for v in fact.values))]
    found = []
    if fact.minimum is not None:
        found.append(var >= _number(fact.minimum, ctx))
    if fact.maximum is not None:
        found.append(var <= _number(fact.maximum, ctx))
    return found


def _number(value: int | Decimal | Fraction, ctx: Any) -> Any:
    if isinstance(value, int):
        return z3.IntVal(value, ctx)
    fraction = Fraction(value)
    return z3.RealVal(f"{fraction.numerator}/{fraction.denominator}", ctx)


def fact_value(fact: FactDef, value: Any, facts: Facts) -> Any:
    """A z3 constant for a run-time value of `fact` (a default, say)."""
    ctx = facts.ctx
    match fact.type:
        case FactType.BOOL:
            return z3.BoolVal(bool(value), ctx)
        case FactType.ENUM:
            return z3.IntVal(facts.enum_ids[value], ctx)
        case FactType.STRING:
            return z3.StringVal(value, ctx)
    return _number(value, ctx)


class Encoder:
    """Formulas for one policy over one copy of the facts."""

    def __init__(self, checked: CheckedPolicy, facts: Facts) -> None:
        self.checked = checked
        self.facts = facts
        self.ctx = facts.ctx
        self.true, self.false = z3.BoolVal(True, self.ctx), z3.BoolVal(False, self.ctx)
        self.rules = list(checked.evaluation_order())     # a policy's guards first
        self._position = {id(rule): index for index, rule in enumerate(self.rules)}
        self._lets: dict[str, Term] = {}
        self._matches: dict[int, Any] = {}
        self._fires: dict[int, Any] = {}
        self._kept: dict[tuple[int, ActionKey], Any] = {}
        self._contains: dict[ActionKey, Any] = {}
        self._producers: dict[ActionKey, list[nodes.Rule]] = {}
        self._suppressors: dict[ActionKey, list[nodes.Rule]] = {}
        self._keys: list[ActionKey] | None = None

    # -- rules -----------------------------------------------------------------------
    def matches(self, rule: nodes.Rule) -> Any:
        """The rule's condition holds."""
        key = id(rule)
        if key not in self._matches:
            try:
                self._matches[key] = self.condition(rule.condition)
            except Unsupported as error:
                reason = str(error).removeprefix("it ")
                raise Unsupported(f"rule {self.checked.rule_name(rule)} {reason}") from None
        return self._matches[key]

    def fires(self, rule: nodes.Rule) -> Any:
        """The rule matches and no `final` rule before it (in evaluation order) matches."""
        key = id(rule)
        if key not in self._fires:
            earlier = [self.matches(r) for r in self.rules_before(rule) if r.final]
            self._fires[key] = z3.And(self.matches(rule), *(z3.Not(e) for e in earlier))
        return self._fires[key]

    def rules_before(self, rule: nodes.Rule) -> list[nodes.Rule]:
        return self.rules[:self._position[id(rule)]]

    def producers(self, key: ActionKey) -> list[nodes.Rule]:
        """Rules that produce the action `key`, in evaluation order."""
        if key not in self._producers:
            self._producers[key] = [r for r in self.rules if key in produced_keys(r)]
        return self._producers[key]

    def suppressors(self, key: ActionKey) -> list[nodes.Rule]:
        if key not in self._suppressors:
            verb, target, _ = key
            self._suppressors[key] = [r for r in self.rules if any(
                s.verb.text == verb and (s.target is None or s.target.text == target)
                for s in r.actions if isinstance(s, nodes.Suppress))]
        return self._suppressors[key]

    def kept(self, rule: nodes.Rule, key: ActionKey) -> Any:
        """The pair (rule, action) survives: the rule fires and no other firing rule
        suppresses the action."""
        memo = (id(rule), key)
        if memo not in self._kept:
            others = [self.fires(s) for s in self.suppressors(key) if s is not rule]
            self._kept[memo] = z3.And(self.fires(rule), *(z3.Not(o) for o in others))
        return self._kept[memo]

    def contains(self, key: ActionKey) -> Any:
        """The action is in the result."""
        if key not in self._contains:
            self._contains[key] = z3.Or(*(self.kept(r, key) for r in self.producers(key)),
                                        self.false)
        return self._contains[key]

    def contains_pattern(self, pattern: ActionPattern) -> Any:
        keys = [k for k in self.action_keys() if pattern.matches(*k)]
        return z3.Or(*(self.contains(k) for k in keys), self.false)

    def action_keys(self) -> list[ActionKey]:
        """Every action some rule produces, in first-seen evaluation order."""
        if self._keys is None:
            seen: dict[ActionKey, None] = {}
            for rule in self.rules:
                for key in produced_keys(rule):
                    seen.setdefault(key, None)
            self._keys = list(seen)
        return self._keys

    def any_action(self) -> Any:
        return z3.Or(*(self.contains(k) for k in self.action_keys()), self.false)

    def stage_at_least(self, stage: int) -> Any:
        """The highest stage in the result is at least `stage` (stage 0: always)."""
        if stage <= 0:
            return self.true
        actions = self.checked.schema.actions
        keys = [k for k in self.action_keys() if actions[k[0]].stage >= stage]
        return z3.Or(*(self.contains(k) for k in keys), self.false)

    def rank(self, rule: nodes.Rule, key: ActionKey) -> tuple[int, int, int]:
        """The engine's ordering key of a (rule, action) pair: priority (high first),
        stage, position of the action's text."""
        stage = self.checked.schema.actions[key[0]].stage
        position = next(item.span.start for item in rule.actions
                        if isinstance(item, nodes.ActionRef) and action_key(item) == key)
        return (-(rule.priority or 0), stage, position)

    def before(self, first: ActionKey, second: ActionKey) -> Any:
        """`first` comes before `second` in the result (both assumed present): the
        surviving pair with the smallest rank belongs to `first`."""
        pairs = [(self.rank(r, k), r, k) for k in (first, second) for r in self.producers(k)]
        pairs.sort(key=lambda p: p[0])
        options = []
        for index, (_, rule, key) in enumerate(pairs):
            if key != first:
                continue
            earlier = [self.kept(r, k) for _, r, k in pairs[:index]]
            options.append(z3.And(self.kept(rule, key), *(z3.Not(e) for e in earlier)))
        return z3.Or(*options, self.false)

    # -- conditions --------------------------------------------------------------------
    def condition(self, expr: nodes.Expr) -> Any:
        match expr:
            case nodes.And(operands=ops):
                return z3.And(*(self.condition(o) for o in ops))
            case nodes.Or(operands=ops):
                return z3.Or(*(self.condition(o) for o in ops))
            case nodes.Not(operand=op):
                return z3.Not(self.condition(op))
            case nodes.Compare(op=op, left=left, right=right):
                a, b = self.value(left), self.value(right)
                return z3.And(a.defined, b.defined, _compare(op, a.term, b.term))
            case nodes.Between(subject=subject, low=low, high=high):
                x, lo, hi = self.value(subject), self.value(low), self.value(high)
                return z3.And(x.defined, lo.defined, hi.defined, lo.term <= x.term,
                              x.term <= hi.term)
            case nodes.InSet(subject=subject, items=items, negated=negated):
                x = self.value(subject)
                values = [self.value(i) for i in items]
                member = z3.Or(*(x.term == v.term for v in values), self.false)
                return z3.And(x.defined, *(v.defined for v in values),
                              z3.Not(member) if negated else member)
        term = self.value(expr)
        return z3.And(term.defined, term.term)

    def value(self, expr: nodes.Expr) -> Term:
        match expr:
            case nodes.Name():
                return self.name(expr)
            case nodes.Negate(operand=op):
                inner = self.value(op)
                return Term(-inner.term, inner.defined)
            case nodes.Arith(op=op, left=left, right=right):
                return self.arith(op, self.value(left), self.value(right))
            case nodes.Number() | nodes.Percent() | nodes.Duration() | nodes.Money():
                return Term(_number(literal_value(expr), self.ctx), self.true)  # type: ignore[arg-type]
            case nodes.String(value=text):
                return Term(z3.StringVal(text, self.ctx), self.true)
            case nodes.Bool(value=flag):
                return Term(z3.BoolVal(flag, self.ctx), self.true)
        return Term(self.condition(expr), self.true)

    def name(self, expr: nodes.Name) -> Term:
        resolution = self.checked.resolve(expr)
        match resolution.kind:
            case NameKind.FACT:
                return Term(self.facts[resolution.name], self.true)
            case NameKind.ENUM_VALUE:
                return Term(z3.IntVal(self.facts.enum_ids[resolution.name], self.ctx), self.true)
            case NameKind.PARAM:
                param = self.checked.params[resolution.name]
                if isinstance(param.value, bool):
                    return Term(z3.BoolVal(param.value, self.ctx), self.true)
                if isinstance(param.value, str):
                    return Term(z3.StringVal(param.value, self.ctx), self.true)
                return Term(_number(param.value, self.ctx), self.true)
        if resolution.name not in self._lets:
            let = self.checked.lets[resolution.name].node.expr
            self._lets[resolution.name] = self.value(let)
        return self._lets[resolution.name]

    @staticmethod
    def arith(op: nodes.ArithOp, a: Term, b: Term) -> Term:
        defined = z3.And(a.defined, b.defined)
        left, right = a.term, b.term
        match op:
            case nodes.ArithOp.ADD:
                return Term(left + right, defined)
            case nodes.ArithOp.SUB:
                return Term(left - right, defined)
            case nodes.ArithOp.MUL:
                return Term(left * right, defined)
        _check_exact_divisor(right)
        left, right = _real(left), _real(right)
        return Term(left / right, z3.And(defined, right != 0))


def _check_exact_divisor(divisor: Any) -> None:
    """The engine divides in decimals to 40 significant digits, exactly only when the
    divisor is a constant 2^a * 5^b (times a power of ten): anything else could make a
    proof about exact quotients wrong for the engine, so it is not decided."""
    if not (z3.is_int_value(divisor) or z3.is_rational_value(divisor)):
        raise Unsupported("it divides by a fact, and the engine rounds such quotients "
                          "to 40 significant digits")
    value = Fraction(divisor.as_fraction()) if z3.is_rational_value(divisor) else \
        Fraction(divisor.as_long())
    numerator = abs(value.numerator)
    for prime in (2, 5):
        while numerator and numerator % prime == 0:
            numerator //= prime
    if numerator > 1:
        raise Unsupported(f"it divides by {value}, and the engine rounds such quotients "
                          "to 40 significant digits")


def _real(term: Any) -> Any:
    return z3.ToReal(term) if z3.is_int(term) else term


def _compare(op: nodes.CompareOp, a: Any, b: Any) -> Any:
    match op:
        case nodes.CompareOp.EQ:
            return a == b
        case nodes.CompareOp.NE:
            return a != b
        case nodes.CompareOp.LT:
            return a < b
        case nodes.CompareOp.LE:
            return a <= b
        case nodes.CompareOp.GT:
            return a > b
    return a >= b


def action_key(action: nodes.ActionRef) -> ActionKey:
    return (action.verb.text, action.target.text,
            action.using.text if action.using is not None else None)


def produced_keys(rule: nodes.Rule) -> list[ActionKey]:
    return list(dict.fromkeys(action_key(a) for a in rule.actions
                              if isinstance(a, nodes.ActionRef)))

