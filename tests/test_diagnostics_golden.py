"""Golden files for `policylang check`: every diagnostic, as people and programs see it.

Each `tests/golden/diagnostics/<case>.policy` has `<case>.txt` (the text
output of `policylang check`) and `<case>.json` (the `--format json`
object). The command runs in-process with the repo root as working
directory and a relative path, so file names in the goldens are stable.
Set POLICYLANG_UPDATE_GOLDEN=1 to rewrite the goldens, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from policylang.cli import main
from policylang.diagnostics import CODES

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path("tests/golden/diagnostics")
CASES = sorted(p.stem for p in (ROOT / GOLDEN).glob("*.policy"))
UPDATE = os.environ.get("POLICYLANG_UPDATE_GOLDEN") == "1"
CLEAN_CASE = "clean_policy"

# Codes no golden can show, each with the reason.
NOT_FROM_CHECK = {
    "E209": "a --param override of the wrong type: `eval`, not `check`",
    "E306": "an unknown parameter in an override: `eval`, not `check`",
    "E307": "an override of a guard's param: `eval`, not `check`",
}


def run_check(case: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    """`policylang check <case>.policy [options] [extra...]` -> (exit code, stdout); the
    options come from `<case>.args` when there is one (e.g. `--no-analysis`)."""
    capsys.readouterr()
    options = ROOT / GOLDEN / f"{case}.args"
    flags = options.read_text("utf-8").split() if options.exists() else []
    code = main(["check", (GOLDEN / f"{case}.policy").as_posix(), *flags, *extra])
    captured = capsys.readouterr()
    assert captured.err == "", captured.err
    return code, captured.out


def golden_json(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / GOLDEN / f"{case}.json").read_text("utf-8"))
    return data


def diagnostics_of(case: str) -> list[dict[str, Any]]:
    return [d for f in golden_json(case)["files"] for d in f["diagnostics"]]


def compare_or_update(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} is missing: run with POLICYLANG_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("case", CASES)
def test_check_output_matches_golden(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, text = run_check(case, capsys)
    compare_or_update(ROOT / GOLDEN / f"{case}.txt", text)
    _, as_json = run_check(case, capsys, "--format", "json")
    compare_or_update(ROOT / GOLDEN / f"{case}.json", as_json)


@pytest.mark.parametrize("case", CASES)
def test_check_exits_1_on_errors_and_0_otherwise(
        case: str, capsys: pytest.CaptureFixture[str]) -> None:
    errors = [d for d in diagnostics_of(case) if d["severity"] == "error"]
    code, _ = run_check(case, capsys)
    assert code == (1 if errors else 0)


def test_enough_bad_cases_and_one_clean() -> None:
    bad = [c for c in CASES if c != CLEAN_CASE]
    assert len(bad) >= 34
    assert CLEAN_CASE in CASES
    assert diagnostics_of(CLEAN_CASE) == []
    assert all(diagnostics_of(case) for case in bad)


def test_clean_policy_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(CLEAN_CASE, capsys)
    assert (code, out) == (0, f"{(GOLDEN / CLEAN_CASE).as_posix()}.policy: ok\n")


def test_warning_only_policy_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert {d["code"] for d in diagnostics_of("duplicate_action_in_rule")} == {"W504"}
    code, _ = run_check("duplicate_action_in_rule", capsys)
    assert code == 0


def test_every_code_appears_in_some_golden() -> None:
    shown = {d["code"] for case in CASES for d in diagnostics_of(case)}
    wanted = {code for code in CODES if code not in NOT_FROM_CHECK}
    assert sorted(wanted - shown) == []


def test_golden_codes_match_their_registered_kind_and_severity() -> None:
    for case in CASES:
        for d in diagnostics_of(case):
            entry = CODES[d["code"]]
            assert (d["kind"], d["severity"]) == (entry.kind.value, entry.severity.value)


# -- JSON columns: 1-based code points, end_column just after the span -----------

UNDERLINED = [
    ("name_chinese_misspelt", "E301", "逾期天树"),
    ("type_duration_vs_bare_number", "E202", "overdue >= 7"),
    ("name_unknown_fact", "E301", "overdu"),
    ("name_target_not_allowed", "E303", "borrowr"),
    ("duplicate_rule_names", "E501", "letter"),
    ("layout_tab_before_span", "E304", "overdue_notise"),
    ("syntax_unterminated_string", "E103",
     '"还款日前一天电话提醒: due_in == 1 day -> call borrower'),
    ("syntax_bad_character", "E102", "@"),
    ("schema_unknown_type", "E403", "boolean"),
]


def underlined(file: str, d: dict[str, Any]) -> str:
    """The text between (line, column) and (end_line, end_column), both 1-based."""
    lines = (ROOT / file).read_text(encoding="utf-8").split("\n")
    if d["line"] == d["end_line"]:
        return lines[d["line"] - 1][d["column"] - 1:d["end_column"] - 1]
    middle = lines[d["line"]:d["end_line"] - 1]
    parts = [lines[d["line"] - 1][d["column"] - 1:], *middle,
             lines[d["end_line"] - 1][:d["end_column"] - 1]]
    return "\n".join(parts)


@pytest.mark.parametrize(("case", "code", "text"), UNDERLINED)
def test_json_columns_span_exactly_the_underlined_text(case: str, code: str, text: str) -> None:
    found = [(f["file"], d) for f in golden_json(case)["files"] for d in f["diagnostics"]
             if d["code"] == code]
    assert found, f"{case} has no {code}"
    file, first = found[0]
    assert underlined(file, first) == text


def test_json_columns_count_code_points_not_display_width() -> None:
    (d,) = diagnostics_of("name_chinese_misspelt")
    # `rule 电话提醒 "逾期三天": ` is 18 code points (26 display columns).
    assert (d["line"], d["column"], d["end_line"], d["end_column"]) == (4, 19, 4, 23)


def test_json_multiline_span_ends_on_its_own_line() -> None:
    (d,) = diagnostics_of("layout_multiline_span")
    assert underlined("tests/golden/diagnostics/layout_multiline_span.policy", d) == (
        "overdue_amount\n    + 100 CNY")
    assert (d["line"], d["end_line"]) == (5, 6)


def test_every_code_has_an_entry_in_the_docs_catalogue() -> None:
    catalogue = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code, entry in CODES.items():
        heading = f"#### {code}: "
        assert heading in catalogue, f"docs/diagnostics.md has no entry for {code}"
        line = catalogue.split(heading, 1)[1].split("\n", 1)[0]
        assert f"({entry.kind.value}, {entry.severity.value})" in line, line
