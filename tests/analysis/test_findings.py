"""Hand-written examples of each finding of the analyser, the shipped retail policy,
and `policylang diff` on the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.api import compile_checked, load_policy
from policylang.analysis.findings import Analysis, analyse
from policylang.cli import main
from policylang.pipeline import load_file, load_text

ROOT = Path(__file__).resolve().parents[2]
RETAIL = ROOT / "policies" / "retail.policy"
SCHEMA = ROOT / "policies" / "collection.schema.yaml"

TINY_SCHEMA = """\
facts:
  overdue:       {type: days, min: 0, max: 400}
  has_guarantor: {type: bool}
  in_litigation: {type: bool, default: false}
  calls:         {type: int, min: 0, max: 20, default: 0}
  amount:        {type: money, currency: CNY, min: 0, max: 10000}
  status:        {type: enum, values: [reachable, lost]}
actions:
  call:        {targets: [borrower, guarantor], stage: 1}
  visit:       {targets: [borrower], stage: 2}
  restructure: {targets: [borrower], stage: 2}
  notify:      {targets: [borrower, guarantor], stage: 3,
                requires: {guarantor: has_guarantor}}
  refer:       {targets: [legal], stage: 5}
exclusive:
  - [restructure borrower, refer legal]
"""


def analysed(body: str) -> tuple[Any, Analysis, Any]:
    """Analyse a policy made of `body` over TINY_SCHEMA; its first statement is line 3."""
    text = 'policy tiny version "1"\nschema "tiny.schema.yaml"\n' + body
    result = load_text(text, "tiny.policy", schema_text=TINY_SCHEMA)
    assert result.checked is not None, [d.message for d in result.diagnostics]
    return result.checked, analyse(result.checked), compile_checked(result.checked)


def only(analysis: Analysis, code: str) -> Any:
    found = [d for d in analysis.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in analysis.diagnostics]
    return found[0]


# -- each finding ----------------------------------------------------------------------

def test_nothing_to_report_and_every_assertion_proved() -> None:
    _, analysis, _ = analysed("""\
rule early: overdue between 1 day and 3 days -> call borrower
rule visits: overdue >= 4 days -> visit borrower
rule letter: overdue >= 30 days -> notify borrower
rule cap priority 100: calls >= 7 -> suppress call borrower
assert overdue >= 4 days -> any
assert calls >= 7 -> no call borrower
assert overdue >= 30 days -> notify borrower
assert monotone overdue
""")
    assert analysis.diagnostics == ()
    assert analysis.proved == 4


def test_unsatisfiable_rule() -> None:
    checked, analysis, _ = analysed("""\
rule late: overdue > 400 days -> call borrower
rule ok: overdue >= 1 day -> visit borrower
""")
    found = only(analysis, "E601")
    assert [d.code for d in analysis.diagnostics] == ["E601"]
    assert found.span == checked.rules[0].span
    assert "rule late can never match" in found.message
    assert found.witness is None


def test_rule_shadowed_by_a_final_rule() -> None:
    checked, analysis, engine = analysed("""\
rule late: overdue >= 30 days -> call borrower
rule stop priority 10 final: overdue >= 1 day -> visit borrower
""")
    found = only(analysis, "E602")
    assert found.span == checked.rules[0].span
    assert "rule late never fires" in found.message and "final rule stop" in found.message
    assert engine.evaluate(_loan(overdue=30)).matched == ("stop",)


def test_exclusive_actions_produced_together() -> None:
    _, analysis, engine = analysed("""\
rule sue: overdue >= 90 days -> refer legal
rule ease: amount > 100 CNY and status == reachable -> restructure borrower
""")
    found = only(analysis, "E603")
    assert "`restructure borrower` and `refer legal`" in found.message
    witness = found.witness
    assert witness["overdue"] >= 90 and float(witness["amount"]) > 100
    assert witness["status"] == "reachable"
    actions = engine.evaluate(witness).action_strings()
    assert "refer legal" in actions and "restructure borrower" in actions


def test_action_produced_while_its_required_fact_is_false() -> None:
    _, analysis, engine = analysed("rule demand: overdue >= 7 days -> notify guarantor\n")
    found = only(analysis, "E604")
    assert found.message.startswith("`notify guarantor` is produced while `has_guarantor`")
    assert found.witness["has_guarantor"] is False and found.witness["overdue"] >= 7
    assert "notify guarantor" in engine.evaluate(found.witness).action_strings()
    _, guarded, _ = analysed(
        "rule demand: overdue >= 7 days and has_guarantor -> notify guarantor\n")
    assert guarded.diagnostics == ()


def test_redundant_rule_is_a_warning() -> None:
    checked, analysis, _ = analysed("""\
rule first: overdue >= 1 day -> call borrower
rule again: overdue >= 5 days -> call borrower
""")
    found = only(analysis, "W606")
    assert found.span == checked.rules[1].span
    assert not found.is_error and found.witness is None


@pytest.mark.parametrize(("body", "expected"), [
    ("rule sue: overdue >= 100 days -> refer legal\n"
     "assert overdue >= 90 days -> refer legal\n",
     lambda w, actions: 90 <= w["overdue"] < 100 and "refer legal" not in actions),
    ("rule chase: overdue >= 1 day -> call borrower\n"
     "assert status == lost -> no call borrower\n",
     lambda w, actions: w["status"] == "lost" and "call borrower" in actions),
    ("rule chase: overdue >= 3 days -> call borrower\n"
     "assert overdue >= 1 day -> any\n",
     lambda w, actions: w["overdue"] in (1, 2) and actions == ()),
], ids=["action", "no action", "any"])
def test_failing_assertion_with_its_witness(body: str, expected: Any) -> None:
    checked, analysis, engine = analysed(body)
    found = only(analysis, "E605")
    assert found.span == checked.asserts[0].span
    assert analysis.proved == 0
    assert expected(found.witness, engine.evaluate(found.witness).action_strings()), \
        found.witness


def test_failing_monotone_assertion_with_its_witness() -> None:
    _, analysis, engine = analysed("""\
rule visits: overdue between 1 day and 9 days -> visit borrower
rule calls: overdue >= 10 days -> call borrower
assert monotone overdue
""")
    found = only(analysis, "E605")
    assert "raising overdue can lower the highest stage" in found.message
    assert "(from 2 to 1)" in found.message
    before, after = found.witness["before"], found.witness["after"]
    assert {k for k in before if before[k] != after[k]} == {"overdue"}
    assert 1 <= before["overdue"] <= 9 and after["overdue"] >= 10
    assert [a.stage for a in engine.evaluate(before).actions] == [2]
    assert [a.stage for a in engine.evaluate(after).actions] == [1]


def test_what_cannot_be_decided_is_a_warning_never_a_proof() -> None:
    _, analysis, _ = analysed("""\
rule thirds: overdue / 3 > 5 days -> call borrower
assert overdue / 3 > 5 days -> call borrower
""")
    assert {d.code for d in analysis.diagnostics} == {"W607"}
    assert all("could not decide" in d.message for d in analysis.diagnostics)
    assert analysis.proved == 0


# -- the shipped policy -----------------------------------------------------------------

def test_retail_policy_analyses_without_errors() -> None:
    result = load_file(RETAIL)
    assert result.checked is not None
    analysis = analyse(result.checked)
    assert not [(d.code, d.message) for d in analysis.diagnostics if d.is_error]
    undecided = {d.span for d in analysis.diagnostics if d.code == "W607"}
    unproved = [s for s in result.checked.asserts if s.span in undecided]
    assert analysis.proved == len(result.checked.asserts) - len(unproved) > 0


# -- policylang diff ----------------------------------------------------------------------

def _retail_pair(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(SCHEMA, tmp_path / SCHEMA.name)
    shutil.copytree(RETAIL.parent / "guards", tmp_path / "guards")     # its guards line
    old = tmp_path / "retail.policy"
    shutil.copy(RETAIL, old)
    text = RETAIL.read_text(encoding="utf-8")
    assert "param letter_day = 7 days" in text
    new = tmp_path / "retail-v2.policy"
    new.write_text(text.replace("param letter_day = 7 days", "param letter_day = 5 days"),
                   encoding="utf-8")
    return old, new


def test_diff_of_a_changed_param_shows_witnesses(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _retail_pair(tmp_path)
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "decide differently" in out and "overdue_letter" in out
    assert "  loan: " in out and "  old:  " in out and "  new:  " in out

    assert main(["diff", str(old), str(new), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["equivalent"] is False and report["differences"]
    engines = load_policy(old), load_policy(new)
    for difference in report["differences"]:
        witness = difference["witness"]
        assert 5 <= witness["overdue"] < 7
        olds, news = (list(e.evaluate(witness).action_strings()) for e in engines)
        assert (difference["old"], difference["new"]) == (olds, news)
        assert olds != news


def test_diff_of_a_policy_with_itself(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    old, _ = _retail_pair(tmp_path)
    assert main(["diff", str(old), str(old)]) == 0
    assert "decide every loan the same way" in capsys.readouterr().out
    assert main(["diff", str(old), str(old), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"equivalent": True, "differences": []}


def test_diff_that_cannot_decide_says_so(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Never `equivalent` (exit 0) without a proof, never `differ` (exit 1) without a
    witness: a policy dividing by 3 is not decided."""
    (tmp_path / "tiny.schema.yaml").write_text(TINY_SCHEMA, encoding="utf-8")
    paths = []
    for days in (5, 6):
        path = tmp_path / f"thirds-{days}.policy"
        path.write_text(f'policy thirds\nschema "tiny.schema.yaml"\n'
                        f"rule a: overdue / 3 > {days} days -> call borrower\n",
                        encoding="utf-8")
        paths.append(str(path))
    assert main(["diff", *paths]) == 2
    captured = capsys.readouterr()
    assert "could not decide" in captured.out + captured.err


def _loan(**changes: Any) -> dict[str, Any]:
    loan = {"overdue": 0, "has_guarantor": False, "calls": 0, "amount": "0",
            "status": "reachable"}
    return {**loan, **changes}
