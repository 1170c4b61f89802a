"""Render diagnostics for people (text with a caret) and for programs (JSON).

Input: diagnostics and the sources they point into. Output: strings and
JSON-ready dicts in the contract's shape. Carets are placed by display
width, so they line up under Chinese names (two columns a character) and
under tabs. JSON lines and columns are 1-based; columns count code points
and `end_column` is the column just after the last character.
Must not: decide exit codes or print.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policylang.diagnostics import Diagnostic, Severity
from policylang.source import SourceFile, display_width


def render_text(diagnostic: Diagnostic, sources: Mapping[str, SourceFile]) -> str:
    """`file:line:col: error[E301]: message`, the source line, a caret, the hint."""
    span = diagnostic.span
    file = diagnostic.file or "<input>"
    head = (f"{file}:{span.line}:{span.column}: {diagnostic.severity.value}"
            f"[{diagnostic.code}]: {diagnostic.message}")
    lines = [head]
    source = sources.get(file)
    if source is not None and source.text:
        lines.extend(_excerpt(source, diagnostic))
    if diagnostic.hint:
        lines.append(f"  = hint: {diagnostic.hint}")
    lines.extend(f"  = note: line {label.span.line}: {label.message}"
                 for label in diagnostic.labels)
    if diagnostic.witness is not None:
        shown = diagnostic.witness_text or json.dumps(dict(diagnostic.witness),
                                                      ensure_ascii=False, default=str)
        lines.append(f"  = witness: {shown}")
    return "\n".join(lines)


def _excerpt(source: SourceFile, diagnostic: Diagnostic) -> list[str]:
    span = diagnostic.span
    text = source.line_text(span.line)
    start = min(max(span.column - 1, 0), len(text))
    end = span.end_column - 1 if span.end_line == span.line else len(text)
    end = min(max(end, start), len(text))
    gutter = " " * len(str(span.line))
    pad = _blank_like(text[:start])
    marks = "^" * max(display_width(text[start:end]), 1)
    return [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {pad}{marks}"]


def _blank_like(text: str) -> str:
    """Spaces as wide as `text` on a terminal, keeping its tabs as tabs."""
    return "".join("\t" if ch == "\t" else " " * max(display_width(ch), 0) for ch in text)


def render_all_text(diagnostics: Sequence[Diagnostic],
                    sources: Mapping[str, SourceFile]) -> str:
    return "\n\n".join(render_text(d, sources) for d in diagnostics)


def summary_line(diagnostics: Iterable[Diagnostic]) -> str:
    items = list(diagnostics)
    errors = sum(1 for d in items if d.severity is Severity.ERROR)
    warnings = len(items) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """One diagnostic in the contract's JSON shape."""
    span = diagnostic.span
    return {
        "code": diagnostic.code, "kind": diagnostic.kind.value,
        "severity": diagnostic.severity.value,
        "line": span.line, "column": span.column,
        "end_line": span.end_line, "end_column": span.end_column,
        "message": diagnostic.message, "hint": diagnostic.hint,
        "witness": dict(diagnostic.witness) if diagnostic.witness is not None else None,
    }


def files_json(files: Sequence[tuple[str, Sequence[Diagnostic]]]) -> dict[str, Any]:
    """`{"files": [{"file": ..., "diagnostics": [...]}]}` for `check --format json`."""
    return {"files": [{"file": name, "diagnostics": [diagnostic_json(d) for d in found]}
                      for name, found in files]}


def group_by_file(checked_file: str,
                  diagnostics: Sequence[Diagnostic]) -> list[tuple[str, list[Diagnostic]]]:
    """The checked file first (even when clean), then each other file that has findings."""
    groups: dict[str, list[Diagnostic]] = {checked_file: []}
    for d in diagnostics:
        groups.setdefault(d.file or checked_file, []).append(d)
    return list(groups.items())
