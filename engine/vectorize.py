"""Vectorise: a policy's rule conditions as functions over NumPy columns.

Stage: after compile, for batch evaluation (`columnar.py`); it reuses the row
engine's `Program`, so a constant the row engine folded has the row engine's value.
Input: a `CheckedPolicy`, its `Program` and the enum code table.
Output: `VectorTests`: per rule (in the order given) a function from a `Frame` (n
loans' facts as columns, the params, a let cache) to a bool array: which loans the
rule's condition holds for.
Value forms: numbers, days and money are `Num` (scaled int64: value = data / 10**scale,
exact); bools are bool arrays; enum values are int codes (`enum_codes`); strings are
object arrays. A Python scalar in place of an array means one value for every loan.
Exactness: the row engine computes in exact Decimal (40 digits) and Python int. Every
`Num` step checks, from its operands' bounds, that the exact result fits int64 (so it
has at most 19 digits and the row engine did not round it either); when it would not
fit, it raises `Unvectorisable`. Division is exact only by a row-invariant value whose
digits are 2^i * 5^j (x / 4 == x * 0.25); a constant or param divisor of 0 gives
UNDEFINED on every row, and a comparison, `between` or `in` with UNDEFINED is false.
Fallback: a comparison, `between` or `in` that cannot be vectorised exactly is
evaluated loan by loan with the row engine's own compiled closure for that node
(`Program.code`), only on the loans where its `and`/`or` still needs it. Known when
compiling (listed in `VectorTests.per_row`): a division by a value that varies by loan,
or by a constant like 3 or 0.3 whose inverse has no finite decimal (the row engine
rounds it to 40 digits), a constant of more than 19 digits. Found per batch: a value
or intermediate result too big for int64, a param divisor like 3.
Must not: eval/exec anything; use floats; change what any rule matches.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs
import numpy as np

from engine.compile import COMPARE, UNDEFINED, Program
from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind
from policylang.schema_model import Schema
from policylang.typesys import TypeKind

INT64_MAX = 2**63 - 1
Sel = np.ndarray | None          # the rows whose result matters (None: all of them)
ValueFn = Callable[["Frame"], Any]
TestFn = Callable[["Frame", Sel], Any]
_NUMERIC = (TypeKind.NUMBER, TypeKind.DAYS, TypeKind.MONEY)


class Unvectorisable(Exception):
    """No exact vector form: raised at compile time for a construct (the node is then
    evaluated loan by loan), or at run time when a value would not fit int64."""


@attrs.frozen(slots=True)
class Num:
    """An exact decimal column: value = data / 10**scale. `data` is an int64 array or a
    Python int (one value for all loans); `bound` >= every |data|, and <= INT64_MAX."""

    data: Any
    scale: int
    bound: int


@attrs.define(slots=True)
class Frame:
    """One batch: the facts of `n` loans, the params, and what was computed so far.
    `fact(name)` is a fact's vector form (or raises Unvectorisable); `envs(rows)` gives
    the row engine's value lists of those rows (for the loan-by-loan fallback)."""

    n: int
    fact: Callable[[str], Any]
    params: tuple[Any, ...]
    envs: Callable[[np.ndarray], list[list[Any]]]
    lets: dict[Any, Any] = attrs.field(factory=dict)     # by let name, ("param", name)


@attrs.frozen(slots=True)
class VectorTests:
    """One test per rule, in the order asked for, and the nodes that go loan by loan."""

    tests: tuple[TestFn, ...]
    per_row: tuple[str, ...]


def enum_codes(schema: Schema) -> dict[str, int]:
    """One small int per enum value of the schema (all enums share the table, so two
    enum facts with the same values compare by code)."""
    values = sorted({v for fact in schema.facts.values() for v in fact.values or ()})
    return {value: code for code, value in enumerate(values)}


def vectorise(checked: CheckedPolicy, program: Program, rules: tuple[nodes.Rule, ...],
              codes: Mapping[str, int]) -> VectorTests:
    """Vector tests for `rules` (rules of `checked`, in the order wanted)."""
    maker = _Vectoriser(checked, program, codes)
    tests = []
    for rule in rules:
        maker.rule = checked.rule_name(rule)
        maker.source = checked.source_of(rule)
        tests.append(_broadcast(maker.test(rule.condition)[0]))
    return VectorTests(tuple(tests), tuple(maker.per_row))


def _broadcast(fn: TestFn) -> TestFn:
    """A rule's test as one bool per loan (a test may give one bool for all of them)."""
    def run(frame: Frame, sel: Sel) -> np.ndarray:
        value = fn(frame, sel)
        if isinstance(value, np.ndarray) and value.ndim:
            return value.astype(bool, copy=False)
        return np.full(frame.n, bool(value))
    return run


# -- exact numbers ---------------------------------------------------------------------

def decimal_places(denominator: int) -> int | None:
    """k such that denominator divides 10**k (it is 2^i * 5^j), else None."""
    twos = (denominator & -denominator).bit_length() - 1
    rest, fives = denominator >> twos, 0
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    return max(twos, fives) if rest == 1 else None


def num_of(value: int | Decimal) -> Num:
    """A run-time number as a `Num` with the fewest decimal places, exactly."""
    numerator, denominator = value.as_integer_ratio()
    places = decimal_places(denominator)
    if places is None:           # a finite Decimal always has a power-of-ten denominator
        raise Unvectorisable(f"{value} has no finite decimal form")
    data = numerator * (10**places // denominator)
    while places and data % 10 == 0:
        data, places = data // 10, places - 1
    return Num(data, places, _fits(abs(data)))


def _fits(bound: int) -> int:
    if bound > INT64_MAX:
        raise Unvectorisable("a value does not fit in 64 bits")
    return bound


def _rescaled(x: Num, scale: int) -> Num:
    """`x` with `scale` >= x.scale decimal places (its data times a power of ten)."""
    if scale == x.scale:
        return x
    factor = 10 ** (scale - x.scale)
    return Num(x.data * _fits(factor), scale, _fits(x.bound * factor))


def _aligned(*values: Num) -> list[Num]:
    """`values` brought to one scale (so they add and compare as integers)."""
    scale = max(v.scale for v in values)
    return [_rescaled(v, scale) for v in values]


def _add(a: Num, b: Num) -> Num:
    left, right = _aligned(a, b)
    return Num(left.data + right.data, left.scale, _fits(left.bound + right.bound))


def _subtract(a: Num, b: Num) -> Num:
    return _add(a, _negated(b))


def _negated(a: Num) -> Num:
    return Num(-a.data, a.scale, a.bound)


def _multiply(a: Num, b: Num) -> Num:
    return Num(a.data * b.data, a.scale + b.scale, _fits(a.bound * b.bound))


def _divide(a: Num, b: Num) -> Any:
    """a / b for a divisor that is one value for every loan: UNDEFINED when it is zero,
    a * (1 / b) when 1 / b is a finite decimal, else Unvectorisable."""
    if isinstance(b.data, np.ndarray):
        raise Unvectorisable("division by a value that varies by loan")
    if b.data == 0:
        return UNDEFINED
    places = decimal_places(abs(b.data))
    if places is None:
        raise Unvectorisable(f"1 / {_text(b)} is not a finite decimal")
    inverse = 10**places // b.data          # 1 / b == inverse / 10**(places - b.scale)
    product = _multiply(a, Num(inverse, 0, _fits(abs(inverse))))
    scale = product.scale + places - b.scale
    return _rescaled(Num(product.data, scale, product.bound), max(scale, 0))


def _text(x: Num) -> str:
    return str(Decimal(x.data).scaleb(-x.scale))


_ARITH: dict[nodes.ArithOp, Callable[[Num, Num], Any]] = {
    nodes.ArithOp.ADD: _add, nodes.ArithOp.SUB: _subtract, nodes.ArithOp.MUL: _multiply,
    nodes.ArithOp.DIV: _divide}


# -- the compiler ----------------------------------------------------------------------

_MISSING: Any = object()          # a let not computed yet in this frame


class _Vectoriser:
    """One pass over the rules. A bool node compiles to `(fn(frame, sel), slow)`, `slow`
    when some part of it goes loan by loan; any other node to `fn(frame)`, or raises
    Unvectorisable. Lets compile once and are computed at most once per frame."""

    def __init__(self, checked: CheckedPolicy, program: Program,
                 codes: Mapping[str, int]) -> None:
        self.checked = checked
        self.program = program
        self.codes = codes
        self.params = {name: i for i, name in enumerate(program.params)}
        self.let_tests: dict[str, tuple[TestFn, bool]] = {}
        self.let_values: dict[str, ValueFn] = {}
        self.let_failures: dict[str, Unvectorisable] = {}
        self.per_row: list[str] = []
        self.rule = ""
        self.source = checked.source          # the file of the rule being vectorised

    def kind(self, node: nodes.Expr) -> TypeKind:
        return self.checked.type_of(node).kind

    # -- conditions ---------------------------------------------------------------------
    def test(self, node: nodes.Expr) -> tuple[TestFn, bool]:
        code = self.program.code(node)
        if code.const:
            value = bool(code.value)
            return (lambda frame, sel: value), False
        match node:
            case nodes.Not(operand=operand):
                inner, slow = self.test(operand)
                return (lambda frame, sel: np.logical_not(inner(frame, sel))), slow
            case nodes.And() | nodes.Or():
                return self.chain(node)
            case nodes.Name():
                return self.bool_name(node)
        return self.atom(node)

    def chain(self, node: nodes.And | nodes.Or) -> tuple[TestFn, bool]:
        """`and`/`or`: the vectorised operands first (no operand has side effects), then
        each loan-by-loan operand only on the loans the chain has not decided yet."""
        absorbing = isinstance(node, nodes.Or)
        combine = np.logical_or if absorbing else np.logical_and
        parts = sorted((self.test(leaf) for leaf in _leaves(node, type(node))),
                       key=operator.itemgetter(1))

        def run(frame: Frame, sel: Sel) -> Any:
            result = parts[0][0](frame, sel)
            for fn, slow in parts[1:]:
                if slow:
                    sel = _undecided(result, sel, absorbing, frame.n)
                    if not sel.size:
                        break
                result = combine(result, fn(frame, sel))
            return result
        return run, parts[-1][1]

    def bool_name(self, node: nodes.Name) -> tuple[TestFn, bool]:
        resolution = self.checked.resolve(node)
        name = resolution.name
        if resolution.kind is NameKind.FACT:
            return (lambda frame, sel: frame.fact(name)), False
        if resolution.kind is NameKind.PARAM:
            index = self.params[name]
            return (lambda frame, sel: bool(frame.params[index])), False
        found = self.let_tests.get(name)
        if found is None:
            found = self.let_tests[name] = self.bool_let(name)
        return found

    def bool_let(self, name: str) -> tuple[TestFn, bool]:
        inner, slow = self.test(self.checked.lets[name].node.expr)
        if slow:              # computed for each user's rows, so only where needed
            return inner, True

        def cached(frame: Frame, sel: Sel) -> Any:
            value = frame.lets.get(name, _MISSING)
            if value is _MISSING:
                value = frame.lets[name] = inner(frame, None)
            return value
        return cached, False

    def atom(self, node: nodes.Expr) -> tuple[TestFn, bool]:
        """A comparison, `between` or `in`: vectorised when it can be done exactly, else
        (at compile time or, on a too big value, at run time) loan by loan."""
        per_row = self.per_row_test(node)
        try:
            vector = self.atom_vector(node)
        except Unvectorisable as why:
            text = self.source.text[node.span.start:node.span.end]
            self.per_row.append(f"{self.rule}: `{text}` ({why})")
            return per_row, True

        def run(frame: Frame, sel: Sel) -> Any:
            try:
                return vector(frame)
            except Unvectorisable:
                return per_row(frame, sel)
        return run, False

    def per_row_test(self, node: nodes.Expr) -> TestFn:
        """The row engine's closure for `node`, applied to the rows in `sel`."""
        fn = self.program.code(node).fn

        def run(frame: Frame, sel: Sel) -> np.ndarray:
            rows = np.arange(frame.n) if sel is None else sel
            out = np.zeros(frame.n, dtype=bool)
            out[rows] = np.fromiter((bool(fn(env)) for env in frame.envs(rows)),
                                    dtype=bool, count=len(rows))
            return out
        return run

    def atom_vector(self, node: nodes.Expr) -> ValueFn:
        match node:
            case nodes.Compare(op=op, left=left, right=right):
                return self.compare(COMPARE[op], left, right)
            case nodes.Between(subject=subject, low=low, high=high):
                return self.between(subject, low, high)
            case nodes.InSet(subject=subject, items=items, negated=negated):
                return self.member(subject, items, negated)
        raise Unvectorisable(f"no vector form for {type(node).__name__}")

    def compare(self, compare: Callable[[Any, Any], Any], left: nodes.Expr,
                right: nodes.Expr) -> ValueFn:
        lf, rf = self.value(left), self.value(right)
        if self.kind(left) not in _NUMERIC:
            return lambda frame: compare(lf(frame), rf(frame))

        def numbers(frame: Frame) -> Any:
            a, b = lf(frame), rf(frame)
            if a is UNDEFINED or b is UNDEFINED:
                return False
            a, b = _aligned(a, b)
            return compare(a.data, b.data)
        return numbers

    def between(self, *operands: nodes.Expr) -> ValueFn:
        fns = [self.value(operand) for operand in operands]

        def run(frame: Frame) -> Any:
            parts = [fn(frame) for fn in fns]
            if any(part is UNDEFINED for part in parts):
                return False
            value, low, high = _aligned(*parts)
            return np.logical_and(low.data <= value.data, value.data <= high.data)
        return run

    def member(self, subject: nodes.Expr, items: tuple[nodes.Expr, ...],
               negated: bool) -> ValueFn:
        subject_fn = self.value(subject)
        item_fns = [self.value(item) for item in items]
        numeric = self.kind(subject) in _NUMERIC

        def run(frame: Frame) -> Any:
            value, found = subject_fn(frame), [fn(frame) for fn in item_fns]
            if numeric:
                if value is UNDEFINED or any(item is UNDEFINED for item in found):
                    return False
                value, *found = (num.data for num in _aligned(value, *found))
            hit: Any = False
            for item in found:
                hit = np.logical_or(hit, value == item)
            return np.logical_not(hit) if negated else hit
        return run

    # -- values -------------------------------------------------------------------------
    def value(self, node: nodes.Expr) -> ValueFn:
        kind = self.kind(node)
        if kind is TypeKind.BOOL:
            fn = self.test(node)[0]
            return lambda frame: fn(frame, None)
        code = self.program.code(node)
        if code.const:            # the row engine's folded value, rounding included
            constant = self.constant(code.value, kind)
            return lambda frame: constant
        match node:
            case nodes.Name():
                return self.value_name(node, kind)
            case nodes.Negate(operand=operand):
                inner = self.value(operand)
                return lambda frame: _negate(inner(frame))
            case nodes.Arith(op=op, left=left, right=right):
                if op is nodes.ArithOp.DIV:
                    self.check_divisor(right)
                return _arith(_ARITH[op], self.value(left), self.value(right))
        raise Unvectorisable(f"no vector form for {type(node).__name__}")

    def constant(self, value: Any, kind: TypeKind) -> Any:
        if value is UNDEFINED:
            return UNDEFINED
        if kind in _NUMERIC:
            return num_of(value)
        return self.codes[value] if kind is TypeKind.ENUM else value

    def value_name(self, node: nodes.Name, kind: TypeKind) -> ValueFn:
        resolution = self.checked.resolve(node)
        name = resolution.name
        if resolution.kind is NameKind.FACT:
            return lambda frame: frame.fact(name)
        if resolution.kind is NameKind.PARAM:
            index, key = self.params[name], ("param", name)

            def param(frame: Frame) -> Any:
                value = frame.lets.get(key, _MISSING)
                if value is _MISSING:
                    value = frame.lets[key] = self.constant(frame.params[index], kind)
                return value
            return param
        found = self.let_values.get(name)
        if found is None:
            found = self.let_values[name] = self.value_let(name)
        return found

    def value_let(self, name: str) -> ValueFn:
        failure = self.let_failures.get(name)
        if failure is not None:
            raise failure
        try:
            inner = self.value(self.checked.lets[name].node.expr)
        except Unvectorisable as why:
            self.let_failures[name] = why
            raise

        def cached(frame: Frame) -> Any:
            value = frame.lets.get(name, _MISSING)
            if value is _MISSING:
                value = frame.lets[name] = inner(frame)
            return value
        return cached

    def check_divisor(self, node: nodes.Expr) -> None:
        """Unvectorisable unless x / `node` is exact: `node` is one value for every loan
        and, when it is a constant, its digits are 2^i * 5^j (a param is checked per
        batch, in `_divide`)."""
        if self.varies(node):
            raise Unvectorisable("division by a value that varies by loan")
        code = self.program.code(node)
        if code.const and code.value is not UNDEFINED and code.value != 0:
            _divide(Num(0, 0, 0), num_of(code.value))

    def varies(self, node: nodes.Expr) -> bool:
        """Whether `node`'s value can differ between loans (it reads a fact)."""
        for name in nodes.name_nodes(node):
            resolution = self.checked.resolve(name)
            if resolution.kind is NameKind.FACT:
                return True
            if resolution.kind is NameKind.LET and self.varies(
                    self.checked.lets[resolution.name].node.expr):
                return True
        return False


def _arith(apply: Callable[[Num, Num], Any], left: ValueFn, right: ValueFn) -> ValueFn:
    def run(frame: Frame) -> Any:
        a, b = left(frame), right(frame)
        return UNDEFINED if a is UNDEFINED or b is UNDEFINED else apply(a, b)
    return run


def _negate(value: Any) -> Any:
    return UNDEFINED if value is UNDEFINED else _negated(value)


def _undecided(result: Any, sel: Sel, absorbing: bool, n: int) -> np.ndarray:
    """The rows of `sel` an `and` (still true) or `or` (still false) has not decided."""
    open_rows = np.broadcast_to(np.asarray(result, dtype=bool), (n,))
    if absorbing:
        open_rows = ~open_rows
    return np.flatnonzero(open_rows) if sel is None else sel[open_rows[sel]]


def _leaves(node: nodes.And | nodes.Or, kind: type) -> Iterator[nodes.Expr]:
    """The operands of an and/or chain, nested chains of the same kind flattened."""
    for operand in node.operands:
        if isinstance(operand, kind):
            yield from _leaves(operand, kind)  # type: ignore[arg-type]
        else:
            yield operand
