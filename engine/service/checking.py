"""`POST /v1/check`: diagnostics for policy text sent by a client, nothing loaded.

Input: policy text, optional schema text, the served folder. Output: the
`check --format json` object. Without schema text, the schema the policy names is
read from the served folder, and only from there; guard files (and their schemas) too
may lie only in the served folder or below it: a client must not make the server read
(and quote back) any other file.
Must not: put the policy into the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from policylang.analysis.findings import analyse
from policylang.checker import read_structure
from policylang.parser import parse
from policylang.pipeline import LoadResult, load_text
from policylang.render import files_json, group_by_file
from policylang.source import SourceFile

NAME = "<policy>"


def check_text(text: str, schema_text: str | None, directory: Path) -> dict[str, Any]:
    """What `policylang check --format json` prints for this text, analysis included."""
    if schema_text is None:
        schema_text = _served_schema(text, directory)
    result = load_text(text, NAME, schema_text=schema_text, base_dir=directory,
                       confine=directory)
    return files_json(group_by_file(NAME, list(_analysed(result).diagnostics)))


def _analysed(result: LoadResult) -> LoadResult:
    if result.checked is None:
        return result
    found = analyse(result.checked).diagnostics
    return attrs.evolve(result, diagnostics=result.diagnostics + found)


def _served_schema(text: str, directory: Path) -> str | None:
    """The text of the schema file the policy names when it lies in the served folder;
    else "" (the checker then reports the schema line), or None when there is none."""
    parsed = parse(SourceFile(NAME, text))
    if parsed.policy is None:
        return None
    decl = read_structure(parsed.policy, NAME).schema
    if decl is None:
        return None
    root = directory.resolve()
    path = (root / decl.path).resolve()
    if path.parent != root or not path.is_file():
        return ""
    return path.read_text(encoding="utf-8")
