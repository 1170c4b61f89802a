"""The work behind each `policylang` subcommand.

Input: parsed arguments. Output: text on stdout/stderr and an exit code.
Every user error becomes a message naming the file and place; I/O errors
exit 2, a wrong policy or input exits 1.
Must not: contain language semantics.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import attrs

from engine.api import compile_checked
from engine.decision import Decision
from engine.facts import FactsError
from engine.params import ParamError
from engine.tester import run_test_paths
from policylang.analysis.diff import DiffResult, SchemaMismatch, compare
from policylang.analysis.findings import analyse
from policylang.analysis.witness import compact
from policylang.diagnostics import Diagnostic, diagnostic, has_errors
from policylang.formatter import format_text
from policylang.inputs import InputError, parse_json_object, read_text
from policylang.pipeline import LoadResult, load_file
from policylang.render import files_json, group_by_file, render_all_text, summary_line
from policylang.source import SourceFile

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _load(path: str) -> LoadResult | None:
    """Load a policy, or say why the file itself cannot be read (then None)."""
    try:
        return load_file(path)
    except (OSError, UnicodeDecodeError) as error:
        _err(f"{path}: cannot read the policy file: {_os_reason(error)}")
        return None


def load_checked(path: str, not_done: str, *, invalid: int = EXIT_INVALID) -> Any:
    """The checked policy at `path`, or the exit code after saying why there is none:
    EXIT_USAGE when the file cannot be read, `invalid` when it has errors (their report,
    then a line ending in `not_done`, such as "nothing was evaluated")."""
    result = _load(path)
    if result is None:
        return EXIT_USAGE
    if result.checked is None:
        _err(render_all_text(result.diagnostics, result.sources))
        _err(f"{path}: {summary_line(result.diagnostics)}; {not_done}")
        return invalid
    return result.checked


def _os_reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)


# -- check --------------------------------------------------------------------

def run_check(args: argparse.Namespace) -> int:
    groups: list[tuple[str, list[Diagnostic]]] = []
    texts: list[str] = []
    io_failed = False
    for path in args.files:
        result = _load(path)
        if result is None:
            io_failed = True
            continue
        result, proved = _with_analysis(result, run=not args.no_analysis)
        file_groups = group_by_file(path, result.diagnostics)
        groups.extend(file_groups)
        if args.format == "text":
            texts.append(_check_text(path, result, proved))
    if args.format == "json":
        print(json.dumps(files_json(groups), ensure_ascii=False, indent=2))
    elif texts:
        print("\n\n".join(texts))
    if io_failed:
        return EXIT_USAGE
    return EXIT_INVALID if any(has_errors(found) for _, found in groups) else EXIT_OK


def _with_analysis(result: LoadResult, *, run: bool) -> tuple[LoadResult, int]:
    """The load result with the analyser's findings added (when the policy checked)."""
    checked = result.checked
    if checked is None:
        return result, 0
    if not run:
        skipped = tuple(diagnostic("W109", s.span, "this assertion was not proved: the "
                                   "analysis was skipped (--no-analysis)",
                                   "run `policylang check` without --no-analysis",
                                   file=checked.source.name) for s in checked.asserts)
        return attrs.evolve(result, diagnostics=result.diagnostics + skipped), 0
    analysis = analyse(checked)
    return attrs.evolve(result, diagnostics=result.diagnostics + analysis.diagnostics), \
        analysis.proved


def _check_text(path: str, result: LoadResult, proved: int = 0) -> str:
    if not result.diagnostics:
        if proved:
            return f"{path}: ok ({proved} assertion{'s' * (proved != 1)} proved)"
        return f"{path}: ok"
    body = render_all_text(result.diagnostics, result.sources)
    return f"{body}\n\n{path}: {summary_line(result.diagnostics)}"


# -- eval -----------------------------------------------------------------------

def run_eval(args: argparse.Namespace) -> int:
    checked = load_checked(args.policy, "nothing was evaluated")
    if isinstance(checked, int):
        return checked
    try:
        facts = parse_json_object(read_text(args.facts), _facts_name(args.facts))
        params = parse_params(args.param)
    except OSError as error:
        _err(f"{args.facts}: cannot read the facts file: {_os_reason(error)}")
        return EXIT_USAGE
    except UnicodeDecodeError as error:
        _err(f"{_facts_name(args.facts)}: not UTF-8 text (byte {error.start} cannot be read)")
        return EXIT_INVALID
    except (InputError, ValueError) as error:
        _err(str(error))
        return EXIT_INVALID
    policy = compile_checked(checked)
    try:
        decision = policy.evaluate(facts, params=params)
        explanation = policy.explain(facts, params=params) if args.explain else None
    except FactsError as error:
        _err(f"{_facts_name(args.facts)}: {error}")
        return EXIT_INVALID
    except ParamError as error:
        for line in str(error).splitlines():
            _err(f"--param: {line}")
        return EXIT_INVALID
    if args.format == "json":
        out: dict[str, Any] = decision.to_json()
        if explanation is not None:
            out["explain"] = explanation.to_json()
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(render_decision_text(decision))
        if explanation is not None:
            print()
            print(explanation.to_text())
    return EXIT_OK


def _facts_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def parse_params(pairs: list[str]) -> dict[str, str]:
    """`--param NAME=VALUE` pairs (eval and simulate); InputError names a malformed one."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param {pair!r}: write NAME=VALUE, e.g. --param \"letter_day=5 "
                             "days\"")
        params[name.strip()] = value.strip()
    return params


def render_decision_text(decision: Decision) -> str:
    """A decision for people: the ordered actions with their rules, then the rest."""
    lines = [f"{decision.policy} {decision.version or ''}".rstrip()]
    if not decision.actions:
        lines.append("actions: none")
    else:
        lines.append("actions:")
        width = max(len(str(a)) for a in decision.actions)
        for index, action in enumerate(decision.actions, 1):
            lines.append(f"  {index}. {action!s:<{width}}  stage {action.stage}"
                         f"  rules: {', '.join(action.rules)}")
    for item in decision.suppressed:
        lines.append(f"suppressed: {item} by {item.by} "
                     f"(produced by {', '.join(item.rules)})")
    lines.append("matched: " + (", ".join(decision.matched) or "none"))
    if decision.stopped_by:
        lines.append(f"stopped by final rule: {decision.stopped_by}")
    return "\n".join(lines)


# -- diff -------------------------------------------------------------------------

def run_diff(args: argparse.Namespace) -> int:
    """Exit 0 when the policies decide every loan alike, 1 when they differ, 2 on error."""
    old = load_checked(args.old, "nothing was compared", invalid=EXIT_USAGE)
    if isinstance(old, int):
        return old
    new = load_checked(args.new, "nothing was compared", invalid=EXIT_USAGE)
    if isinstance(new, int):
        return new
    try:
        result = compare(old, new)
    except SchemaMismatch as error:
        _err(str(error))
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_diff_text(result, args.old, args.new, new.schema))
    for reason in result.undecided:
        _err(f"warning: {reason}")
    if result.equivalent:
        return EXIT_OK
    return EXIT_INVALID if result.differences else EXIT_USAGE


def render_diff_text(result: DiffResult, old: str, new: str, schema: Any) -> str:
    if result.equivalent:
        return f"{old} and {new} decide every loan the same way"
    if not result.differences:
        return f"could not decide whether {old} and {new} decide every loan the same way"
    lines = [f"{old} and {new} decide differently ({len(result.differences)} "
             f"witness{'es' * (len(result.differences) != 1)}):"]
    for difference in result.differences:
        rules = ", ".join(difference.rules) or "the result as a whole"
        lines += ["", f"rule {rules}:" if difference.rules else f"{rules}:",
                  f"  loan: {compact(difference.witness, schema, ())}",
                  f"  old:  {', '.join(difference.old) or '(no action)'}",
                  f"  new:  {', '.join(difference.new) or '(no action)'}"]
    return "\n".join(lines)


# -- test -------------------------------------------------------------------------

def run_test(args: argparse.Namespace) -> int:
    return run_test_paths(args.paths, sys.stdout)


# -- fmt ----------------------------------------------------------------------------

def run_fmt(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            _err(f"{path}: cannot read: {_os_reason(error)}")
            status = EXIT_USAGE
            continue
        result = format_text(text, path)
        if result.text is None:
            sources = {path: _source(path, text)}
            _err(render_all_text(result.diagnostics, sources))
            _err(f"{path}: not formatted: fix the syntax errors first")
            status = max(status, EXIT_INVALID)
        elif result.text != text:
            if args.check:
                print(f"{path}: would be reformatted")
                status = max(status, EXIT_INVALID)
            else:
                _write_atomically(Path(path), result.text)
                print(f"{path}: formatted")
    return status


def _source(path: str, text: str) -> SourceFile:
    return SourceFile(path, text)


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file, then rename: a crash never leaves half a policy."""
    temporary = path.with_name(f".{path.name}.fmt-tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
