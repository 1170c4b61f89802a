"""Source text, spans and display width.

Input: the text of a file. Output: `Span` values (1-based lines and columns
counted in code points) and helpers that map offsets to lines and measure
display width, so carets line up under Chinese names (two columns each).
Must not: know anything about the policy language.
"""

from __future__ import annotations

import bisect

import attrs
from wcwidth import wcswidth


@attrs.frozen(slots=True)
class Span:
    """A stretch of a file: offsets `start..end` and 1-based line/column of both ends."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def cover(self, other: Span) -> Span:
        """The smallest span holding both `self` and `other`."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(first.start, last.end, first.line, first.column,
                    last.end_line, last.end_column)


NO_SPAN = Span(0, 0, 1, 1, 1, 1)


@attrs.frozen(slots=True)
class SourceFile:
    """A file's name and text, with its line starts for offset look-ups."""

    name: str
    text: str
    line_starts: tuple[int, ...] = attrs.field(init=False)

    @line_starts.default
    def _line_starts(self) -> tuple[int, ...]:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        return tuple(starts)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a code-point offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        """The span between two offsets."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(start, end, line, column, end_line, end_column)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end].rstrip("\r")


def display_width(text: str) -> int:
    """Terminal columns taken by `text`: wide (CJK) characters count two."""
    width = wcswidth(text)
    if width >= 0:
        return width
    return sum(max(wcswidth(ch), 0) for ch in text)
