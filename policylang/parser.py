"""Parser: policy text -> Lark trees -> AST, with every syntax error collected.

Input: a `SourceFile`. Output: `ParseResult` (the `Policy` when there is no
syntax error, the comments, and the diagnostics). The file is split into
statements first: a statement starts on a line that begins in column 1 and
continues over the indented lines after it. Each statement is parsed on its
own, so one bad statement never hides the errors of the next.
Must not: raise on user error; resolve names or check types.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import attrs
import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from policylang import build, nodes
from policylang.diagnostics import Diagnostic, diagnostic
from policylang.source import SourceFile, Span

GRAMMAR = Path(__file__).with_name("grammar.lark")


@attrs.frozen(slots=True)
class ParseResult:
    policy: nodes.Policy | None
    comments: tuple[nodes.Comment, ...]
    diagnostics: tuple[Diagnostic, ...]
    source: SourceFile


@attrs.frozen(slots=True)
class Chunk:
    """One statement's text: offsets into the file and its first line."""

    start: int
    end: int
    line: int


_comments = threading.local()


def _collect_comment(token: lark.Token) -> lark.Token:
    sink = getattr(_comments, "sink", None)
    if sink is not None:
        sink.append(token)
    return token


class _WholeWords:
    """Lets the contextual lexer always see whole names and arrows.

    Without this, a state that expects `and` would read `andrew` as `and` +
    `rew`, and a state that expects `-` would read `->` as `-` + `>`. With
    NAME and the arrow always acceptable, the longest match wins and the
    parser reports the real word where it does not belong."""

    always_accept = ("NAME", "_ARROW")

    def process(self, stream: Iterator[lark.Token]) -> Iterator[lark.Token]:
        return stream


@cache
def _lark() -> lark.Lark:
    return lark.Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", start="statement",
                     propagate_positions=True, maybe_placeholders=True,
                     lexer_callbacks={"COMMENT": _collect_comment}, postlex=_WholeWords(),
                     cache=True)


def parse(source: SourceFile) -> ParseResult:
    """Parse a whole policy file."""
    chunks, comments, diagnostics = split_statements(source)
    statements: list[nodes.Statement] = []
    for chunk in chunks:
        parsed, found, error = _parse_chunk(source, chunk)
        comments.extend(found)
        if error is not None:
            diagnostics.append(error)
        elif parsed is not None:
            statements.append(parsed)
    comments.sort(key=lambda c: c.span.start)
    policy = None
    if not diagnostics:
        whole = source.span(0, len(source.text))
        policy = nodes.Policy(statements=tuple(statements), span=whole)
    return ParseResult(policy, tuple(comments), tuple(diagnostics), source)


def parse_text(text: str, name: str = "<policy>") -> ParseResult:
    return parse(SourceFile(name, text))


def split_statements(source: SourceFile) -> tuple[list[Chunk], list[nodes.Comment],
                                                  list[Diagnostic]]:
    """Cut the file into statements by indentation; collect comment lines between them."""
    chunks: list[Chunk] = []
    comments: list[nodes.Comment] = []
    diagnostics: list[Diagnostic] = []
    pending: list[tuple[int, int]] = []          # comment lines not yet placed
    current: Chunk | None = None
    for start, end, text in _lines(source.text):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            if stripped:
                pending.append((start + text.index("#"), end))
            continue
        if text[0] in " \t":
            if current is None:
                diagnostics.append(_orphan_indent(source, start, end, text))
                continue
            current = Chunk(current.start, end, current.line)
            pending.clear()                      # now inside the chunk: lexed there
            continue
        if current is not None:
            chunks.append(current)
        comments.extend(_comment(source, s, e) for s, e in pending)
        pending.clear()
        current = Chunk(start, end, source.position(start)[0])
    if current is not None:
        chunks.append(current)
    comments.extend(_comment(source, s, e) for s, e in pending)
    return chunks, comments, diagnostics


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, text) of each line. Only `\n` ends a line (a `\r` before it is
    dropped), exactly as for spans and the lexer: no other character splits."""
    offset = 0
    for raw in text.split("\n"):
        body = raw[:-1] if raw.endswith("\r") else raw
        yield offset, offset + len(body), body
        offset += len(raw) + 1


def _comment(source: SourceFile, start: int, end: int) -> nodes.Comment:
    return nodes.Comment(text=source.text[start:end].rstrip(), span=source.span(start, end))


def _orphan_indent(source: SourceFile, start: int, end: int, text: str) -> Diagnostic:
    first = start + len(text) - len(text.lstrip())
    return diagnostic("E106", source.span(first, end),
                      "this line is indented, but there is no statement above it to continue",
                      "start a statement in column 1, or indent only the lines that "
                      "continue a rule",
                      file=source.name)


def _parse_chunk(source: SourceFile, chunk: Chunk) -> tuple[
        nodes.Statement | None, list[nodes.Comment], Diagnostic | None]:
    text = source.text[chunk.start:chunk.end]
    _comments.sink = found = []
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        return None, _shift_comments(source, chunk, found), _syntax_error(source, chunk, error)
    finally:
        _comments.sink = None
    try:
        statement = build.build_statement(tree, _Shift(source, chunk))
    except build.BuildError as error:
        problem = diagnostic("E111", error.span, error.message, error.hint, file=source.name)
        return None, _shift_comments(source, chunk, found), problem
    return statement, _shift_comments(source, chunk, found), None


@attrs.frozen(slots=True)
class _Shift:
    """Turns chunk-relative Lark positions into file spans."""

    source: SourceFile
    chunk: Chunk

    def span(self, start: int, end: int) -> Span:
        return self.source.span(self.chunk.start + start, self.chunk.start + end)


def _shift_comments(source: SourceFile, chunk: Chunk,
                    tokens: list[lark.Token]) -> list[nodes.Comment]:
    shift = _Shift(source, chunk)
    return [nodes.Comment(text=str(t).rstrip(), span=shift.span(t.start_pos, t.end_pos))
            for t in tokens]


# -- syntax errors in plain words ---------------------------------------------

_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a quoted "string"',
    "COMP_OP": "a comparison such as >=", "DURATION_UNIT": "day or days",
    "FINAL": "`final`", "_ARROW": "`->`", "$END": "the end of the statement",
}


def _describe(terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    try:
        pattern = _lark().get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"`{pattern.value}`"


_FIRST = ("`->`", "a comparison such as >=", "`and`", "`or`", "`:`", "`,`", "a name",
          "a number")
_FULL_WIDTH = {"：": ":", "，": ",", "≥": ">=", "≤": "<=", "（": "(", "）": ")", "＝": "=",
               "“": '"', "”": '"', "！": "!", "－": "-", "＞": ">", "＜": "<", "％": "%"}


def _rank(word: str) -> tuple[int, str]:
    return (_FIRST.index(word) if word in _FIRST else len(_FIRST), word)


def _expected(names: set[str]) -> str:
    words = sorted({_describe(n) for n in names}, key=_rank)
    if len(words) > 6:
        words = [*words[:6], "…"]
    return ", ".join(words)


def _syntax_error(source: SourceFile, chunk: Chunk, error: UnexpectedInput) -> Diagnostic:
    shift = _Shift(source, chunk)
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream
        char = source.text[chunk.start + pos]
        if char == '"':
            return diagnostic("E103", shift.span(pos, chunk.end - chunk.start),
                              "this string has no closing quote on its line",
                              'close it with " before the end of the line', file=source.name)
        hint = (f"write `{_FULL_WIDTH[char]}` (half-width) instead of `{char}`"
                if char in _FULL_WIDTH else f"expected {_expected(set(error.allowed or ()))}")
        return diagnostic("E102", shift.span(pos, pos + 1),
                          f"the character {char!r} cannot appear here", hint, file=source.name)
    assert isinstance(error, UnexpectedToken)
    token = error.token
    if token.type == "$END":
        end = chunk.end - chunk.start
        return diagnostic("E105", shift.span(end, end),
                          "the statement ends too early",
                          f"expected {_expected(set(error.expected))}", file=source.name)
    if token.type == "NAME" and {"DURATION_UNIT", "CURRENCY"} & set(error.expected):
        return diagnostic("E107", shift.span(token.start_pos, token.end_pos),
                          f"`{token}` is not a unit this language knows",
                          "after a number write day(s), week(s), % or a currency code in "
                          "capitals such as CNY", file=source.name)
    return diagnostic("E101", shift.span(token.start_pos, token.end_pos),
                      f"unexpected {_token_words(token)}",
                      _hint_for(token, set(error.expected)), file=source.name)


def _token_words(token: lark.Token) -> str:
    if token.type == "NAME":
        return f"name `{token}`"
    return f"`{token}`"


def _hint_for(token: lark.Token, expected: set[str]) -> str:
    if token.type == "NUMBER" and "NAME" in expected and len(expected) <= 3:
        return "a name must start with a letter or _"
    if len(expected) > 3 and any(_describe(n) == "`->`" for n in expected):
        return f"expected {_expected(expected)}; a rule needs `-> ACTION` after its condition"
    return f"expected {_expected(expected)}"
