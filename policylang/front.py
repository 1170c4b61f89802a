"""The front end of one file: parse, read the header, load the schema, check.

Input: the text of a policy or guard file, its name and folder (or schema
text held in memory). Output: `FileCheck` with the file checked on its own
(None on any error), its declarations (the `guards` line among them), its
schema, every diagnostic and the sources they point into. Guards named by
the file are not read here (see guards.py, which uses this for each guard).
Must not: read the policy file itself (the caller does), evaluate, print.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from policylang.checked import CheckedPolicy
from policylang.checker import check, read_structure
from policylang.declarations import Declarations
from policylang.diagnostics import Diagnostic, has_errors
from policylang.nodes import SchemaDecl
from policylang.parser import parse
from policylang.schema import SchemaResult, load_schema, parse_schema
from policylang.schema_model import Schema
from policylang.source import SourceFile


@attrs.frozen(slots=True)
class FileCheck:
    """One file checked on its own; `decls` and `schema` are None when it stopped early."""

    checked: CheckedPolicy | None
    decls: Declarations | None
    schema: Schema | None
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, SourceFile]


def check_file_text(text: str, name: str, *, schema_text: str | None = None,
                    base_dir: str | os.PathLike[str] = ".",
                    confine: str | os.PathLike[str] | None = None) -> FileCheck:
    """Check `text` (named `name`) against the schema its `schema` line names, relative
    to `base_dir`, or against `schema_text` when given. With `confine`, a schema file
    outside that folder is not read (it checks as an empty schema, reported at the
    `schema` line)."""
    source = SourceFile(name, text)
    parsed = parse(source)
    sources: dict[str, SourceFile] = {name: source}
    if parsed.policy is None:
        return FileCheck(None, None, None, tuple(parsed.diagnostics), sources)
    decls = read_structure(parsed.policy, name)
    if decls.schema is None or has_errors(decls.diagnostics):
        return FileCheck(None, decls, None, tuple(decls.diagnostics), sources)
    if schema_text is None and confine is not None and not within(
            Path(base_dir) / decls.schema.path, confine):
        schema_text = ""
    if schema_text is not None:
        loaded = parse_schema(schema_text, decls.schema.path)
    else:
        loaded = schema_for(decls.schema.path, base_dir)
    if loaded.source is not None:
        sources[loaded.source.name] = loaded.source
    if loaded.schema is None:
        found = tuple(_point_at_schema_line(d, decls.schema, name) for d in loaded.diagnostics)
        return FileCheck(None, decls, None, found, sources)
    result = check(parsed.policy, parsed.comments, source, loaded.schema, decls)
    return FileCheck(result.checked, decls, loaded.schema,
                     tuple(loaded.diagnostics) + result.diagnostics, sources)


def within(path: Path, folder: str | os.PathLike[str]) -> bool:
    """Whether `path` lies in `folder` once both are resolved (links followed)."""
    root = os.path.realpath(folder)
    return os.path.commonpath([os.path.realpath(path), root]) == root


def schema_for(schema_path: str, base_dir: str | os.PathLike[str]) -> SchemaResult:
    """The schema a `schema` line names, relative to the folder of its file."""
    return load_schema(Path(base_dir) / schema_path)


def _point_at_schema_line(found: Diagnostic, line: SchemaDecl, policy_file: str) -> Diagnostic:
    """A schema that cannot be read is reported at the file's `schema` line."""
    if found.code != "E401":
        return found
    return attrs.evolve(found, span=line.span, file=policy_file)
