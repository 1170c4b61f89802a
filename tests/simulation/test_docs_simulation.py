"""docs/simulation.md shows what the program does: its first command and output, the
actions.csv sample and the Python example are run against the bundled example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policylang.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")


def _block(after: str, language: str) -> str:
    tail = PAGE.split(after, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", tail, re.S)
    assert match is not None, f"no {language} block after {after!r}"
    return match.group(1)


def test_the_first_command_prints_what_the_page_shows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _block("`policylang simulate` does that:", "console").splitlines()
    command, shown = lines[0], lines[1:]
    assert command == "$ policylang simulate policies/retail.policy --out out/sim"
    monkeypatch.chdir(ROOT)
    out = tmp_path / "sim"
    assert main(["simulate", "policies/retail.policy", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.replace(str(out), "out/sim").splitlines()
    assert printed == shown
    sample = _block("ordered by loan (the", "text").splitlines()
    written = (out / "actions.csv").read_text(encoding="utf-8").splitlines()
    assert written[:len(sample)] == sample


def test_the_python_example_runs() -> None:
    code = _block("### From Python", "python")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert re.fullmatch(r"\d+ loan-days", first)


def test_the_notices_example_prints_what_the_page_shows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _block("## Notices (`--notices DIR`)", "console").splitlines()
    command, shown = lines[0], lines[1:]
    assert command == ("$ policylang simulate policies/retail.policy "
                       "--notices out/simulation-notices")
    monkeypatch.chdir(ROOT)
    folder = tmp_path / "n"
    assert main(["simulate", "policies/retail.policy", "--notices", str(folder)]) == 0
    printed = capsys.readouterr().out.replace(str(folder), "out/simulation-notices")
    assert printed.splitlines() == shown
    sample = _block("in the order of `actions.csv`:", "text").splitlines()
    written = (folder / "notices.csv").read_text(encoding="utf-8").splitlines()
    assert written[:len(sample)] == sample


def test_the_notice_data_sample_is_part_of_the_bundled_file() -> None:
    sample = json.loads(_block("**The notice data file.**", "json"))
    bundled = json.loads((ROOT / "engine" / "simulation" / "example" / "notice_data.json")
                         .read_text(encoding="utf-8"))
    for key, value in sample["defaults"].items():
        assert bundled["defaults"][key] == value
    for loan_id, entry in sample["loans"].items():
        assert bundled["loans"][loan_id] == entry
