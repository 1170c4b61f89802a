"""Build: one Lark statement tree -> one immutable AST node with spans.

Input: a tree from `grammar.lark` and a position shifter (chunk -> file).
Output: a `nodes.Statement`. Numbers become `Decimal` here, from their text;
no float ever touches a value. Must not: resolve names or check types.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

import lark

from policylang import nodes
from policylang.source import Span


class Shift(Protocol):
    def span(self, start: int, end: int) -> Span: ...


Tree = lark.Tree
Token = lark.Token


class BuildError(Exception):
    """A statement that parses but cannot mean anything (`priority 1.5`, `-true`)."""

    def __init__(self, span: Span, message: str, hint: str) -> None:
        super().__init__(message)
        self.span, self.message, self.hint = span, message, hint


def build_statement(tree: Tree, shift: Shift) -> nodes.Statement:
    """Build the statement node for a parsed statement tree."""
    return _Builder(shift).build(tree)


_UNITS = {"day": nodes.DurationUnit.DAY, "days": nodes.DurationUnit.DAY,
          "week": nodes.DurationUnit.WEEK, "weeks": nodes.DurationUnit.WEEK}
_COMPARE = {op.value: op for op in nodes.CompareOp}
_ARITH = {"add": nodes.ArithOp.ADD, "sub": nodes.ArithOp.SUB,
          "mul": nodes.ArithOp.MUL, "div": nodes.ArithOp.DIV}


def unquote(text: str) -> str:
    """The value of a string token: drop the quotes, undo `\\"` and `\\\\`."""
    body = text[1:-1]
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


MAX_DEPTH = 200   # deeper nesting is refused: later stages recurse over the tree


class _Builder:
    def __init__(self, shift: Shift) -> None:
        self.shift = shift
        self.depth = 0

    # -- spans ------------------------------------------------------------
    def span(self, item: Tree | Token) -> Span:
        if isinstance(item, Token):
            return self.shift.span(item.start_pos, item.end_pos)
        return self.shift.span(item.meta.start_pos, item.meta.end_pos)

    def ident(self, token: Token) -> nodes.Ident:
        return nodes.Ident(text=str(token), span=self.span(token))

    # -- dispatch ---------------------------------------------------------
    def build(self, tree: Tree) -> Any:
        method: Callable[[Tree], Any] = getattr(self, f"_{tree.data}")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise BuildError(self.span(tree), f"this statement nests more than {MAX_DEPTH} "
                                 "levels deep", "split it into lets")
            return method(tree)
        finally:
            self.depth -= 1

    # -- statements -------------------------------------------------------
    def _header(self, tree: Tree) -> nodes.Header:
        name, version, title = tree.children
        return nodes.Header(name=self.ident(name), version=self._version_text(version),
                            title=unquote(title) if title is not None else None,
                            span=self.span(tree))

    def _guard_header(self, tree: Tree) -> nodes.GuardHeader:
        name, version, title = tree.children
        return nodes.GuardHeader(name=self.ident(name), version=self._version_text(version),
                                 title=unquote(title) if title is not None else None,
                                 span=self.span(tree))

    @staticmethod
    def _version_text(version: Tree | None) -> str | None:
        return unquote(version.children[0]) if version is not None else None

    def _schema_decl(self, tree: Tree) -> nodes.SchemaDecl:
        return nodes.SchemaDecl(path=unquote(tree.children[0]), span=self.span(tree))

    def _guards_decl(self, tree: Tree) -> nodes.GuardsDecl:
        return nodes.GuardsDecl(paths=tuple(unquote(t) for t in tree.children),
                                span=self.span(tree))

    def _param(self, tree: Tree) -> nodes.Param:
        name, value = tree.children
        return nodes.Param(name=self.ident(name), value=self.build(value), span=self.span(tree))

    def _let(self, tree: Tree) -> nodes.Let:
        name, expr = tree.children
        return nodes.Let(name=self.ident(name), expr=self.build(expr), span=self.span(tree))

    def _rule(self, tree: Tree) -> nodes.Rule:
        head, condition, actions = tree.children
        name = label = priority = None
        final = False
        if head is not None:
            name_tok, label_tok, priority_tree, final_tok = head.children
            name = self.ident(name_tok)
            label = unquote(label_tok) if label_tok is not None else None
            if priority_tree is not None:
                priority = self._priority(priority_tree)
            final = final_tok is not None
        return nodes.Rule(name=name, label=label, priority=priority, final=final,
                          condition=self.build(condition),
                          actions=tuple(self.build(a) for a in actions.children),
                          span=self.span(tree))

    def _priority(self, tree: Tree) -> int:
        token = tree.children[0]
        value = Decimal(str(token))
        if value != value.to_integral_value():
            raise BuildError(self.span(token), f"priority {token} is not a whole number",
                             f"use a whole number such as {int(value)}")
        return -int(value) if tree.data == "negative_priority" else int(value)

    def _action(self, tree: Tree) -> nodes.ActionRef:
        verb, target, using = tree.children
        return nodes.ActionRef(verb=self.ident(verb), target=self.ident(target),
                               using=self.ident(using.children[0]) if using is not None else None,
                               span=self.span(tree))

    def _suppress(self, tree: Tree) -> nodes.Suppress:
        verb, target = tree.children
        return nodes.Suppress(verb=self.ident(verb),
                              target=self.ident(target) if target is not None else None,
                              span=self.span(tree))

    def _assert_rule(self, tree: Tree) -> nodes.Assert:
        condition, expect = tree.children
        return nodes.Assert(condition=self.build(condition), expect=self._expectation(expect),
                            span=self.span(tree))

    def _expectation(self, tree: Tree) -> nodes.ExpectAction | nodes.ExpectAny:
        if tree.data == "expect_any":
            return nodes.ExpectAny(span=self.span(tree))
        negated = tree.data == "expect_no"
        action = self.build(tree.children[0] if negated else tree)
        return nodes.ExpectAction(action=action, negated=negated, span=self.span(tree))

    def _assert_monotone(self, tree: Tree) -> nodes.AssertMonotone:
        return nodes.AssertMonotone(fact=self.ident(tree.children[0]), span=self.span(tree))

    # -- conditions -------------------------------------------------------
    def _or_expr(self, tree: Tree) -> nodes.Or:
        return nodes.Or(operands=tuple(self.build(c) for c in tree.children),
                        span=self.span(tree))

    def _and_expr(self, tree: Tree) -> nodes.And:
        return nodes.And(operands=tuple(self.build(c) for c in tree.children),
                         span=self.span(tree))

    def _not_expr(self, tree: Tree) -> nodes.Not:
        return nodes.Not(operand=self.build(tree.children[0]), span=self.span(tree))

    def _compare(self, tree: Tree) -> nodes.Compare:
        left, op, right = tree.children
        return nodes.Compare(op=_COMPARE[str(op)], left=self.build(left),
                             right=self.build(right), span=self.span(tree))

    def _between(self, tree: Tree) -> nodes.Between:
        subject, low, high = (self.build(c) for c in tree.children)
        return nodes.Between(subject=subject, low=low, high=high, span=self.span(tree))

    def _in_set(self, tree: Tree, negated: bool = False) -> nodes.InSet:
        subject, items = tree.children
        return nodes.InSet(subject=self.build(subject),
                           items=tuple(self.build(i) for i in items.children if i is not None),
                           negated=negated, span=self.span(tree))

    def _not_in_set(self, tree: Tree) -> nodes.InSet:
        return self._in_set(tree, negated=True)

    def _arith(self, tree: Tree) -> nodes.Arith:
        left, right = tree.children
        return nodes.Arith(op=_ARITH[str(tree.data)], left=self.build(left),
                           right=self.build(right), span=self.span(tree))

    _add = _sub = _mul = _div = _arith

    def _negate(self, tree: Tree) -> nodes.Negate:
        return nodes.Negate(operand=self.build(tree.children[0]), span=self.span(tree))

    def _name(self, tree: Tree) -> nodes.Name:
        return nodes.Name(text=str(tree.children[0]), span=self.span(tree))

    # -- literals ---------------------------------------------------------
    def _number(self, tree: Tree) -> nodes.Number:
        return nodes.Number(value=Decimal(str(tree.children[0])), span=self.span(tree))

    def _percent(self, tree: Tree) -> nodes.Percent:
        return nodes.Percent(value=Decimal(str(tree.children[0])), span=self.span(tree))

    def _duration(self, tree: Tree) -> nodes.Duration:
        number, unit = tree.children
        return nodes.Duration(amount=Decimal(str(number)), unit=_UNITS[str(unit)],
                              span=self.span(tree))

    def _money(self, tree: Tree) -> nodes.Money:
        number, currency = tree.children
        return nodes.Money(amount=Decimal(str(number)), currency=str(currency),
                           span=self.span(tree))

    def _string(self, tree: Tree) -> nodes.String:
        return nodes.String(value=unquote(str(tree.children[0])), span=self.span(tree))

    def _true(self, tree: Tree) -> nodes.Bool:
        return nodes.Bool(value=True, span=self.span(tree))

    def _false(self, tree: Tree) -> nodes.Bool:
        return nodes.Bool(value=False, span=self.span(tree))

    def _negative(self, tree: Tree) -> nodes.Literal:
        """`-LITERAL` in a param or a set: folded into the literal itself."""
        literal = self.build(tree.children[0])
        span = self.span(tree)
        if isinstance(literal, nodes.Number | nodes.Percent):
            return type(literal)(value=-literal.value, span=span)
        if isinstance(literal, nodes.Duration):
            return nodes.Duration(amount=-literal.amount, unit=literal.unit, span=span)
        if isinstance(literal, nodes.Money):
            return nodes.Money(amount=-literal.amount, currency=literal.currency, span=span)
        raise BuildError(span, "a minus sign only goes before a number, an amount or a duration",
                         "remove the `-`")
