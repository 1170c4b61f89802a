"""Policy test files (`*.test.yaml`): run each case, report what differs.

Input: paths to test files or folders. Output: for each failing case its
file, line, name, expected and actual actions; then `N passed, M failed`.
Exit status 0 when all pass, 1 when a case fails or a test file or its
policy is wrong, 2 when a file cannot be read.
Must not: change the policy or the facts; evaluation is the engine's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from engine.api import CompiledPolicy, compile_checked
from engine.facts import FactsError
from engine.params import ParamError
from engine.yamlfile import LineDict, YamlError, load_yaml
from policylang.pipeline import load_file
from policylang.render import render_all_text, summary_line

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


@attrs.frozen(slots=True)
class CaseResult:
    file: str
    line: int
    name: str
    passed: bool
    details: tuple[str, ...] = ()


class TestFileError(Exception):
    """A test file that cannot be run: bad YAML, bad shape, a policy with errors."""


def find_test_files(paths: Iterable[str]) -> list[Path]:
    """Files as given; folders searched for `*.test.yaml`."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.test.yaml")))
        else:
            found.append(path)
    return found


def run_test_paths(paths: Sequence[str], out: TextIO) -> int:
    results: list[CaseResult] = []
    status = EXIT_OK
    for path in find_test_files(paths):
        try:
            file_results = run_test_file(path)
        except OSError as error:
            out.write(f"{path}: cannot read: {(error.strerror or str(error)).lower()}\n")
            status = EXIT_USAGE
            continue
        except TestFileError as error:
            out.write(f"{error}\n")
            status = max(status, EXIT_INVALID)
            continue
        results.extend(file_results)
    for result in results:
        if not result.passed:
            out.write(f"FAIL {result.file}:{result.line}: {result.name}\n")
            out.writelines(f"  {line}\n" for line in result.details)
    failed = sum(1 for r in results if not r.passed)
    out.write(f"{len(results) - failed} passed, {failed} failed\n")
    if failed:
        status = max(status, EXIT_INVALID)
    return status


def run_test_file(path: Path, *, text: str | None = None,
                  compiled: tuple[Path, CompiledPolicy] | None = None) -> list[CaseResult]:
    """Run every case of one test file. A caller that already read the file (`text`) or
    compiled a policy file (`compiled`: the file and its compiled policy, used when the
    test file names that file) passes them, so the cases judge exactly what it holds
    even if the files change meanwhile (the service's reload does)."""
    name = os.fspath(path)
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
        document = load_yaml(source, name)
    except YamlError as error:
        raise TestFileError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("policy"), str):
        raise TestFileError(f"{name}: a test file needs `policy: FILE` and `cases: [...]`")
    cases = document.get("cases")
    if not isinstance(cases, list) or not cases:
        raise TestFileError(f"{name}: `cases` must be a non-empty list of test cases")
    policy_path = path.parent / document["policy"]
    if compiled is not None and compiled[0].resolve() == policy_path.resolve():
        policy = compiled[1]
    else:
        policy = _compiled(policy_path, name)
    return [_run_case(policy, name, index, case) for index, case in enumerate(cases, 1)]


def _compiled(policy_path: Path, test_file: str) -> CompiledPolicy:
    loaded = load_file(policy_path)
    if loaded.checked is None:
        report = render_all_text(loaded.diagnostics, loaded.sources)
        raise TestFileError(f"{report}\n{test_file}: the policy {policy_path} has errors "
                            f"({summary_line(loaded.diagnostics)}); no case was run")
    return compile_checked(loaded.checked)


def _run_case(policy: CompiledPolicy, file: str, index: int, case: Any) -> CaseResult:
    line = case.line if isinstance(case, LineDict) else 0
    if not isinstance(case, dict):
        return CaseResult(file, line, f"case {index}", False, ("a case must be a mapping",))
    name = str(case.get("name", f"case {index}"))
    problems = _case_shape_problems(case, policy)
    if problems:
        return CaseResult(file, line, name, False, tuple(problems))
    try:
        decision = policy.evaluate(case["facts"], params=case.get("params") or None)
    except (FactsError, ParamError) as error:
        return CaseResult(file, line, name, False, (f"the case's input is refused: {error}",))
    actual = [str(a) for a in decision.actions]
    details: list[str] = []
    if "expect" in case:
        expected = [_normal(a) for a in case["expect"]]
        if expected != actual:
            details += [f"expected: {', '.join(expected) or '(no action)'}",
                        f"actual:   {', '.join(actual) or '(no action)'}"]
    for forbidden in map(_normal, case.get("expect_not") or []):
        producers = [", ".join(a.rules) for a in decision.actions if str(a) == forbidden]
        if producers:
            details.append(f"must not contain: {forbidden} (produced by {producers[0]})")
    return CaseResult(file, line, name, not details, tuple(details))


def _case_shape_problems(case: dict[str, Any], policy: CompiledPolicy) -> list[str]:
    problems: list[str] = []
    if not isinstance(case.get("facts"), dict):
        problems.append("the case needs `facts:` (a mapping of fact values)")
    if "expect" not in case and "expect_not" not in case:
        problems.append("the case needs `expect:` or `expect_not:` (lists of actions)")
    if "params" in case and not isinstance(case["params"], dict | None):
        problems.append("`params:` must be a mapping of NAME: VALUE")
    for key in ("expect", "expect_not"):
        items = case.get(key, [])
        if not isinstance(items, list | None):
            problems.append(f"`{key}:` must be a list of actions such as `call borrower`")
            continue
        problems.extend(_unknown_action(str(item), policy) for item in items or []
                        if _unknown_action(str(item), policy))
    return problems


def _unknown_action(text: str, policy: CompiledPolicy) -> str | None:
    """A listed action that the catalogue cannot produce makes a test vacuous: refuse it."""
    words = text.split()
    catalogue = policy.schema.actions
    if len(words) not in (2, 4) or (len(words) == 4 and words[2] != "using"):
        return f"`{text}` is not an action: write `verb target [using template]`"
    verb = catalogue.get(words[0])
    if verb is None or words[1] not in verb.targets:
        return f"`{text}`: the schema has no such action"
    if len(words) == 4 and words[3] not in verb.templates:
        return f"`{text}`: `{words[3]}` is not a template of `{words[0]}`"
    return None


def _normal(text: object) -> str:
    return " ".join(str(text).split())
