"""The front end in one call: read, parse, load the schema, check.

Input: a policy path (or text). Output: `LoadResult` with the checked
policy (None on any error), every diagnostic (each naming its file), and
the sources by file name for rendering. Reading the policy file itself may
raise OSError/UnicodeDecodeError: that is an I/O problem for the caller.
Must not: evaluate, print, or exit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from policylang.checked import CheckedPolicy
from policylang.checker import check, read_structure
from policylang.diagnostics import Diagnostic, has_errors, sort_key
from policylang.nodes import SchemaDecl
from policylang.parser import parse
from policylang.schema import SchemaResult, load_schema, parse_schema
from policylang.source import SourceFile


@attrs.frozen(slots=True)
class LoadResult:
    checked: CheckedPolicy | None
    diagnostics: tuple[Diagnostic, ...]
    sources: Mapping[str, SourceFile]

    @property
    def ok(self) -> bool:
        return self.checked is not None


def load_file(path: str | os.PathLike[str]) -> LoadResult:
    """Load a policy file; its schema path is relative to the file's folder."""
    name = os.fspath(path)
    text = Path(name).read_text(encoding="utf-8")
    return load_text(text, name, base_dir=Path(name).parent)


def load_text(text: str, name: str = "<policy>", *, schema_text: str | None = None,
              base_dir: str | os.PathLike[str] = ".") -> LoadResult:
    """Load policy text. With `schema_text`, that schema is used instead of the
    file that the policy's `schema` line names."""
    source = SourceFile(name, text)
    parsed = parse(source)
    sources: dict[str, SourceFile] = {name: source}
    if parsed.policy is None:
        return LoadResult(None, _ordered(parsed.diagnostics), sources)
    decls = read_structure(parsed.policy, name)
    if decls.schema is None or has_errors(decls.diagnostics):
        return LoadResult(None, _ordered(decls.diagnostics), sources)
    if schema_text is not None:
        loaded = parse_schema(schema_text, decls.schema.path)
    else:
        loaded = _load_schema_for(decls.schema.path, base_dir)
    if loaded.source is not None:
        sources[loaded.source.name] = loaded.source
    if loaded.schema is None:
        found = tuple(_point_at_schema_line(d, decls.schema, name) for d in loaded.diagnostics)
        return LoadResult(None, _ordered(found), sources)
    result = check(parsed.policy, parsed.comments, source, loaded.schema, decls)
    return LoadResult(result.checked, _ordered(loaded.diagnostics + result.diagnostics), sources)


def _load_schema_for(schema_path: str, base_dir: str | os.PathLike[str]) -> SchemaResult:
    return load_schema(Path(base_dir) / schema_path)


def _point_at_schema_line(found: Diagnostic, line: SchemaDecl, policy_file: str) -> Diagnostic:
    """A schema that cannot be read is reported at the policy's `schema` line."""
    if found.code != "E401":
        return found
    return attrs.evolve(found, span=line.span, file=policy_file)


def _ordered(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(diagnostics, key=lambda d: (d.file or "", *sort_key(d))))
