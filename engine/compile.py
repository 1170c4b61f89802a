"""Compile: a checked policy's conditions into Python closures, once per policy.

Stage: after the checker, before any evaluation.
Input: a `CheckedPolicy` (every Name resolved, every expression typed).
Output: a `Program`: the layout of an evaluation's value list `env` (facts in
schema order, then params, then one cache slot per let), one test closure
per rule in source order, and the `Code` of every expression node (explain
reuses it, so an explanation always agrees with the decision).
Semantics fixed here: arithmetic is exact Decimal in a private context
(`0.1 CNY + 0.2 CNY == 0.3 CNY`); `x / 0` is UNDEFINED and any comparison,
`between` or `in` with an UNDEFINED operand is false; a let is computed at
most once per evaluation.
Must not: eval/exec/compile() anything built from policy text; raise on
user data at run time; allocate per call beyond the let cache.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from engine.facts import Marker
from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind, literal_value
from policylang.schema_model import FactType
from policylang.typesys import TypeKind

Env = list[Any]
Fn = Callable[[Env], Any]


UNDEFINED: Any = Marker("UNDEFINED")   # the value of `x / 0`
UNSET: Any = Marker("UNSET")           # a let slot not computed yet in this evaluation

# Exact arithmetic whatever the caller's thread context says: equal inputs, equal output.
DECIMAL = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN, Emin=-999999,
                          Emax=999999, traps=[decimal.InvalidOperation,
                                              decimal.DivisionByZero, decimal.Overflow])


@attrs.frozen(slots=True)
class Code:
    """A compiled expression: `fn(env)` gives its value. `const`/`value` when it is known
    at compile time; `slot` >= 0 when it reads one env slot; `undef` when it may be
    UNDEFINED (it divides); `whole` when its value is always an int."""

    fn: Fn
    const: bool = False
    value: Any = None
    slot: int = -1
    undef: bool = False
    whole: bool = False


@attrs.frozen(slots=True)
class Program:
    """What the engine runs: see the module docstring."""

    facts: tuple[str, ...]
    params: tuple[str, ...]
    lets: tuple[str, ...]
    param_defaults: tuple[Any, ...]
    let_blank: tuple[Any, ...]
    tests: tuple[Fn, ...]
    codes: Mapping[int, Code]
    let_codes: Mapping[str, Code]

    def code(self, expr: nodes.Expr) -> Code:
        return self.codes[id(expr)]


LetWrapper = Callable[[str, Fn], Fn]


def compile_program(checked: CheckedPolicy, facts: tuple[str, ...], *,
                    wrap_let: LetWrapper | None = None) -> Program:
    """Compile every rule condition (and the lets they use) of `checked`; `facts` is
    the order of the fact values in the value list (the validator's).
    `wrap_let` (for tests) wraps each let's computation."""
    params = tuple(checked.params)
    lets = tuple(checked.lets)
    compiler = _Compiler(checked, facts, params, lets, wrap_let)
    tests = tuple(compiler.test(rule.condition) for rule in checked.rules)
    for statement in checked.asserts:        # compiled too: the analyser confirms its
        if isinstance(statement, nodes.Assert):  # witnesses on the engine, conditions included
            compiler.expr(statement.condition)
    return Program(facts=facts, params=params, lets=lets,
                   param_defaults=tuple(p.value for p in checked.params.values()),
                   let_blank=(UNSET,) * len(lets), tests=tests,
                   codes=compiler.codes, let_codes=compiler.let_codes)


def constant(value: Any) -> Code:
    return Code(lambda env: value, const=True, value=value, undef=value is UNDEFINED,
                whole=type(value) is int)


def divide(left: Any, right: Any) -> Any:
    """`left / right` exactly; UNDEFINED when `right` is zero."""
    return UNDEFINED if right == 0 else DECIMAL.divide(left, right)


_EXACT_OPS: dict[nodes.ArithOp, Callable[[Any, Any], Any]] = {
    nodes.ArithOp.ADD: DECIMAL.add, nodes.ArithOp.SUB: DECIMAL.subtract,
    nodes.ArithOp.MUL: DECIMAL.multiply, nodes.ArithOp.DIV: divide}
_WHOLE_OPS: dict[nodes.ArithOp, Callable[[Any, Any], Any]] = {
    nodes.ArithOp.ADD: operator.add, nodes.ArithOp.SUB: operator.sub,
    nodes.ArithOp.MUL: operator.mul}
COMPARE: dict[nodes.CompareOp, Callable[[Any, Any], bool]] = {
    nodes.CompareOp.EQ: operator.eq, nodes.CompareOp.NE: operator.ne,
    nodes.CompareOp.LT: operator.lt, nodes.CompareOp.LE: operator.le,
    nodes.CompareOp.GT: operator.gt, nodes.CompareOp.GE: operator.ge}
_MIRROR = {nodes.CompareOp.LT: nodes.CompareOp.GT, nodes.CompareOp.LE: nodes.CompareOp.GE,
           nodes.CompareOp.GT: nodes.CompareOp.LT, nodes.CompareOp.GE: nodes.CompareOp.LE,
           nodes.CompareOp.EQ: nodes.CompareOp.EQ, nodes.CompareOp.NE: nodes.CompareOp.NE}


class _Compiler:
    """One pass over the rules; memoises the Code of every node by identity."""

    def __init__(self, checked: CheckedPolicy, facts: tuple[str, ...],
                 params: tuple[str, ...], lets: tuple[str, ...],
                 wrap_let: LetWrapper | None) -> None:
        self.checked = checked
        self.fact_slots = {name: i for i, name in enumerate(facts)}
        self.param_slots = {name: len(facts) + i for i, name in enumerate(params)}
        self.let_slots = {name: len(facts) + len(params) + i for i, name in enumerate(lets)}
        self.let_uses = _count_let_uses(checked)
        self.wrap_let = wrap_let
        self.codes: dict[int, Code] = {}
        self.let_codes: dict[str, Code] = {}

    def test(self, condition: nodes.Expr) -> Fn:
        code = self.expr(condition)
        if code.const:
            value = bool(code.value)
            return lambda env: value
        return code.fn

    def expr(self, node: nodes.Expr) -> Code:
        code = self.codes.get(id(node))
        if code is None:
            code = _DISPATCH[type(node)](self, node)
            self.codes[id(node)] = code
        return code

    # -- names ------------------------------------------------------------------------
    def name(self, node: nodes.Name) -> Code:
        resolution = self.checked.resolve(node)
        kind, text = resolution.kind, resolution.name
        if kind is NameKind.ENUM_VALUE:
            return constant(text)
        if kind is NameKind.LET:
            return self.let(text)
        if kind is NameKind.FACT:
            slot = self.fact_slots[text]
            whole = self.checked.schema.facts[text].type in (FactType.INT, FactType.DAYS)
        else:
            slot = self.param_slots[text]
            whole = resolution.type.kind is TypeKind.DAYS
        return Code(operator.itemgetter(slot), slot=slot, whole=whole)

    def let(self, name: str) -> Code:
        code = self.let_codes.get(name)
        if code is not None:
            return code
        inner = self.expr(self.checked.lets[name].node.expr)
        if self.wrap_let is None and (inner.const or inner.slot >= 0):
            code = inner                              # free to read: nothing to cache
        else:
            compute = inner.fn if self.wrap_let is None else self.wrap_let(name, inner.fn)
            shared = self.let_uses.get(name, 0) > 1 or self.wrap_let is not None
            fn = _cached(self.let_slots[name], compute) if shared else compute
            code = Code(fn, undef=inner.undef, whole=inner.whole)
        self.let_codes[name] = code
        return code

    # -- values -----------------------------------------------------------------------
    def literal(self, node: nodes.Literal) -> Code:
        return constant(literal_value(node))

    def negate(self, node: nodes.Negate) -> Code:
        inner = self.expr(node.operand)
        if inner.const:
            return constant(_negated(inner.value))
        fn = inner.fn
        if inner.undef:
            return Code(lambda env: _negated(fn(env)), undef=True, whole=inner.whole)
        return Code(lambda env: -fn(env), whole=inner.whole)

    def arith(self, node: nodes.Arith) -> Code:
        left, right = self.expr(node.left), self.expr(node.right)
        whole = left.whole and right.whole and node.op in _WHOLE_OPS
        op = _WHOLE_OPS[node.op] if whole else _EXACT_OPS[node.op]
        if left.const and right.const:
            undefined = UNDEFINED in (left.value, right.value)
            return constant(UNDEFINED if undefined else op(left.value, right.value))
        divides = node.op is nodes.ArithOp.DIV and not (right.const and right.value != 0)
        undef = left.undef or right.undef or divides
        return Code(_binary(op, left, right), undef=undef, whole=whole)

    # -- conditions -------------------------------------------------------------------
    def compare(self, node: nodes.Compare) -> Code:
        left, right = self.expr(node.left), self.expr(node.right)
        op = node.op
        if left.const and not right.const:
            left, right, op = right, left, _MIRROR[op]
        left, right = _align(left, right), _align(right, left)
        if right.const and (right.value is UNDEFINED or left.const):
            return constant(_safe_compare(COMPARE[op], left.value, right.value))
        if right.const and left.slot >= 0:
            return Code(_slot_test(op, left.slot, right.value))
        if right.slot >= 0 and left.slot >= 0:
            return Code(_slots_test(op, left.slot, right.slot))
        return Code(_compare_fn(COMPARE[op], left, right))

    def between(self, node: nodes.Between) -> Code:
        subject, low, high = (self.expr(n) for n in (node.subject, node.low, node.high))
        low, high = _align(low, subject), _align(high, subject)
        parts = (subject, low, high)
        if all(p.const for p in parts):
            return constant(_safe_between(subject.value, low.value, high.value))
        if subject.slot >= 0 and low.const and high.const and not (low.undef or high.undef):
            slot, lo, hi = subject.slot, low.value, high.value
            return Code(lambda env: lo <= env[slot] <= hi)
        fns = tuple(p.fn for p in parts)
        return Code(lambda env: _safe_between(*(f(env) for f in fns)))

    def in_set(self, node: nodes.InSet) -> Code:
        subject = self.expr(node.subject)
        items = [_align(self.expr(i), subject) for i in node.items]
        negated = node.negated
        if all(i.const and not i.undef for i in items):
            values = frozenset(i.value for i in items)
            if subject.const:
                return constant(_safe_member(subject.value, values, negated))
            if subject.slot >= 0 and negated:
                slot = subject.slot
                return Code(lambda env: env[slot] not in values)
            if subject.slot >= 0:
                slot = subject.slot
                return Code(lambda env: env[slot] in values)
            fn = subject.fn
            return Code(lambda env: _safe_member(fn(env), values, negated))
        fns = tuple(i.fn for i in items)
        sub = subject.fn
        return Code(lambda env: _safe_member(sub(env), [f(env) for f in fns], negated))

    def not_(self, node: nodes.Not) -> Code:
        inner = self.expr(node.operand)
        if inner.const:
            return constant(not inner.value)
        fn = inner.fn
        return Code(lambda env: not fn(env))

    def and_(self, node: nodes.And) -> Code:
        return self._chain(node, nodes.And, absorbing=False)

    def or_(self, node: nodes.Or) -> Code:
        return self._chain(node, nodes.Or, absorbing=True)

    def _chain(self, node: nodes.And | nodes.Or, kind: type, *, absorbing: bool) -> Code:
        """`and` (absorbing False) or `or` (absorbing True), flattened and folded."""
        for operand in node.operands:
            self.expr(operand)                        # every node gets Code, for explain
        fns: list[Fn] = []
        for leaf in _leaves(node, kind):
            code = self.expr(leaf)
            if code.const and bool(code.value) is absorbing:
                return constant(absorbing)
            if not code.const:
                fns.append(code.fn)
        if not fns:
            return constant(not absorbing)
        return Code(_chain_fn(fns, absorbing=absorbing))


_DISPATCH: dict[type, Callable[[_Compiler, Any], Code]] = {
    nodes.Name: _Compiler.name, nodes.Negate: _Compiler.negate, nodes.Arith: _Compiler.arith,
    nodes.Compare: _Compiler.compare, nodes.Between: _Compiler.between,
    nodes.InSet: _Compiler.in_set, nodes.Not: _Compiler.not_, nodes.And: _Compiler.and_,
    nodes.Or: _Compiler.or_,
    **{kind: _Compiler.literal for kind in (nodes.Number, nodes.Percent, nodes.Duration,
                                            nodes.Money, nodes.String, nodes.Bool)}}


# -- closure builders -----------------------------------------------------------------

def _cached(slot: int, compute: Fn) -> Fn:
    def read(env: Env) -> Any:
        value = env[slot]
        if value is UNSET:
            value = env[slot] = compute(env)
        return value
    return read


def _negated(value: Any) -> Any:
    return UNDEFINED if value is UNDEFINED else -value


def _align(code: Code, other: Code) -> Code:
    """A whole-valued Decimal constant compared with an int becomes an int (faster, same
    meaning)."""
    if (code.const and other.whole and isinstance(code.value, decimal.Decimal)
            and code.value == code.value.to_integral_value()):
        return constant(int(code.value))
    return code


def _binary(op: Callable[[Any, Any], Any], left: Code, right: Code) -> Fn:
    lf, rf = left.fn, right.fn
    if left.undef or right.undef:
        def checked(env: Env) -> Any:
            a, b = lf(env), rf(env)
            return UNDEFINED if a is UNDEFINED or b is UNDEFINED else op(a, b)
        return checked
    if right.const:
        k = right.value
        return lambda env: op(lf(env), k)
    if left.const:
        k = left.value
        return lambda env: op(k, rf(env))
    return lambda env: op(lf(env), rf(env))


def _safe_compare(op: Callable[[Any, Any], bool], left: Any, right: Any) -> bool:
    return left is not UNDEFINED and right is not UNDEFINED and op(left, right)


def _safe_between(value: Any, low: Any, high: Any) -> bool:
    return UNDEFINED not in (value, low, high) and low <= value <= high


def _safe_member(value: Any, items: Any, negated: bool) -> bool:
    if value is UNDEFINED or any(i is UNDEFINED for i in items):
        return False
    return (value not in items) if negated else (value in items)


def _slot_test(op: nodes.CompareOp, slot: int, k: Any) -> Fn:
    """The hot shape `fact OP constant`, one closure per operator (no operator call)."""
    match op:
        case nodes.CompareOp.EQ:
            return lambda env: env[slot] == k
        case nodes.CompareOp.NE:
            return lambda env: env[slot] != k
        case nodes.CompareOp.LT:
            return lambda env: env[slot] < k
        case nodes.CompareOp.LE:
            return lambda env: env[slot] <= k
        case nodes.CompareOp.GT:
            return lambda env: env[slot] > k
    return lambda env: env[slot] >= k


def _slots_test(op: nodes.CompareOp, i: int, j: int) -> Fn:
    """The shape `fact OP param` (or fact OP fact)."""
    match op:
        case nodes.CompareOp.EQ:
            return lambda env: env[i] == env[j]
        case nodes.CompareOp.NE:
            return lambda env: env[i] != env[j]
        case nodes.CompareOp.LT:
            return lambda env: env[i] < env[j]
        case nodes.CompareOp.LE:
            return lambda env: env[i] <= env[j]
        case nodes.CompareOp.GT:
            return lambda env: env[i] > env[j]
    return lambda env: env[i] >= env[j]


def _compare_fn(op: Callable[[Any, Any], bool], left: Code, right: Code) -> Fn:
    lf, rf = left.fn, right.fn
    if left.undef or right.undef:
        return lambda env: _safe_compare(op, lf(env), rf(env))
    if right.const:
        k = right.value
        return lambda env: op(lf(env), k)
    return lambda env: op(lf(env), rf(env))


def _chain_fn(fns: list[Fn], *, absorbing: bool) -> Fn:
    """`or` (absorbing True) or `and` of closures, unrolled for the common short chains."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return (lambda env: a(env) or b(env)) if absorbing else (lambda env: a(env) and b(env))
    if len(fns) == 3:
        a, b, c = fns
        if absorbing:
            return lambda env: a(env) or b(env) or c(env)
        return lambda env: a(env) and b(env) and c(env)
    chain = tuple(fns)

    def run(env: Env) -> bool:
        for fn in chain:
            if bool(fn(env)) is absorbing:
                return absorbing
        return not absorbing
    return run


def _leaves(node: nodes.And | nodes.Or, kind: type) -> Iterator[nodes.Expr]:
    """The operands of an and/or chain, with nested chains of the same kind flattened."""
    for operand in node.operands:
        if isinstance(operand, kind):
            yield from _leaves(operand, kind)  # type: ignore[arg-type]
        else:
            yield operand


def _count_let_uses(checked: CheckedPolicy) -> dict[str, int]:
    """How many Name nodes refer to each let, over rule conditions and let bodies."""
    uses: dict[str, int] = {}
    roots: list[Any] = [r.condition for r in checked.rules]
    roots += [info.node.expr for info in checked.lets.values()]
    for root in roots:
        for name in nodes.name_nodes(root):
            resolution = checked.names.get(id(name))
            if resolution is not None and resolution.kind is NameKind.LET:
                uses[resolution.name] = uses.get(resolution.name, 0) + 1
    return uses


__all__ = ["DECIMAL", "UNDEFINED", "UNSET", "Code", "Program", "compile_program"]
