"""`simulate --notices DIR`: the notices a replay would have sent, as an analyst runs it.

Runs the CLI in-process on ten loans of the bundled example (every one of the nine
notices the retail policy sends is among them) with the shipped retail policy and
templates. Checks that the notices are exactly the replay's `notify … using …`
actions, that each shows the account of its own day, that both engines and a later
`--from` give the same files, and every way it can go wrong."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engine.notices.amounts import to_uppercase_cny
from engine.simulation.command import example_data
from engine.simulation.history import read_history
from engine.simulation.ledger import LoanLedger
from policylang.cli import main
from policylang.schema import load_schema

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "retail.policy"
LOANS = ("L00001", "L00002", "L00003", "L00004", "L00005", "L00006", "L00007", "L00008",
         "L00014", "L00045")


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["simulate", str(POLICY), *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's files cut down to LOANS."""
    folder = tmp_path_factory.mktemp("data")
    for path in example_data().glob("*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines[1:] if line.split(",", 1)[0] in LOANS]
        (folder / path.name).write_text(lines[0] + "".join(kept), encoding="utf-8")
    notice_data = json.loads((example_data() / "notice_data.json").read_text(encoding="utf-8"))
    notice_data["loans"] = {k: v for k, v in notice_data["loans"].items() if k in LOANS}
    write_json(folder / "notice_data.json", notice_data)
    return folder


@pytest.fixture(scope="module")
def first_run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One good run (columnar, HTML), shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("run")
    code = main(["simulate", str(POLICY), "--data", str(data), "--out", str(out / "out"),
                 "--notices", str(out / "notices")])
    assert code == 0
    return out


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_the_notices_are_exactly_the_replays_notify_actions(first_run: Path) -> None:
    sent = [(r["loan_id"], r["date"], r["target"], r["using"], r["rules"])
            for r in rows(first_run / "out" / "actions.csv")
            if r["verb"] == "notify" and r["using"]]
    index = rows(first_run / "notices" / "notices.csv")
    assert [(r["loan_id"], r["date"], r["target"], r["template"], r["rules"])
            for r in index] == sent
    assert len({r["template"] for r in index}) == 8          # every notice retail sends
    for row in index:
        path = first_run / "notices" / row["file"]
        assert path.parent.name == row["loan_id"]
        assert path.name == f"{row['date']}-{row['template']}.html"
    files = {p.relative_to(first_run / "notices").as_posix()
             for p in (first_run / "notices").rglob("*.html")}
    assert files == {r["file"] for r in index}
    assert not (first_run / "notices" / "not_rendered.csv").exists()


def test_each_notice_states_the_account_of_its_own_day(first_run: Path, data: Path) -> None:
    """The overdue amount in figures and in 大写 is the ledger's for that loan and day,
    with the loan's own parties and the notice's date in its number."""
    schema = load_schema(ROOT / "policies" / "collection.schema.yaml").schema
    portfolio = {loan.loan_id: loan for loan in read_history(data, schema).portfolio}
    parties = json.loads((data / "notice_data.json").read_text(encoding="utf-8"))["loans"]
    checked = Counter[str]()
    for row in rows(first_run / "notices" / "notices.csv"):
        text = text_of((first_run / "notices" / row["file"]).read_text(encoding="utf-8"))
        day = date.fromisoformat(row["date"])
        loan = portfolio[row["loan_id"]]
        ledger = dict(LoanLedger(loan, due_in_default=366, days_since_payment_default=0)
                      .days(day, day))
        party = parties[row["loan_id"]]
        assert f"-{day:%Y%m%d}-{party['contract_no']}" in text
        addressee = party["guarantor" if row["target"] == "guarantor" else "borrower"]["name"]
        assert addressee in text
        if row["template"] in ("overdue_notice", "overdue_demand", "matured_demand"):
            amount = ledger[day]["overdue_amount"]
            assert f"{amount:,.2f}" in text and to_uppercase_cny(amount) in text
            checked[row["template"]] += 1
        if row["template"] == "overdue_notice":
            assert f"已逾期{ledger[day]['overdue']}天" in text
    assert checked["overdue_notice"] > 5


def test_a_relative_reply_date_counts_from_the_notices_date(first_run: Path) -> None:
    found = [r for r in rows(first_run / "notices" / "notices.csv")
             if r["template"] == "branch_verification"]
    assert found
    for row in found:
        text = text_of((first_run / "notices" / row["file"]).read_text(encoding="utf-8"))
        day = date.fromisoformat(row["date"])
        reply = date.fromordinal(day.toordinal() + 15)
        assert f"于{reply.year}年{reply.month}月{reply.day}日前" in text


def test_both_engines_and_a_later_start_write_the_same_notices(
        capsys: pytest.CaptureFixture[str], data: Path, first_run: Path, tmp_path: Path) -> None:
    assert run(capsys, "--data", data, "--engine", "row", "--notices", tmp_path / "row")[0] == 0
    assert tree(tmp_path / "row") == tree(first_run / "notices")
    start = "2025-10-01"
    assert run(capsys, "--data", data, "--from", start, "--notices", tmp_path / "late")[0] == 0
    late = tree(tmp_path / "late")
    full = tree(first_run / "notices")
    # history facts (days since the last letter) come from the days before --from too
    index = rows(tmp_path / "late" / "notices.csv")
    assert index == [r for r in rows(first_run / "notices" / "notices.csv") if r["date"] >= start]
    assert {k: v for k, v in late.items() if k != "notices.csv"} == {
        k: v for k, v in full.items() if k != "notices.csv" and k.split("/")[-1] >= start}


def test_text_notices(capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--data", data, "--notices", tmp_path / "n",
                       "--notice-format", "txt")
    assert code == 0 and "notices to" in out
    files = list((tmp_path / "n").rglob("*.txt"))
    assert files and all("回执" in f.read_text(encoding="utf-8") for f in files)


def test_missing_party_stops_the_run_and_nothing_is_written(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    notice_data = json.loads((data / "notice_data.json").read_text(encoding="utf-8"))
    del notice_data["loans"]["L00001"]["borrower"]
    write_json(tmp_path / "parties.json", notice_data)
    code, _, err = run(capsys, "--data", data, "--notice-data", tmp_path / "parties.json",
                       "--notices", tmp_path / "n", "--out", tmp_path / "out")
    assert code == 1
    assert re.search(r'L00001 2026-01-09: overdue_notice: the notice data of L00001 has no '
                     r'"borrower"', err)
    assert "nothing was written" in err
    assert not (tmp_path / "n").exists() and not list((tmp_path / "out").glob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "parties.json"]   # no staging


def test_with_skip_the_others_are_written_and_the_failures_listed(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path,
        first_run: Path) -> None:
    notice_data = json.loads((data / "notice_data.json").read_text(encoding="utf-8"))
    del notice_data["loans"]["L00001"]
    write_json(tmp_path / "parties.json", notice_data)
    code, _, err = run(capsys, "--data", data, "--notice-data", tmp_path / "parties.json",
                       "--notices", tmp_path / "n", "--on-error", "skip")
    assert code == 0 and "not_rendered.csv" in err
    failed = rows(tmp_path / "n" / "not_rendered.csv")
    everything = rows(first_run / "notices" / "notices.csv")
    assert {(r["date"], r["template"]) for r in failed} == {
        (r["date"], r["template"]) for r in everything if r["loan_id"] == "L00001"}
    assert all(r["loan_id"] == "L00001" and "has no" in r["reason"] for r in failed)
    assert rows(tmp_path / "n" / "notices.csv") == [
        r for r in everything if r["loan_id"] != "L00001"]


def test_a_rerun_replaces_its_own_folder_but_never_another(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "n"
    assert run(capsys, "--data", data, "--notices", folder)[0] == 0
    (folder / "L00001" / "stale.html").write_text("old", encoding="utf-8")
    assert run(capsys, "--data", data, "--notices", folder)[0] == 0
    assert not (folder / "L00001" / "stale.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["n"]          # no staging left behind
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("mine", encoding="utf-8")
    code, _, err = run(capsys, "--data", data, "--notices", other)
    assert code == 2 and "holds other files" in err and "nothing was simulated" in err
    assert [p.name for p in other.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(("content", "message"), [
    ("[1, 2]", "expected a JSON object {\"defaults\""),
    ("{\"loans\": []}", '"loans" is a list, not an object'),
    ("{\"loans\": {\"L1\": 3}}", 'loan "L1" is a number, not an object'),
    ("{\"parties\": {}}", 'unknown key "parties"'),
    ("{\"defaults\": {\"notice_numbers\": {}}}", "a fixed number would repeat"),
    ("{", "not valid JSON"),
])
def test_bad_notice_data_stops_before_anything_is_replayed(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, content: str,
        message: str) -> None:
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "--data", data, "--notice-data", tmp_path / "bad.json",
                         "--notices", tmp_path / "n")
    assert code == 1, err
    assert message in err and "bad.json" in err and "nothing was simulated" in err
    assert out == "" and not (tmp_path / "n").exists()


def test_without_notice_data_it_says_what_to_give(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    bare = tmp_path / "data"
    bare.mkdir()
    for path in data.glob("*.csv"):
        (bare / path.name).write_bytes(path.read_bytes())
    code, _, err = run(capsys, "--data", bare, "--notices", tmp_path / "n")
    assert code == 2 and "no notice_data.json" in err and "--notice-data" in err
    code, _, err = run(capsys, "--data", data, "--notices", tmp_path / "n",
                       "--templates", tmp_path / "none")
    assert code == 2 and "no such template folder" in err


def test_a_template_the_folder_lacks_is_named_once_with_its_count(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    for path in (ROOT / "policies" / "notices").glob("*.j2"):
        if path.name != "interest_reminder.j2":
            (templates / path.name).write_bytes(path.read_bytes())
    code, _, err = run(capsys, "--data", data, "--notices", tmp_path / "n",
                       "--templates", templates)
    assert code == 0
    assert re.search(r"notify borrower using interest_reminder: no notice template "
                     r"interest_reminder\.j2 in .*; \d+ not rendered", err)
    assert not any(r["template"] == "interest_reminder"
                   for r in rows(tmp_path / "n" / "notices.csv"))


@pytest.mark.parametrize("option", [("--notice-data", "x.json"), ("--notice-format", "txt"),
                                    ("--templates", "policies/notices")])
def test_a_notice_option_without_notices_is_refused(
        capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path,
        option: tuple[str, str]) -> None:
    code, out, err = run(capsys, "--data", data, "--out", tmp_path / "out", *option)
    assert code == 2 and out == ""
    assert f"{option[0]} is for the notices of --notices DIR, which is not given" in err
    assert not (tmp_path / "out").exists()
