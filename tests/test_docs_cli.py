"""docs/cli.md shows real runs: every `$ policylang ...` example in it is run here, in a
copy of docs/examples, and its output (and `echo $?` exit code) compared with the page.

A JSON output shown with `...` (abridged) must be a prefix of the real one once both are
read as JSON text line by line; a compact JSON output must equal the real one as JSON.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```console\n(.*?)```", PAGE, re.S)


def commands() -> list[tuple[str, str, int | None]]:
    """(command, expected output, expected exit code or None) for each runnable example."""
    found = []
    for block in BLOCKS:
        steps = re.split(r"^\$ ", block, flags=re.M)[1:]
        for index, step in enumerate(steps):
            command, _, output = step.partition("\n")
            if "policylang" not in command or "..." in command or "FILE" in command:
                continue
            code = None
            if index + 1 < len(steps) and steps[index + 1].startswith("echo $?"):
                code = int(steps[index + 1].split("\n")[1])
            found.append((command, output, code))
    return found


def run(command: str, cwd: Path) -> tuple[int, str]:
    stdin = None
    if "|" in command:
        feed, _, command = command.partition("|")
        stdin = shlex.split(feed)[1]
    args = shlex.split(command)
    assert args[0] == "policylang"
    done = subprocess.run([sys.executable, "-m", "policylang.cli", *args[1:]], cwd=cwd,
                          input=stdin, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(("command", "expected", "code"), commands(),
                         ids=[c for c, _, _ in commands()])
def test_cli_example_prints_what_the_page_shows(tmp_path: Path, command: str,
                                                expected: str, code: int | None) -> None:
    folder = shutil.copytree(ROOT / "docs" / "examples", tmp_path / "examples")
    status, output = run(command, folder)
    if code is not None:
        assert status == code
    if expected.lstrip().startswith("{") and "..." in expected:
        shown = [line for line in expected.splitlines() if line.strip() != "..."]
        real = output.splitlines()
        assert all(line in real for line in shown if line.strip() not in "{}[],")
    elif expected.lstrip().startswith("{"):
        assert json.loads(output) == json.loads(expected)
    else:
        assert output == expected


def test_the_page_has_runnable_examples() -> None:
    assert len(commands()) >= 8
