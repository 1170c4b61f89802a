"""Guards: read and check the guard files a policy's `guards` line names.

Input: the `guards` line, the policy's source and schema, and the folder
its paths are relative to. Output: `GuardsLoad` with each guard checked on
its own (in the order of the line), every diagnostic (a guard's own point
into the guard file) and the sources they point into.
What is refused: a file that cannot be read (E115), a file that is not a
guard (E116), the same file or the same guard name twice (E505), and a
guard whose schema is another file and disagrees with the policy's on a
fact or action the guard uses (E412). The careful rule for two schemas: a
fact the guard reads must exist in the policy's schema with the same type,
currency, enum values, bounds and default (only its label, doc and history
may differ), and each verb/target it suppresses must be in the policy's
catalogue; so the guard means on the policy's loans exactly what it means
on its own, where its assertions were proved.
Must not: merge the guards into the policy (guarded.py does), evaluate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import attrs

from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind
from policylang.diagnostics import Diagnostic, Label, diagnostic, has_errors
from policylang.front import check_file_text, within
from policylang.schema_model import FactDef, Schema
from policylang.source import SourceFile, Span


@attrs.frozen(slots=True)
class GuardsLoad:
    guards: tuple[CheckedPolicy, ...]
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, SourceFile]


def load_guards(line: nodes.GuardsDecl, source: SourceFile, schema: Schema,
                base_dir: str | os.PathLike[str], schema_in_memory: bool = False,
                *, confine: str | os.PathLike[str] | None = None) -> GuardsLoad:
    """Every guard of `line`, checked, with what is wrong with any of them."""
    found: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    guards: list[CheckedPolicy] = []
    seen_files: dict[str, Span] = {}
    seen_names: dict[str, tuple[Span, str]] = {}
    for path, span in _paths(line, source):
        name = os.fspath(Path(base_dir) / path)
        real = os.path.realpath(name)
        if real in seen_files:
            found.append(diagnostic(
                "E505", span, f'"{path}" is already listed in this `guards` line',
                "list each guard file once", file=source.name,
                labels=[Label(seen_files[real], "first listed here")]))
            continue
        seen_files[real] = span
        if confine is not None and not within(Path(real), confine):
            found.append(diagnostic(
                "E115", span, f'cannot read the guard file "{path}": it is outside the '
                "folder this check may read", "name a guard file inside the served "
                "policy folder", file=source.name))
            continue
        text = _read(name, span, source.name, found)
        if text is None:
            continue
        own = check_file_text(text, name, base_dir=Path(name).parent, confine=confine)
        sources.update(own.sources)
        found.extend(own.diagnostics)
        if own.decls is not None and own.decls.header is not None and not isinstance(
                own.decls.header, nodes.GuardHeader):
            found.append(diagnostic(
                "E116", span, f'"{path}" is a policy, not a guard file',
                f'a guard file starts with `guard NAME version "V"`; to run two policies, '
                f"use one policy and make \"{path}\" a guard of it", file=source.name))
            continue
        checked = own.checked
        if checked is None:
            continue
        first = seen_names.get(checked.name)
        if first is not None:
            found.append(diagnostic(
                "E505", span, f"the guard `{checked.name}` is already in force, from "
                f'"{first[1]}"', "give each guard its own name", file=source.name,
                labels=[Label(first[0], "first listed here")]))
            continue
        seen_names[checked.name] = (span, path)
        if schema_in_memory or not _same_file(checked.schema.path, schema.path):
            conflicts = schema_conflicts(checked, schema)
            found.extend(conflicts)
            if has_errors(conflicts):
                continue
        guards.append(checked)
    return GuardsLoad(tuple(guards), tuple(found), sources)


def _paths(line: nodes.GuardsDecl, source: SourceFile) -> Iterator[tuple[str, Span]]:
    """Each path of the line with the span of its quoted text (for precise carets)."""
    text = source.text
    at = line.span.start
    for path in line.paths:
        start = text.find('"', at, line.span.end)
        end = _closing_quote(text, start, line.span.end) if start >= 0 else -1
        if start < 0 or end < 0:
            yield path, line.span
            continue
        yield path, source.span(start, end + 1)
        at = end + 1


def _closing_quote(text: str, start: int, limit: int) -> int:
    index = start + 1
    while index < limit:
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    return -1


def _read(name: str, span: Span, policy_file: str, found: list[Diagnostic]) -> str | None:
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
    except UnicodeDecodeError as error:
        reason = f"byte {error.start} is not UTF-8 text"
    found.append(diagnostic(
        "E115", span, f'cannot read the guard file "{name}": {reason}',
        "check the path (relative to this policy's folder), and that the file exists and "
        "is saved as UTF-8", file=policy_file))
    return None


def _same_file(first: str, second: str) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


def same_fact(a: FactDef, b: FactDef) -> bool:
    """Two declarations of one fact mean the same to a rule: type, currency, values,
    bounds and default (labels, docs and history may differ)."""
    return (a.type, a.currency, set(a.values), a.minimum, a.maximum, a.has_default,
            a.default) == (b.type, b.currency, set(b.values), b.minimum, b.maximum,
                           b.has_default, b.default)


def describe_fact(fact: FactDef) -> str:
    """A fact's meaning in a few words: `days 0..600, default 0`."""
    words = fact.type.value + (f" in {fact.currency}" if fact.currency else "")
    if fact.values:
        words += " {" + ", ".join(fact.values) + "}"
    if fact.minimum is not None or fact.maximum is not None:
        low = "" if fact.minimum is None else str(fact.minimum)
        high = "" if fact.maximum is None else str(fact.maximum)
        words += f" {low}..{high}"
    if fact.has_default:
        shown = str(fact.default).lower() if isinstance(fact.default, bool) else fact.default
        words += f", default {shown}"
    return words


def schema_conflicts(guard: CheckedPolicy, schema: Schema) -> list[Diagnostic]:
    """E412 for every fact and suppressed action of `guard` that `schema` (the
    policy's) lacks or defines otherwise; each points into the guard file."""
    found: list[Diagnostic] = []
    file = guard.source.name
    reported: set[str] = set()
    for name in _fact_names(guard):
        fact = guard.resolve(name).name
        theirs = schema.facts.get(fact)
        if fact in reported or (theirs is not None and same_fact(guard.schema.facts[fact],
                                                                 theirs)):
            continue
        reported.add(fact)
        ours = describe_fact(guard.schema.facts[fact])
        what = (f"has no fact `{fact}`" if theirs is None else
                f"declares `{fact}` as {describe_fact(theirs)}")
        found.append(diagnostic(
            "E412", name.span, f"this guard reads `{fact}` ({ours} in its schema), but the "
            f"policy's schema {what}",
            f'use one schema for the guard and its policies, or declare `{fact}` in '
            f'"{schema.path}" exactly as in "{guard.schema.path}"', file=file))
    for rule in guard.rules:
        for item in rule.actions:
            if isinstance(item, nodes.Suppress):
                found.extend(_action_conflict(item, schema, guard, file))
    return found


def _action_conflict(item: nodes.Suppress, schema: Schema, guard: CheckedPolicy,
                     file: str) -> list[Diagnostic]:
    action = schema.actions.get(item.verb.text)
    if action is None:
        words = item.verb.text
    elif item.target is not None and item.target.text not in action.targets:
        words = f"{item.verb.text} {item.target.text}"
    else:
        return []
    return [diagnostic(
        "E412", item.span, f"the policy's schema has no action `{words}`, which this guard "
        "suppresses", f'use one schema for the guard and its policies, or add `{words}` to '
        f'the catalogue of "{schema.path}" as in "{guard.schema.path}"', file=file)]


def _fact_names(guard: CheckedPolicy) -> Iterator[nodes.Name]:
    """Every name of the guard's rules and lets that stands for a fact, in source order."""
    roots: list[object] = [rule.condition for rule in guard.rules]
    roots += [info.node.expr for info in guard.lets.values()]
    names = [n for root in roots for n in nodes.name_nodes(root)]
    for name in sorted(names, key=lambda n: n.span.start):
        resolution = guard.names.get(id(name))
        if resolution is not None and resolution.kind is NameKind.FACT:
            yield name


