"""The front end in one call: read, parse, load the schema, check, add the guards.

Input: a policy path (or text). Output: `LoadResult` with the checked
policy (None on any error), every diagnostic (each naming its file), and
the sources by file name for rendering. A policy with a `guards` line comes
back with its guards' rules in force (see guards.py and guarded.py); a
guard file loaded on its own comes back as a guard (`checked.is_guard`).
Reading the policy file itself may raise OSError/UnicodeDecodeError: that
is an I/O problem for the caller.
Must not: evaluate, print, or exit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from policylang.checked import CheckedPolicy
from policylang.diagnostics import Diagnostic, has_errors, sort_key
from policylang.front import check_file_text
from policylang.guarded import with_guards
from policylang.guards import load_guards
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
    """Load a policy file; its schema and guard paths are relative to the file's folder."""
    name = os.fspath(path)
    text = Path(name).read_text(encoding="utf-8")
    return load_text(text, name, base_dir=Path(name).parent)


def load_text(text: str, name: str = "<policy>", *, schema_text: str | None = None,
              base_dir: str | os.PathLike[str] = ".",
              confine: str | os.PathLike[str] | None = None) -> LoadResult:
    """Load policy text. With `schema_text`, that schema is used instead of the
    file that the policy's `schema` line names. Guard files are read relative to
    `base_dir`; with `confine`, only guard files (and their schemas) inside that
    folder are read at all (the service checks text sent by clients)."""
    own = check_file_text(text, name, schema_text=schema_text, base_dir=base_dir)
    sources = dict(own.sources)
    diagnostics = list(own.diagnostics)
    checked = own.checked
    line = own.decls.guards if own.decls is not None else None
    if line is not None and own.schema is not None:
        guards = load_guards(line, sources[name], own.schema, base_dir,
                             schema_text is not None, confine=confine)
        sources.update(guards.sources)
        diagnostics += guards.diagnostics
        if checked is not None and not has_errors(guards.diagnostics):
            checked = with_guards(checked, guards.guards)
    if has_errors(diagnostics):
        checked = None
    return LoadResult(checked, _ordered(diagnostics), sources)


def _ordered(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(diagnostics, key=lambda d: (d.file or "", *sort_key(d))))
