"""The README shows real output: its example command and Python snippet are run here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_eval_example_prints_what_the_readme_shows() -> None:
    block = re.search(r"```console\n\$ \.venv/bin/policylang (eval [^\n]+)\n(.*?)```", README,
                      re.S)
    assert block is not None
    args, shown = block.group(1).split(), block.group(2)
    run = subprocess.run([sys.executable, "-m", "policylang.cli", *args], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout == shown


def test_readme_python_example_runs_and_agrees_with_the_command() -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code is not None
    run = subprocess.run([sys.executable, "-c", code.group(1)], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    shown = re.search(r"^# (\[.*\])$", code.group(1), re.M)
    assert shown is not None
    assert run.stdout.strip() == shown.group(1)


def test_readme_policy_excerpt_is_taken_from_the_shipped_policy() -> None:
    excerpt = re.search(r"```\npolicy retail_collection(.*?)```", README, re.S)
    assert excerpt is not None
    policy = (ROOT / "policies" / "retail.policy").read_text(encoding="utf-8")
    for line in excerpt.group(0).splitlines()[1:-1]:
        assert line in policy.splitlines(), line
