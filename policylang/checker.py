"""Checker: names and types of every expression, units, lets that loop.

Input: a parsed `Policy`, its `Schema` and source. Output: a `CheckedPolicy`
when there is no error, and every diagnostic found (names, types, units,
duplicates, catalogue). An expression already in error reports nothing
further. Must not: evaluate anything or stop at the first error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import attrs

from policylang import nodes
from policylang.checked import CheckedPolicy, LetInfo, NameKind, Resolution
from policylang.declarations import Declarations, collect, literal_type, read_header
from policylang.diagnostics import Diagnostic, diagnostic, has_errors
from policylang.schema_model import Schema
from policylang.source import SourceFile
from policylang.suggest import did_you_mean
from policylang.typesys import (
    BOOL,
    ERROR,
    NUMBER,
    Type,
    TypeKind,
    arith_result,
    comparable,
    fact_type,
)


@attrs.frozen(slots=True)
class CheckResult:
    checked: CheckedPolicy | None
    diagnostics: tuple[Diagnostic, ...]


def policy_digest(policy_text: str, schema_text: str) -> str:
    """sha256 over the policy text, a NUL byte, and the schema text."""
    digest = hashlib.sha256()
    digest.update(policy_text.encode("utf-8"))
    digest.update(b"\0")
    digest.update(schema_text.encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def read_structure(policy: nodes.Policy, file: str) -> Declarations:
    """The header and schema line (needed before the schema can be loaded)."""
    return read_header(policy, file)


def check(policy: nodes.Policy, comments: Sequence[nodes.Comment], source: SourceFile,
          schema: Schema, decls: Declarations) -> CheckResult:
    """Check a parsed policy against its schema."""
    collect(policy, schema, decls, source.name)
    typer = _Typer(schema, decls, source.name)
    lets = typer.type_lets()
    for rule in decls.rules:
        typer.condition(rule.condition, f"the condition of rule {nodes.rule_name(rule)}")
    for statement in decls.asserts:
        typer.assertion(statement)
    diagnostics = tuple(decls.diagnostics + typer.diagnostics)
    if has_errors(diagnostics):
        return CheckResult(None, diagnostics)
    header = decls.header
    assert header is not None
    checked = CheckedPolicy(
        source=source, policy=policy, comments=tuple(comments), schema=schema,
        name=header.name.text, version=header.version,
        title=getattr(header, "title", None), params=dict(decls.params), lets=lets,
        rules=tuple(decls.rules), asserts=tuple(decls.asserts), types=typer.types,
        names=typer.names, digest=policy_digest(source.text, schema.text),
        is_guard=isinstance(header, nodes.GuardHeader))
    return CheckResult(checked, diagnostics)


class _Typer:
    """Types expressions, recording each node's type and each name's resolution."""

    def __init__(self, schema: Schema, decls: Declarations, file: str) -> None:
        self.schema = schema
        self.decls = decls
        self.file = file
        self.types: dict[int, Type] = {}
        self.names: dict[int, Resolution] = {}
        self.diagnostics: list[Diagnostic] = []
        self.let_types: dict[str, Type] = {}
        self.let_order: list[str] = []
        self.in_progress: list[str] = []

    def report(self, code: str, span_of: nodes.Expr | nodes.Ident, message: str,
               hint: str | None = None) -> Type:
        self.diagnostics.append(diagnostic(code, span_of.span, message, hint, file=self.file))
        return ERROR

    # -- lets and statements ---------------------------------------------
    def type_lets(self) -> dict[str, LetInfo]:
        for name in self.decls.lets:
            self.let_type(name)
        return {name: LetInfo(name, self.let_types[name], self.decls.lets[name])
                for name in self.let_order}

    def let_type(self, name: str, used_at: nodes.Name | None = None) -> Type:
        if name in self.let_types:
            return self.let_types[name]
        if name in self.in_progress:
            chain = " -> ".join([*self.in_progress[self.in_progress.index(name):], name])
            where = used_at or self.decls.lets[name].name
            return self.report("E305", where, f"the let `{name}` refers to itself ({chain})",
                               "a let must be defined from facts, params and other lets only")
        self.in_progress.append(name)
        result = self.expr(self.decls.lets[name].expr)
        self.in_progress.pop()
        self.let_types[name] = result
        self.let_order.append(name)
        return result

    def condition(self, expr: nodes.Expr, what: str) -> None:
        result = self.expr(expr)
        if not result.is_error and result.kind is not TypeKind.BOOL:
            self.report("E205", expr, f"{what} is {_article(result)}, not true/false",
                        _compare_hint(expr, result))

    def assertion(self, statement: nodes.Assert | nodes.AssertMonotone) -> None:
        if isinstance(statement, nodes.Assert):
            self.condition(statement.condition, "the condition of this assertion")
            return
        fact = self.schema.facts.get(statement.fact.text)
        if fact is None:
            self.report("E301", statement.fact, f"`{statement.fact.text}` is not a fact",
                        did_you_mean(statement.fact.text, self.schema.facts))
        elif not fact_type(fact).ordered:
            self.report("E207", statement.fact,
                        f"`monotone` needs a fact with an order; `{fact.name}` is "
                        f"{_article(fact_type(fact))}")

    # -- expressions -------------------------------------------------------
    def expr(self, expr: nodes.Expr, expected_enum: Type | None = None) -> Type:
        result = self._expr(expr, expected_enum)
        self.types[id(expr)] = result
        return result

    def _expr(self, expr: nodes.Expr, expected_enum: Type | None) -> Type:
        handler: Callable[..., Type] = getattr(self, "_" + type(expr).__name__.lower())
        if isinstance(expr, nodes.Name):
            return handler(expr, expected_enum)
        return handler(expr)

    def _name(self, expr: nodes.Name, expected_enum: Type | None) -> Type:
        text = expr.text
        if expected_enum is not None and text in expected_enum.values:
            return self._resolved(expr, NameKind.ENUM_VALUE, expected_enum)
        if text in self.decls.lets:
            return self._resolved(expr, NameKind.LET, self.let_type(text, expr))
        if text in self.decls.params:
            return self._resolved(expr, NameKind.PARAM, self.decls.params[text].type)
        fact = self.schema.facts.get(text)
        if fact is not None:
            return self._resolved(expr, NameKind.FACT, fact_type(fact))
        if expected_enum is not None:
            return self.report("E206", expr, f"`{text}` is not one of "
                               + ", ".join(expected_enum.values),
                               did_you_mean(text, expected_enum.values))
        known = [*self.decls.lets, *self.decls.params, *self.schema.facts]
        return self.report("E301", expr, f"`{text}` is not a fact, let or param",
                           _enum_owner_hint(text, self.schema) or did_you_mean(text, known))

    def _declared(self, text: str) -> bool:
        return text in self.decls.lets or text in self.decls.params or text in self.schema.facts

    def _resolved(self, expr: nodes.Name, kind: NameKind, result: Type) -> Type:
        if not result.is_error:
            self.names[id(expr)] = Resolution(kind, expr.text, result)
        return result

    def _number(self, expr: nodes.Number) -> Type:
        return literal_type(expr, self.schema, self.diagnostics, self.file)

    _percent = _duration = _money = _string = _bool = _number

    def _negate(self, expr: nodes.Negate) -> Type:
        operand = self.expr(expr.operand)
        if operand.is_error or operand.ordered:
            return operand
        return self.report("E203", expr, f"cannot negate {_article(operand)}")

    def _arith(self, expr: nodes.Arith) -> Type:
        left, right = self.expr(expr.left), self.expr(expr.right)
        if left.is_error or right.is_error:
            return ERROR
        result = arith_result(expr.op, left, right)
        if result is not None:
            return result
        if (expr.op in (nodes.ArithOp.ADD, nodes.ArithOp.SUB, nodes.ArithOp.DIV)
                and left.kind is right.kind is TypeKind.MONEY):
            return self.report("E204", expr, f"cannot combine {left} with {right}",
                               "convert both amounts to one currency")
        return self.report("E203", expr,
                           f"cannot compute {_article(left)} {expr.op.value} {_article(right)}",
                           _arith_hint(expr.op, left, right))

    def _compare(self, expr: nodes.Compare) -> Type:
        if isinstance(expr.left, nodes.Name) and not self._declared(expr.left.text):
            right = self.expr(expr.right)      # `lost == contact_status`: the enum decides
            if right.is_error:
                return ERROR
            left = self.expr(expr.left, expected_enum=_enum_or_none(right))
        else:
            left = self.expr(expr.left)
            if left.is_error and isinstance(expr.right, nodes.Name):
                return ERROR     # a bare name beside an error may be an enum value: say nothing
            right = self.expr(expr.right, expected_enum=_enum_or_none(left))
        if left.is_error or right.is_error:
            return ERROR
        if not self._same_type(expr, left, expr.left, right, expr.right):
            return ERROR
        if expr.op not in (nodes.CompareOp.EQ, nodes.CompareOp.NE) and not left.ordered:
            return self.report("E207", expr, f"`{expr.op.value}` needs values with an order; "
                               f"these are {_article(left)}",
                               "use == or != (or `in {...}`) instead")
        return BOOL

    def _same_type(self, where: nodes.Expr, left: Type, left_expr: nodes.Expr,
                   right: Type, right_expr: nodes.Expr) -> bool:
        if comparable(left, right):
            return True
        kinds = {left.kind, right.kind}
        if kinds == {TypeKind.DAYS, TypeKind.NUMBER}:
            number = right_expr if right.kind is TypeKind.NUMBER else left_expr
            hint = (f"did you mean {_days_words(number.value)}?"
                    if isinstance(number, nodes.Number) else "compare durations with durations")
            self.report("E202", where, f"a duration is compared with a bare number "
                        f"({_article(left)} vs {_article(right)})", hint)
        elif left.kind is right.kind is TypeKind.MONEY:
            self.report("E204", where, f"cannot compare {left} with {right}",
                        f"write the amount in {left.currency}")
        else:
            self.report("E201", where,
                        f"cannot compare {_article(left)} with {_article(right)}",
                        _compare_types_hint(left, right))
        return False

    def _between(self, expr: nodes.Between) -> Type:
        subject = self.expr(expr.subject)
        if subject.is_error:
            return ERROR
        if not subject.ordered:
            return self.report("E207", expr, f"`between` needs values with an order; "
                               f"this is {_article(subject)}",
                               "use `in {...}` to test for a set of values")
        low, high = self.expr(expr.low), self.expr(expr.high)
        if ERROR in (low, high):
            return ERROR
        ok = self._same_type(expr.low, subject, expr.subject, low, expr.low)
        ok = self._same_type(expr.high, subject, expr.subject, high, expr.high) and ok
        return BOOL if ok else ERROR

    def _inset(self, expr: nodes.InSet) -> Type:
        subject = self.expr(expr.subject)
        if subject.is_error:
            for item in expr.items:
                if not isinstance(item, nodes.Name):
                    self.expr(item)
            return ERROR
        items = [self.expr(item, expected_enum=_enum_or_none(subject)) for item in expr.items]
        if subject.is_error or any(i.is_error for i in items):
            return ERROR
        ok = True
        for item, item_type in zip(expr.items, items, strict=True):
            ok = self._same_type(item, subject, expr.subject, item_type, item) and ok
        return BOOL if ok else ERROR

    def _not(self, expr: nodes.Not) -> Type:
        return self._boolean([expr.operand], "`not`")

    def _and(self, expr: nodes.And) -> Type:
        return self._boolean(expr.operands, "`and`")

    def _or(self, expr: nodes.Or) -> Type:
        return self._boolean(expr.operands, "`or`")

    def _boolean(self, operands: Sequence[nodes.Expr], word: str) -> Type:
        results = [self.expr(op) for op in operands]
        ok = True
        for operand, result in zip(operands, results, strict=True):
            if not result.is_error and result.kind is not TypeKind.BOOL:
                self.report("E205", operand, f"{word} needs true/false on each side; "
                            f"this is {_article(result)}", _compare_hint(operand, result))
                ok = False
        return BOOL if ok and ERROR not in results else ERROR


def _days_words(amount: object) -> str:
    return f"{amount} day" if str(amount) == "1" else f"{amount} days"


def _enum_or_none(kind: Type) -> Type | None:
    return kind if kind.kind is TypeKind.ENUM else None


def _article(kind: Type) -> str:
    words = {TypeKind.BOOL: "true/false", TypeKind.NUMBER: "a number",
             TypeKind.DAYS: "a duration in days", TypeKind.STRING: "text",
             TypeKind.ENUM: "a value of {" + ", ".join(kind.values) + "}"}
    if kind.kind is TypeKind.MONEY:
        return f"money in {kind.currency}"
    return words.get(kind.kind, kind.kind.value)


def _compare_hint(expr: nodes.Expr, kind: Type) -> str | None:
    name = expr.text if isinstance(expr, nodes.Name) else "it"
    examples = {TypeKind.DAYS: f"{name} >= 7 days", TypeKind.NUMBER: f"{name} >= 1",
                TypeKind.MONEY: f"{name} > 0 {kind.currency}",
                TypeKind.ENUM: f"{name} == {kind.values[0] if kind.values else 'value'}",
                TypeKind.STRING: f'{name} == "text"'}
    example = examples.get(kind.kind)
    return f"compare it, for example `{example}`" if example else None


def _compare_types_hint(left: Type, right: Type) -> str | None:
    if TypeKind.ENUM in (left.kind, right.kind):
        enum_type = left if left.kind is TypeKind.ENUM else right
        return "compare with one of: " + ", ".join(enum_type.values)
    return None


def _arith_hint(op: nodes.ArithOp, left: Type, right: Type) -> str | None:
    if op in (nodes.ArithOp.ADD, nodes.ArithOp.SUB) and {left.kind, right.kind} == {
            TypeKind.DAYS, TypeKind.NUMBER}:
        return "add durations to durations, e.g. `overdue + 3 days`"
    if op is nodes.ArithOp.MUL and left.kind is right.kind and left.kind is not TypeKind.NUMBER:
        return "multiply an amount or a duration by a plain number or a percentage"
    return None


def _enum_owner_hint(text: str, schema: Schema) -> str | None:
    owners = [f.name for f in schema.facts.values() if text in f.values]
    if owners:
        return f"`{text}` is a value of `{owners[0]}`; compare it: `{owners[0]} == {text}`"
    return None


__all__ = ["NUMBER", "CheckResult", "check", "policy_digest", "read_structure"]
