"""`policylang simulate` as a user runs it: exit codes (0 done, 1 bad policy, params or
data with nothing written, 2 usage or I/O), `--on-error skip`, `--against` with
differences.csv and the summary's "against" section, summary.json's figures, outputs
byte-identical from run to run, the bundled example, and a self-contained report.html.

Runs the CLI in-process on the hand-written history of test_replay.py (four loans, a
three-rule ladder; its actions are worked out there row by row)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.simulation.command import example_data
from policylang.cli import main
from simulation.test_replay import EVERY_ROW, POLICY, write_history, write_policy

TO = ("--to", "2026-01-16")
# POLICY with its letter one day later: what the "policy in force" does
OLD_POLICY = (POLICY.replace('policy ladder version "1"', 'policy ladder_old version "0"')
              .replace("param letter_day = 7 days", "param letter_day = 8 days"))
OUTPUTS = ("actions.csv", "summary.json", "report.html")
CONTRACT_KEYS = ("policy", "engine", "from", "to", "params", "loans", "loans_skipped",
                 "loan_days", "actions", "by_action", "by_rule", "by_month",
                 "loans_by_highest_stage")


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["simulate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    policy = write_policy(tmp_path / "policy")
    old = write_policy(tmp_path / "policy", OLD_POLICY, "old.policy")
    data = write_history(tmp_path / "data")
    return {"policy": policy, "old": old, "data": data, "out": tmp_path / "out"}


def spoil(data: Path, file: str, old: str, new: str) -> None:
    path = data / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def summary_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# -- a good run -------------------------------------------------------------------------------

def test_a_run_exits_0_prints_its_figures_and_writes_the_outputs(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, out, err = run(capsys, files["policy"], "--data", files["data"], *TO,
                         "--out", files["out"])
    assert (code, err) == (0, "")
    # loan-days: ladder 01-01..16, cured 12-20..01-16, repaid 01-01..07, lost 01-02..16
    assert out.splitlines()[0] == "ladder 1: 4 loans, 66 loan-days, 18 actions (columnar engine)"
    assert out.splitlines()[1].startswith("wrote ")
    assert sorted(p.name for p in files["out"].iterdir()) == sorted(OUTPUTS)
    assert (files["out"] / "actions.csv").read_text(encoding="utf-8") == EVERY_ROW


def test_summary_json_holds_the_runs_figures(capsys: pytest.CaptureFixture[str],
                                             files: dict[str, Path]) -> None:
    assert run(capsys, files["policy"], "--data", files["data"], *TO, "--out", files["out"],
               "--engine", "row", "--param", "revisit=3days")[0] == 0
    summary = summary_of(files["out"])
    # the contract's keys come first, in this order; further figures may follow
    assert list(summary)[:len(CONTRACT_KEYS)] == list(CONTRACT_KEYS)
    contract = {key: summary[key] for key in CONTRACT_KEYS}
    digest = contract["policy"].pop("digest")
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    # the 18 rows of EVERY_ROW: 9 calls (4 on day 1 of two rules), 7 visits, 2 letters
    assert contract == {
        "policy": {"name": "ladder", "version": "1"},
        "engine": "row",
        "from": None,
        "to": "2026-01-16",
        "params": {"revisit": "3days"},
        "loans": 4,
        "loans_skipped": [],
        "loan_days": 66,
        "actions": 18,
        "by_action": {"call borrower": 9, "visit borrower": 7,
                      "notify borrower using overdue_notice": 2},
        "by_rule": {"calls": 9, "visit": 7, "first_call": 4, "letter": 2},
        "by_month": {"2026-01": 18},
        # repaid only called (1), cured was visited (2), ladder and lost got letters (3)
        "loans_by_highest_stage": {"1": 1, "2": 1, "3": 2},
    }


def test_from_is_in_the_summary_and_days_before_it_are_not_counted(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    assert run(capsys, files["policy"], "--data", files["data"], "--from", "2026-01-15",
               *TO, "--out", files["out"])[0] == 0
    summary = summary_of(files["out"])
    # 01-15 and 01-16 of ladder, cured and lost (repaid ended on 01-07)
    assert (summary["from"], summary["loan_days"], summary["actions"]) == ("2026-01-15", 6, 2)
    assert summary["loans_by_highest_stage"] == {"0": 1, "2": 2}


def test_without_out_nothing_is_written(capsys: pytest.CaptureFixture[str],
                                        files: dict[str, Path], tmp_path: Path) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, out, _ = run(capsys, files["policy"], "--data", files["data"], *TO)
    assert code == 0
    assert "wrote" not in out
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


# -- bad policy, params, data: exit 1, nothing written ------------------------------------------

def test_bad_data_exits_1_naming_file_line_and_reason_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    spoil(files["data"], "installments.csv", "cured,1,2026-01-05,100.00", "cured,1,2026-01-05,abc")
    spoil(files["data"], "events.csv", "lost,2026-01-07,contact_status,lost",
          "lost,2026-01-07,contact_status,gone")
    code, out, err = run(capsys, files["policy"], "--data", files["data"], *TO,
                         "--out", files["out"])
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == 'installments.csv:4: loan cured: amount_due "abc" is not a decimal amount'
    assert lines[1].startswith("events.csv:2: loan lost: fact contact_status: expected ")
    assert "gone" in lines[1]
    assert "nothing was simulated" in lines[-1]
    assert not files["out"].exists()


def test_skip_sets_the_bad_loan_aside_says_how_many_and_replays_the_rest(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    spoil(files["data"], "installments.csv", "cured,1,2026-01-05,100.00", "cured,1,2026-01-05,abc")
    code, out, err = run(capsys, files["policy"], "--data", files["data"], *TO,
                         "--out", files["out"], "--on-error", "skip")
    assert code == 0
    assert err.splitlines() == [
        'installments.csv:4: loan cured: amount_due "abc" is not a decimal amount',
        "1 loan set aside for bad input; 3 replayed"]
    assert out.splitlines()[0] == "ladder 1: 3 loans, 38 loan-days, 14 actions (columnar engine)"
    without_cured = "".join(line for line in EVERY_ROW.splitlines(keepends=True)
                            if not line.startswith("cured,"))
    assert (files["out"] / "actions.csv").read_text(encoding="utf-8") == without_cured
    summary = summary_of(files["out"])
    assert (summary["loans"], summary["loans_skipped"]) == (3, ["cured"])


def test_a_policy_with_errors_exits_1_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    bad = write_policy(files["policy"].parent, POLICY.replace("overdue >= 4 days", "overdue >= 4"),
                       "bad.policy")
    code, out, err = run(capsys, bad, "--data", files["data"], "--out", files["out"])
    assert (code, out) == (1, "")
    assert "bad.policy:" in err and "did you mean 4 days?" in err
    assert err.splitlines()[-1].endswith("nothing was simulated")
    assert not files["out"].exists()
    # the --against policy is held to the same
    code, out, err = run(capsys, files["policy"], "--against", bad, "--data", files["data"],
                         "--out", files["out"])
    assert (code, out) == (1, "")
    assert not files["out"].exists()


@pytest.mark.parametrize(("param", "says"), [
    ("call_cap=7 days", "call_cap"),           # a number param given a duration
    ("no_such=1", "no_such"),
    ("letter_day", "write NAME=VALUE"),
])
def test_a_bad_param_exits_1_and_writes_nothing(capsys: pytest.CaptureFixture[str],
                                                files: dict[str, Path], param: str,
                                                says: str) -> None:
    code, out, err = run(capsys, files["policy"], "--data", files["data"], "--param", param,
                         "--out", files["out"])
    assert (code, out) == (1, "")
    assert err.startswith("--param") and says in err
    assert not files["out"].exists()


# -- usage and I/O: exit 2 ----------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--from", "--to"])
def test_a_date_that_is_not_yyyy_mm_dd_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                         files: dict[str, Path],
                                                         option: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["simulate", str(files["policy"]), "--data", str(files["data"]), option,
              "2026-13-01", "--out", str(files["out"])])
    assert stopped.value.code == 2
    assert "'2026-13-01' is not a date; write YYYY-MM-DD" in capsys.readouterr().err
    assert not files["out"].exists()


def test_from_after_to_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                        files: dict[str, Path]) -> None:
    code, _, err = run(capsys, files["policy"], "--data", files["data"], "--from", "2026-01-10",
                       "--to", "2026-01-09", "--out", files["out"])
    assert code == 2
    assert "--from 2026-01-10 is after --to 2026-01-09" in err
    assert not files["out"].exists()


def test_an_output_folder_that_cannot_be_written_is_an_io_error(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    code, _, err = run(capsys, files["policy"], "--data", files["data"], *TO, "--out", blocker)
    assert code == 2
    assert err.startswith(f"{blocker}: cannot write the outputs")


def test_a_data_folder_that_does_not_exist_is_an_io_error(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path) -> None:
    # docs/simulation.md: "2 a usage or I/O error (a bad date, an unreadable folder, ...)"
    code, _, err = run(capsys, files["policy"], "--data", tmp_path / "missing",
                       "--out", files["out"])
    assert code == 2, err
    assert "missing" in err
    assert not files["out"].exists()


# -- --against ----------------------------------------------------------------------------------

DIFFERENCES = """\
loan_id,date,old,new
ladder,2026-01-12,visit borrower,visit borrower; notify borrower using overdue_notice
ladder,2026-01-13,notify borrower using overdue_notice,
lost,2026-01-12,visit borrower,visit borrower; notify borrower using overdue_notice
lost,2026-01-13,notify borrower using overdue_notice,
"""
# The old policy's letter comes at 8 days overdue, a day after the new one's; only ladder
# and lost reach 7 days. Everything else is the same on every loan-day.


def test_against_writes_differences_old_then_new(capsys: pytest.CaptureFixture[str],
                                                 files: dict[str, Path]) -> None:
    code, out, err = run(capsys, files["policy"], "--against", files["old"], "--data",
                         files["data"], *TO, "--out", files["out"])
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == "against ladder_old: 4 loan-days differ on 2 loans"
    assert (files["out"] / "differences.csv").read_text(encoding="utf-8") == DIFFERENCES
    assert (files["out"] / "actions.csv").read_text(encoding="utf-8") == EVERY_ROW
    against = summary_of(files["out"])["against"]
    assert against["policy"]["name"] == "ladder_old"
    assert against["policy"]["version"] == "0"
    assert against["policy"]["digest"] != summary_of(files["out"])["policy"]["digest"]
    # the old policy also sends one letter to ladder and one to lost: 18 actions too
    assert {k: against[k] for k in ("actions", "loan_days_differing", "loans_differing")} == {
        "actions": 18, "loan_days_differing": 4, "loans_differing": 2}


def test_params_apply_to_policy_not_to_the_against_policy(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    # the same policy on both sides; only POLICY gets letter_day = 8 days
    code, _, _ = run(capsys, files["policy"], "--against", files["policy"], "--param",
                     "letter_day=8 days", "--data", files["data"], *TO, "--out", files["out"])
    assert code == 0
    rows = list(csv.reader((files["out"] / "differences.csv").open(encoding="utf-8")))
    assert rows == [["loan_id", "date", "old", "new"],
                    ["ladder", "2026-01-12", "visit borrower; notify borrower using overdue_notice",
                     "visit borrower"],
                    ["ladder", "2026-01-13", "", "notify borrower using overdue_notice"],
                    ["lost", "2026-01-12", "visit borrower; notify borrower using overdue_notice",
                     "visit borrower"],
                    ["lost", "2026-01-13", "", "notify borrower using overdue_notice"]]


def test_policies_that_act_alike_have_no_differences_even_if_their_rules_differ(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    # without first_call the day-1 calls come from `calls` alone: same actions
    same = write_policy(files["policy"].parent,
                        POLICY.replace("rule first_call: overdue == 1 day -> call borrower\n", ""),
                        "same.policy")
    code, out, _ = run(capsys, files["policy"], "--against", same, "--data", files["data"], *TO,
                       "--out", files["out"])
    assert code == 0
    assert "0 loan-days differ on 0 loans" in out
    assert (files["out"] / "differences.csv").read_text(encoding="utf-8") == \
        "loan_id,date,old,new\n"


# -- determinism ---------------------------------------------------------------------------------

def test_two_runs_write_byte_identical_files(capsys: pytest.CaptureFixture[str],
                                             files: dict[str, Path], tmp_path: Path) -> None:
    outputs = []
    for name in ("first", "second"):
        assert run(capsys, files["policy"], "--against", files["old"], "--data", files["data"],
                   *TO, "--out", tmp_path / name)[0] == 0
        outputs.append({n: (tmp_path / name / n).read_bytes()
                        for n in (*OUTPUTS, "differences.csv")})
    assert outputs[0] == outputs[1]


def test_the_row_and_columnar_engines_write_the_same_actions_and_differences(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path], tmp_path: Path) -> None:
    for engine in ("row", "columnar"):
        assert run(capsys, files["policy"], "--against", files["old"], "--data", files["data"],
                   *TO, "--out", tmp_path / engine, "--engine", engine)[0] == 0
    for name in ("actions.csv", "differences.csv"):
        assert (tmp_path / "row" / name).read_bytes() == (tmp_path / "columnar" / name).read_bytes()
    row, columnar = summary_of(tmp_path / "row"), summary_of(tmp_path / "columnar")
    assert (row.pop("engine"), columnar.pop("engine")) == ("row", "columnar")
    assert row == columnar


# -- the bundled example and report.html ---------------------------------------------------------

@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The documented demo: the retail policy on the bundled example, no --data, against
    itself with the letter a day later (so report.html has its differences section)."""
    out = tmp_path_factory.mktemp("example")
    root = Path(__file__).resolve().parents[2]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["simulate", str(root / "policies" / "retail.policy"), "--out", str(out),
                     "--against", str(root / "policies" / "retail.policy"),
                     "--param", "letter_day=8 days"])
    assert code == 0
    return out, stdout.getvalue()


def test_the_bundled_example_runs_without_data(example_run: tuple[Path, str]) -> None:
    out, printed = example_run
    with (example_data() / "loans.csv").open(encoding="utf-8") as handle:
        loan_ids = [row["loan_id"] for row in csv.DictReader(handle)]
    assert len(loan_ids) == 200
    assert printed.startswith("retail_collection 2026.11: 200 loans, ")
    with (out / "actions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    summary = summary_of(out)
    assert len(rows) == summary["actions"] > 0
    # ordered by loan (the loans file's order), then date
    order = {loan_id: index for index, loan_id in enumerate(loan_ids)}
    keys = [(order[r["loan_id"]], r["date"]) for r in rows]
    assert keys == sorted(keys)
    assert summary["against"]["loan_days_differing"] > 0


def test_report_html_is_self_contained_and_has_its_sections(
        example_run: tuple[Path, str]) -> None:
    html = (example_run[0] / "report.html").read_text(encoding="utf-8")
    lowered = html.lower()
    # SVG namespace names are identifiers, never fetched; nothing else may name the web
    assert "http://" not in NAMESPACES.sub("", lowered)
    assert "https://" not in NAMESPACES.sub("", lowered)
    assert "<script" not in lowered and "<link" not in lowered and "@import" not in lowered
    assert not re.search(r"\ssrc\s*=", lowered)
    assert all(target.startswith("#") for target in re.findall(r'href="([^"]*)"', lowered))
    assert all(target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", lowered))
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Replay of retail_collection 2026.11</title>" in html
    headings = re.findall(r"<h2>([^<]*)</h2>", html)
    assert headings == [*SECTIONS, AGAINST_SECTION]
    summary = summary_of(example_run[0])
    overview = section_text(html, "overview")
    assert f"loan-days evaluated {summary['loan_days']:,}" in overview
    assert f"actions {summary['actions']:,}" in overview


def test_report_html_shows_the_runs_figures_and_no_against_section_without_against(
        capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    assert run(capsys, files["policy"], "--data", files["data"], *TO, "--out", files["out"])[0] == 0
    html = (files["out"] / "report.html").read_text(encoding="utf-8")
    assert re.findall(r"<h2>([^<]*)</h2>", html) == list(SECTIONS)
    assert "loans 4 " in section_text(html, "overview")
    assert "loan-days evaluated 66 actions 18" in section_text(html, "overview")
    assert "calls 9 visit 7 first_call 4 letter 2" in section_text(html, "rules")


NAMESPACES = re.compile(r'xmlns(:\w+)?="[^"]*"')
SECTIONS = ("Overview", "Actions by type", "Actions by days overdue",
            "When each action first fires", "Letters, visits and legal referrals per loan",
            "Highest stage reached", "Workload per calendar day", "Cost", "Compliance",
            "Deadlines and guard suppressions", "Rules")
AGAINST_SECTION = "Against the policy in force"


def section_text(html: str, key: str) -> str:
    """The text of the report's section `key`, tags dropped, spaces collapsed."""
    found = re.search(rf'<section id="{key}">(.*?)</section>', html, re.DOTALL)
    assert found is not None, key
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())
