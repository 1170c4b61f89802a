"""Printer: the canonical text of expressions, literals and actions.

Input: AST nodes. Output: their text in the layout `policylang fmt` writes,
with parentheses exactly where the grammar needs them (and around an `and`
inside an `or`, for the reader), so that parsing the text gives back an
equal tree. Used by the formatter for every line it prints.
Must not: look at comments or decide line breaks (formatter.py does).
"""

from __future__ import annotations

from policylang import nodes


def action_text(action: nodes.ActionItem) -> str:
    """`verb target [using template]` or `suppress verb [target]`."""
    if isinstance(action, nodes.Suppress):
        return join_words("suppress", action.verb.text,
                     action.target.text if action.target is not None else None)
    using = f"using {action.using.text}" if action.using is not None else None
    return join_words(action.verb.text, action.target.text, using)


# -- expressions ---------------------------------------------------------------------------
# Binding strength, loosest first, as in grammar.lark. An operand is put in parentheses
# exactly when the grammar could not otherwise give back the same tree.

OR, AND, NOT, PREDICATE, SUM, PRODUCT, UNARY, ATOM = range(1, 9)


def _strength(expr: nodes.Expr) -> int:
    match expr:
        case nodes.Or():
            return OR
        case nodes.And():
            return AND
        case nodes.Not():
            return NOT
        case nodes.Compare() | nodes.Between() | nodes.InSet():
            return PREDICATE
        case nodes.Arith(op=nodes.ArithOp.ADD | nodes.ArithOp.SUB):
            return SUM
        case nodes.Arith():
            return PRODUCT
        case nodes.Negate():
            return UNARY
        case _:
            return ATOM


def expr_text(expr: nodes.Expr, context: int = OR) -> str:
    """The canonical text of `expr` where the grammar expects strength `context`."""
    text = _bare_text(expr)
    return f"({text})" if _strength(expr) < context else text


def or_operand(operand: nodes.Expr) -> str:
    """An `or` operand; an `and` inside it is put in parentheses although it binds
    tighter anyway: `a or (b and c)` is how people read it safely."""
    if isinstance(operand, nodes.And):
        return f"({_bare_text(operand)})"
    return expr_text(operand, AND)


def and_operand(operand: nodes.Expr) -> str:
    return expr_text(operand, NOT)


def _bare_text(expr: nodes.Expr) -> str:
    match expr:
        case nodes.Or(operands=operands):
            return " or ".join(map(or_operand, operands))
        case nodes.And(operands=operands):
            return " and ".join(map(and_operand, operands))
        case nodes.Not(operand=operand):
            return "not " + expr_text(operand, NOT)
        case nodes.Compare(op=op, left=left, right=right):
            return f"{expr_text(left, SUM)} {op.value} {expr_text(right, SUM)}"
        case nodes.Between(subject=subject, low=low, high=high):
            return (f"{expr_text(subject, SUM)} between {expr_text(low, SUM)}"
                    f" and {expr_text(high, SUM)}")
        case nodes.InSet(subject=subject, items=items, negated=negated):
            body = ", ".join(expr_text(i, ATOM) for i in items)
            return f"{expr_text(subject, SUM)} {'not in' if negated else 'in'} {{{body}}}"
        case nodes.Arith(op=op, left=left, right=right):
            level = _strength(expr)
            return f"{expr_text(left, level)} {op.value} {expr_text(right, level + 1)}"
        case nodes.Negate(operand=operand):
            inner = expr_text(operand, UNARY)
            return ("- " if inner.startswith("-") else "-") + inner
        case nodes.Name(text=text):
            return text
    return literal_text(expr)


def literal_text(literal: nodes.Expr) -> str:
    """`7 days`, `1 week`, `30%`, `1062.67 CNY`, `"text"`, `true`; numbers exactly as
    their Decimal (never an exponent). A negative value (a param or a set item) gets `-`."""
    match literal:
        case nodes.Number(value=value):
            return decimal_text(value)
        case nodes.Percent(value=value):
            return f"{decimal_text(value)}%"
        case nodes.Duration(amount=amount, unit=unit):
            plural = "" if abs(amount) == 1 else "s"
            return f"{decimal_text(amount)} {unit.value}{plural}"
        case nodes.Money(amount=amount, currency=currency):
            return f"{decimal_text(amount)} {currency}"
        case nodes.String(value=value):
            return quote(value)
        case nodes.Bool(value=value):
            return "true" if value else "false"
    raise TypeError(f"not an expression node: {type(literal).__name__}")


def decimal_text(value: object) -> str:
    # format "f", not str(): str(Decimal("0.0000001")) is "1E-7", which does not parse.
    return format(value, "f")


def quote(text: str) -> str:
    """A string literal that reads back as `text` (see build.unquote)."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\t", "\\t"))
    return f'"{escaped}"'


def join_words(*words: str | None) -> str:
    """The words that are there, one space apart."""
    return " ".join(w for w in words if w is not None)
