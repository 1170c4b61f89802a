"""Formatter: policy text -> the same policy in its canonical layout, comments kept.

Stage: beside the pipeline, behind `policylang fmt`. Input: the text of a
policy (or guard) file. Output: `FormatResult(text, diagnostics)`; `text` is
None whenever the file has a syntax error, so a broken file is never
rewritten. The layout is printed from the AST, so it does not depend on how
the input was spaced; comments are put back where they stood
(docs/formatting.md has the rules). Before returning, the output is parsed
again: it must give an equal AST and the same comments, or `FormatterBug` is
raised (a formatter that changed meaning would be worse than none).
Must not: resolve names, check types, read the schema, or rewrite a broken file.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs

from policylang import nodes
from policylang.diagnostics import Diagnostic, has_errors
from policylang.parser import ParseResult, parse_text
from policylang.printer import (
    action_text,
    and_operand,
    expr_text,
    join_words,
    or_operand,
    quote,
)
from policylang.source import SourceFile, display_width

MAX_WIDTH = 88          # a statement line longer than this is broken
BODY = 2                # a named rule's condition line; comments left after a statement
CONTINUATION = 4        # `-> ACTIONS` and `and`/`or` operands on lines of their own


@attrs.frozen(slots=True)
class FormatResult:
    """The formatted text (None when the file has syntax errors) and the parser's diagnostics."""

    text: str | None
    diagnostics: tuple[Diagnostic, ...]


class FormatterBug(RuntimeError):
    """The output would not parse back to the same policy: a bug here, never a user error."""


def format_text(text: str, name: str = "<policy>") -> FormatResult:
    """Print `text` in the canonical layout; no text when it has syntax errors."""
    result = parse_text(text, name)
    if result.policy is None or has_errors(result.diagnostics):
        return FormatResult(None, result.diagnostics)
    normal = text.replace("\r\n", "\n")
    parsed = result if normal == text else parse_text(normal, name)
    out = print_policy(parsed)
    _verify(parsed, out, name)
    return FormatResult(out, result.diagnostics)


def check_formatted(text: str, name: str = "<policy>") -> bool:
    """Whether `text` is already in the canonical layout (False when it cannot be parsed)."""
    return format_text(text, name).text == text


def _same_meaning(one: ParseResult, other: ParseResult) -> bool:
    return (one.policy is not None and one.policy == other.policy
            and sorted(c.text for c in one.comments) == sorted(c.text for c in other.comments))


def _verify(parsed: ParseResult, out: str, name: str) -> None:
    if not _same_meaning(parse_text(out, name), parsed):
        raise FormatterBug(f"{name}: the formatted text does not parse back to the same "
                           "policy and comments")


# -- the file: statements, the gaps between them, blank lines ----------------------------

Gap = list[nodes.Comment | None]        # the lines between two statements; None is blank


def print_policy(parsed: ParseResult) -> str:
    """The canonical text of a parsed, error-free file: one newline at the end, or empty."""
    assert parsed.policy is not None
    statements = parsed.policy.statements
    inner, gaps = _assign_comments(parsed.source, statements, parsed.comments)
    out: list[str | tuple[str, str]] = []
    if not statements:
        out.extend(_render_gap(_without_edge_blanks(gaps[0])))
    for index, statement in enumerate(statements):
        if index == 0:
            out.extend(_render_gap(_without_edge_blanks(gaps[0], trailing=False)))
        else:
            out.extend(_between(statements[index - 1], statement, gaps[index]))
        out.extend(print_statement(statement, inner[index], parsed.source))
    if statements:
        tail, rest = _split_tail(gaps[-1])
        out.extend(_render_tail(tail))
        out.extend(_render_gap(_without_edge_blanks(rest, leading=False)))
    return "".join(line.rstrip() + "\n" for line in _align_trailing(out))


def _align_trailing(lines: Sequence[str | tuple[str, str]]) -> Iterator[str]:
    """Trailing comments of consecutive one-line statements start in one column (two
    spaces after the longest code of the run), as in a table of params; a lone one
    follows its code."""
    run: list[tuple[str, str]] = []
    for line in [*lines, None]:
        if isinstance(line, tuple):
            run.append(line)
            continue
        width = max((display_width(code) for code, _ in run), default=0)
        for code, comment in run:
            yield code + " " * (width - display_width(code) + 2) + comment
        run.clear()
        if line is not None:
            yield line


def _assign_comments(source: SourceFile, statements: Sequence[nodes.Statement],
                     comments: Iterable[nodes.Comment]
                     ) -> tuple[list[list[nodes.Comment]], list[Gap]]:
    """Comments inside each statement's lines, and the lines of each gap (n + 1 gaps)."""
    inner: list[list[nodes.Comment]] = [[] for _ in statements]
    by_line: dict[int, nodes.Comment] = {}
    firsts = [s.span.line for s in statements]
    for comment in comments:
        index = bisect.bisect_right(firsts, comment.span.line) - 1
        if index >= 0 and comment.span.line <= statements[index].span.end_line:
            inner[index].append(comment)
        else:
            by_line[comment.span.line] = comment
    bounds = [0, *(line for s in statements for line in (s.span.line, s.span.end_line)),
              len(source.line_starts) + 1]
    gaps = [[by_line.get(line) for line in range(bounds[i] + 1, bounds[i + 1])]
            for i in range(0, len(bounds), 2)]
    return inner, gaps


def _group(statement: nodes.Statement) -> str:
    match statement:
        case nodes.Param():
            return "params"
        case nodes.Let():
            return "lets"
        case nodes.Rule():
            return "rules"
        case nodes.Assert() | nodes.AssertMonotone():
            return "asserts"
        case _:
            return "header"


def _between(previous: nodes.Statement, statement: nodes.Statement, gap: Gap) -> list[str]:
    """The lines between two statements: a blank line between groups, none in the header
    block, elsewhere the user's blank lines (at most one in a row)."""
    tail, rest = _split_tail(gap)
    rest = _collapse(rest)
    group = _group(statement)
    if group == "header" == _group(previous):
        rest = [item for item in rest if item is not None]
    elif group != _group(previous) and None not in rest:
        rest.insert(0, None)
    return [*_render_tail(tail), *_render_gap(rest)]


def _split_tail(gap: Gap) -> tuple[list[nodes.Comment], Gap]:
    """Indented comments right after a statement (before any blank line) stay with it."""
    tail: list[nodes.Comment] = []
    for item in gap:
        if item is None or item.span.column == 1:
            break
        tail.append(item)
    return tail, gap[len(tail):]


def _collapse(gap: Gap) -> Gap:
    return [item for i, item in enumerate(gap) if item is not None or i == 0
            or gap[i - 1] is not None]


def _without_edge_blanks(gap: Gap, *, leading: bool = True, trailing: bool = True) -> Gap:
    items = _collapse(gap)
    while leading and items and items[0] is None:
        items.pop(0)
    while trailing and items and items[-1] is None:
        items.pop()
    return items


def _render_gap(gap: Gap) -> Iterator[str]:
    return ("" if item is None else item.text for item in gap)


def _render_tail(tail: list[nodes.Comment]) -> Iterator[str]:
    return (" " * BODY + comment.text for comment in tail)


# -- one statement: its lines, and the comments inside it ---------------------------------

@attrs.frozen(slots=True)
class Line:
    """One printed line of a statement, with the source offsets of the nodes printed on it
    (comments inside the statement are placed by these)."""

    indent: int
    text: str
    anchors: tuple[int, ...]


def print_statement(statement: nodes.Statement, comments: Sequence[nodes.Comment],
                    source: SourceFile) -> list[str | tuple[str, str]]:
    """The lines of one statement with its inner comments put back: a full-line comment
    before the line holding the code that followed it, a trailing comment at the end of
    the line holding the code before it (when several meet, the last stays trailing)."""
    lines = layout_statement(statement)
    before, trailing, after = _place(lines, comments, source)
    out: list[str | tuple[str, str]] = []
    for index, line in enumerate(lines):
        pad = " " * line.indent
        out.extend(pad + comment.text for comment in before.get(index, ()))
        text = pad + line.text
        if index not in trailing:
            out.append(text)
        elif len(lines) == 1:       # one-line statements: their comments line up
            out.append((text, trailing[index].text))
        else:
            out.append(f"{text}  {trailing[index].text}")
    out.extend(_render_tail(after))
    return out


def _place(lines: Sequence[Line], comments: Sequence[nodes.Comment], source: SourceFile
           ) -> tuple[dict[int, list[nodes.Comment]], dict[int, nodes.Comment],
                      list[nodes.Comment]]:
    anchors = sorted((offset, index) for index, line in enumerate(lines)
                     for offset in line.anchors)
    offsets = [offset for offset, _ in anchors]
    owned: dict[int, list[tuple[nodes.Comment, bool]]] = {}
    after: list[nodes.Comment] = []
    for comment in comments:
        own_line = _is_own_line(comment, source)
        if own_line:
            nxt = bisect.bisect_right(offsets, comment.span.start)
            if nxt == len(anchors):
                after.append(comment)
                continue
            index = anchors[nxt][1]
        else:
            index = anchors[max(bisect.bisect_left(offsets, comment.span.start) - 1, 0)][1]
        owned.setdefault(index, []).append((comment, own_line))
    before: dict[int, list[nodes.Comment]] = {}
    trailing: dict[int, nodes.Comment] = {}
    for index, items in owned.items():
        ends = [comment for comment, own_line in items if not own_line]
        if ends:
            trailing[index] = ends[-1]
        before[index] = [comment for comment, _ in items
                         if not ends or comment is not ends[-1]]
    return before, trailing, after


def _is_own_line(comment: nodes.Comment, source: SourceFile) -> bool:
    return not source.line_text(comment.span.line)[:comment.span.column - 1].strip()


def layout_statement(statement: nodes.Statement) -> list[Line]:
    """The canonical lines of a statement (comments aside); depends on the AST only."""
    start = statement.span.start
    match statement:
        case nodes.Rule():
            return _layout_rule(statement)
        case nodes.Let():
            head = f"let {statement.name.text} = "
            return _clause(0, head, (start, *_anchors(statement.name)), statement.expr)
        case nodes.Assert():
            expect, expect_nodes = _expectation(statement.expect)
            return _clause(0, "assert ", (start,), statement.condition,
                           arrow=expect, arrow_nodes=expect_nodes)
        case _:
            return [Line(0, _simple_text(statement), (start, *_anchors(statement)))]


def _simple_text(statement: nodes.Statement) -> str:
    match statement:
        case nodes.Header(name=name, version=version, title=title):
            return join_words("policy", name.text, _version(version), _opt_quote(title))
        case nodes.GuardHeader(name=name, version=version, title=title):
            return join_words("guard", name.text, _version(version), _opt_quote(title))
        case nodes.SchemaDecl(path=path):
            return f"schema {quote(path)}"
        case nodes.GuardsDecl(paths=paths):
            return "guards " + ", ".join(quote(p) for p in paths)
        case nodes.Param(name=name, value=value):
            return f"param {name.text} = {expr_text(value)}"
        case nodes.AssertMonotone(fact=fact):
            return f"assert monotone {fact.text}"
    raise TypeError(f"not a one-line statement: {type(statement).__name__}")


def _layout_rule(rule: nodes.Rule) -> list[Line]:
    actions = ", ".join(action_text(a) for a in rule.actions)
    if rule.name is None:
        return _clause(0, "", (rule.span.start,), rule.condition,
                       arrow=actions, arrow_nodes=rule.actions)
    priority = f"priority {rule.priority}" if rule.priority is not None else None
    head = join_words("rule", rule.name.text, _opt_quote(rule.label), priority,
                 "final" if rule.final else None) + ":"
    head_line = Line(0, head, (rule.span.start, *_anchors(rule.name)))
    body = _clause(BODY, "", (), rule.condition, arrow=actions, arrow_nodes=rule.actions)
    return [head_line, *body]


def _clause(indent: int, head: str, head_anchors: tuple[int, ...], condition: nodes.Expr, *,
            arrow: str | None = None, arrow_nodes: Sequence[object] = ()) -> list[Line]:
    """`HEAD CONDITION [-> ARROW]` on one line when it fits; else `-> ARROW` on a line of
    its own, and a long top-level `and`/`or` chain one operand per line."""
    text = head + expr_text(condition)
    whole = text if arrow is None else f"{text} -> {arrow}"
    if _fits(indent, whole):
        return [Line(indent, whole, (*head_anchors, *_anchors(condition, *arrow_nodes)))]
    lines = _condition_lines(indent, head, head_anchors, condition)
    if arrow is not None:
        lines.extend(_arrow_lines(arrow, arrow_nodes))
    return lines


def _arrow_lines(arrow: str, arrow_nodes: Sequence[object]) -> list[Line]:
    """`-> ACTIONS` on one continuation line, or, when too long, packed over several
    lines whose actions line up under the first one."""
    if _fits(CONTINUATION, f"-> {arrow}") or not all(
            isinstance(n, nodes.ActionRef | nodes.Suppress) for n in arrow_nodes):
        return [Line(CONTINUATION, f"-> {arrow}", _anchors(*arrow_nodes))]
    lines: list[Line] = []
    indent, prefix, text, members = CONTINUATION, "-> ", "", []
    for item in arrow_nodes:
        words = action_text(item)  # type: ignore[arg-type]
        candidate = f"{text}, {words}" if text else words
        if text and not _fits(indent, f"{prefix}{candidate},"):
            lines.append(Line(indent, f"{prefix}{text},", _anchors(*members)))
            indent, prefix, candidate, members = CONTINUATION + 3, "", words, []
        text = candidate
        members.append(item)
    lines.append(Line(indent, f"{prefix}{text}", _anchors(*members)))
    return lines


def _condition_lines(indent: int, head: str, head_anchors: tuple[int, ...],
                     condition: nodes.Expr) -> list[Line]:
    text = head + expr_text(condition)
    if _fits(indent, text) or not isinstance(condition, nodes.And | nodes.Or):
        return [Line(indent, text, (*head_anchors, *_anchors(condition)))]
    word, text_of = _chain_parts(condition)
    first, *rest = condition.operands
    lines = _broken(indent, head, first, text_of, "")
    lines[0] = Line(lines[0].indent, lines[0].text, (*head_anchors, *lines[0].anchors))
    for operand in rest:
        lines.extend(_broken(CONTINUATION, f"{word} ", operand, text_of, ""))
    return lines


def _chain_parts(chain: nodes.And | nodes.Or) -> tuple[str, Callable[[nodes.Expr], str]]:
    return ("and", and_operand) if isinstance(chain, nodes.And) else ("or", or_operand)


def _broken(indent: int, lead: str, operand: nodes.Expr, text_of: Callable[[nodes.Expr], str],
            closing: str) -> list[Line]:
    """`lead OPERAND closing` on one line; or, when it does not fit and the operand is a
    parenthesized chain, that chain one operand per line, lined up inside its `(`."""
    text = text_of(operand)
    if (_fits(indent, lead + text + closing) or not isinstance(operand, nodes.And | nodes.Or)
            or not text.startswith("(")):
        return [Line(indent, lead + text + closing, _anchors(operand))]
    word, inner_text_of = _chain_parts(operand)
    subs = operand.operands
    inner = indent + display_width(lead) + 1
    lines = _broken(indent, lead + "(", subs[0], inner_text_of, "")
    for sub in subs[1:-1]:
        lines.extend(_broken(inner, f"{word} ", sub, inner_text_of, ""))
    lines.extend(_broken(inner, f"{word} ", subs[-1], inner_text_of, ")" + closing))
    return lines


def _fits(indent: int, text: str) -> bool:
    return indent + display_width(text) <= MAX_WIDTH


def _anchors(*items: object) -> tuple[int, ...]:
    """Start offsets of every node in `items` and below (the places comments refer to)."""
    found: list[int] = []
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, tuple | list):
            stack.extend(item)
        elif attrs.has(type(item)) and hasattr(item, "span"):
            found.append(item.span.start)
            stack.extend(getattr(item, f.name) for f in attrs.fields(type(item))
                         if f.name != "span")
    return tuple(sorted(found))


def _version(version: str | None) -> str | None:
    return None if version is None else f"version {quote(version)}"


def _opt_quote(text: str | None) -> str | None:
    return None if text is None else quote(text)


def _expectation(expect: nodes.ExpectAction | nodes.ExpectAny) -> tuple[str, list[object]]:
    if isinstance(expect, nodes.ExpectAny):
        return "any", [expect]
    text = action_text(expect.action)
    return (f"no {text}" if expect.negated else text), [expect]
