"""The examples of docs/language.md, run as tests so the reference cannot drift.

Convention (also stated at the top of docs/language.md), by fence info string:

- ```policy            a complete file (written as if saved in docs/examples/):
                       it must load with no diagnostic at all.
- ```policy-fragment   statements only: HEADER (`policy docs_example` and
                       `schema "docs.schema.yaml"`) is put in front, then it
                       must load with no diagnostic at all.
- ```policy-error      a wrong fragment whose first line is `# expect CODE`:
                       HEADER is put in front; loading must report CODE.
- ```policy-error-file a wrong complete file, first line `# expect CODE`:
                       loading must report CODE.

Every example is checked against docs/examples/docs.schema.yaml, passed as
`schema_text`, and reads guard files relative to docs/examples/, so no
example depends on the working directory. The complete
policy files kept in docs/examples/ (used by docs/cli.md) are loaded too.
Examples the contract allows that the front end gets wrong are listed in
KNOWN_GAPS and run as strict xfails: fixing the front end makes them fail
loudly, so the marker is removed and the docs stay true.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policylang.diagnostics import Diagnostic
from policylang.nodes import rule_name
from policylang.pipeline import LoadResult, load_text

DOCS = Path(__file__).resolve().parent.parent / "docs"
LANGUAGE = DOCS / "language.md"
EXAMPLES = DOCS / "examples"
SCHEMA_TEXT = (EXAMPLES / "docs.schema.yaml").read_text(encoding="utf-8")
HEADER = 'policy docs_example\nschema "docs.schema.yaml"\n'
KINDS = ("policy", "policy-fragment", "policy-error", "policy-error-file")
FENCE = re.compile(r"^```([\w-]+)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
EXPECT = re.compile(r"#\s*expect\s+([EW]\d{3})\s*$")

# Examples whose documented behaviour the front end does not have yet:
# a unique piece of the example's text -> why it is expected to fail.
KNOWN_GAPS: dict[str, str] = {}


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _blocks() -> list[tuple[str, str, int]]:
    """(kind, body, line in language.md) for every policy example, in order."""
    text = LANGUAGE.read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), _line_of(text, m.start()))
            for m in FENCE.finditer(text) if m.group(1) in KINDS]


def _params(kinds: tuple[str, ...]) -> list[object]:
    params: list[object] = []
    for kind, body, line in _blocks():
        if kind not in kinds:
            continue
        gap = next((why for key, why in KNOWN_GAPS.items() if key in body), None)
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        params.append(pytest.param(kind, body, id=f"language.md:{line}", marks=marks))
    return params


def _load(kind: str, body: str) -> LoadResult:
    text = body if kind in ("policy", "policy-error-file") else HEADER + body
    return load_text(text, "<docs example>", schema_text=SCHEMA_TEXT, base_dir=EXAMPLES)


def _shown(diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    return [f"{d.code} line {d.span.line}:{d.span.column}: {d.message}" for d in diagnostics]


def test_language_md_has_examples_of_every_kind() -> None:
    found = {kind for kind, _, _ in _blocks()}
    assert found == set(KINDS)
    text = LANGUAGE.read_text(encoding="utf-8")
    misspelt = {m.group(1) for m in FENCE.finditer(text)
                if m.group(1).startswith("policy") and m.group(1) not in KINDS}
    assert not misspelt, f"unknown example kinds (never run): {sorted(misspelt)}"


@pytest.mark.parametrize(("kind", "body"), _params(("policy", "policy-fragment")))
def test_valid_example_loads_cleanly(kind: str, body: str) -> None:
    result = _load(kind, body)
    assert result.diagnostics == (), _shown(result.diagnostics)
    assert result.ok


@pytest.mark.parametrize(("kind", "body"), _params(("policy-error", "policy-error-file")))
def test_error_example_reports_its_code(kind: str, body: str) -> None:
    first = body.splitlines()[0] if body else ""
    expect = EXPECT.fullmatch(first.strip())
    assert expect, f"an error example must start with `# expect CODE`, found {first!r}"
    result = _load(kind, body)
    codes = [d.code for d in result.diagnostics]
    assert expect.group(1) in codes, _shown(result.diagnostics)


def test_unnamed_rules_are_named_by_their_line() -> None:
    kind, body, _ = _blocks()[0]
    assert kind == "policy"
    result = _load(kind, body)
    assert result.checked is not None
    names = [rule_name(rule) for rule in result.checked.rules]
    assert names == ["remind", "early_calls", "line 14", "line 15", "letter",
                     "contact_cap", "deceased"]


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.policy")
                                        if not p.name.startswith("broken")),
                         ids=lambda p: p.name)
def test_example_policy_files_load_cleanly(path: Path) -> None:
    result = load_text(path.read_text(encoding="utf-8"), str(path), schema_text=SCHEMA_TEXT)
    assert result.diagnostics == (), _shown(result.diagnostics)


def test_broken_example_reports_what_cli_md_shows() -> None:
    path = EXAMPLES / "broken.policy"
    result = load_text(path.read_text(encoding="utf-8"), str(path), schema_text=SCHEMA_TEXT)
    assert [d.code for d in result.diagnostics] == ["E202", "E206", "E303"]
