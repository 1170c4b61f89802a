"""Guards: rules no policy can override (docs/guards.md, docs/language.md#guards).

The fixtures in tests/fixtures/guards/: `conduct.guard.policy` (a named cap on calls
with its own param and let, and a priority-10 rule for the deceased),
`house.guard.policy` (an unnamed rule) and `guarded.policy`, a policy under both
whose own `call_cap` and `capped` share the guards' names. Other policies are written
into a temporary folder next to copies of those guards.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.api import COLUMNAR_BATCH, CompiledPolicy, PolicyError, load_policy
from engine.params import ParamError
from policylang.analysis.diff import compare
from policylang.analysis.findings import analyse
from policylang.cli import main
from policylang.formatter import format_text
from policylang.pipeline import load_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "guards"
SMALL_SCHEMA = FIXTURES.parent / "small.schema.yaml"
LOAN = {"overdue": 5, "due_in": 0, "has_guarantor": True, "contact_status": "reachable",
        "overdue_amount": "100", "principal": "1000"}


def guarded() -> CompiledPolicy:
    return load_policy(FIXTURES / "guarded.policy")


def write_policy(folder: Path, body: str, guards: str = '"conduct.guard.policy"') -> Path:
    """A policy over the small schema, in `folder` beside copies of the fixture guards."""
    for name in ("conduct.guard.policy", "house.guard.policy"):
        if not (folder / name).exists():
            shutil.copy(FIXTURES / name, folder / name)
    # the guards name "../small.schema.yaml", as they do in tests/fixtures/guards/
    shutil.copy(SMALL_SCHEMA, folder.parent / "small.schema.yaml")
    path = folder / "p.policy"
    path.write_text(f'policy p version "1"\nschema "../small.schema.yaml"\nguards {guards}\n'
                    + body, encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inner = tmp_path / "policies"
    inner.mkdir()
    return inner


def decide(policy: CompiledPolicy, **facts: Any) -> Any:
    return policy.evaluate({**LOAN, **facts})


# -- order ---------------------------------------------------------------------------

def test_guard_rules_come_first_whatever_the_policys_priorities() -> None:
    names = [plan.name for plan in guarded().plans]
    assert names == ["guard conduct: deceased", "guard conduct: call_cap",
                     "guard house: line 6", "deceased", "calls", "visits", "soft_cap"]


def test_guards_apply_in_the_order_of_the_guards_line(folder: Path) -> None:
    path = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n",
                        guards='"house.guard.policy", "conduct.guard.policy"')
    names = [plan.name for plan in load_policy(path).plans]
    assert names[:3] == ["guard house: line 6", "guard conduct: deceased",
                         "guard conduct: call_cap"]


def test_matched_lists_guard_rules_first() -> None:
    decision = decide(guarded(), calls_last_7d=7)
    assert decision.matched == ("guard conduct: call_cap", "calls", "visits", "soft_cap")


# -- final cannot cut a guard ---------------------------------------------------------

def test_a_final_rule_of_the_policy_cannot_cut_a_guard_off() -> None:
    decision = decide(guarded(), borrower_deceased=True)
    assert decision.stopped_by == "deceased"
    assert decision.matched == ("guard conduct: deceased", "deceased")
    # the final rule's own actions are suppressed by the guard
    assert decision.action_strings() == ("negotiate heir",)
    assert [(str(s), s.by, s.rules) for s in decision.suppressed] == [
        ("call guarantor", "guard conduct: deceased", ("deceased",)),
        ("visit borrower", "guard conduct: deceased", ("deceased",)),
    ]


def test_a_final_rule_at_the_highest_priority_still_comes_after_the_guards(
        folder: Path) -> None:
    path = write_policy(folder, "rule all priority 1000 final: overdue >= 0 days "
                                "-> call borrower, visit borrower\n")
    decision = decide(load_policy(path), calls_last_7d=9)
    assert decision.matched == ("guard conduct: call_cap", "all")
    assert decision.action_strings() == ("visit borrower",)


# -- the policy cannot re-produce what a guard suppresses ------------------------------

def test_no_rule_of_the_policy_can_produce_a_suppressed_action(folder: Path) -> None:
    path = write_policy(folder, """\
rule urgent priority 500: overdue >= 1 day -> call borrower
rule again: overdue >= 1 day -> call borrower, call borrower using repayment_reminder
rule also final: overdue >= 2 days -> call borrower
""")
    decision = decide(load_policy(path), calls_last_7d=7)
    assert decision.actions == ()
    assert [(str(s), s.by, s.rules) for s in decision.suppressed] == [
        ("call borrower", "guard conduct: call_cap", ("urgent", "again", "also")),
        ("call borrower using repayment_reminder", "guard conduct: call_cap", ("again",)),
    ]


def test_when_policy_and_guard_both_suppress_the_guard_is_named(folder: Path) -> None:
    path = write_policy(folder, """\
rule calls: overdue >= 1 day -> call borrower
rule mine priority 900: calls_last_7d >= 1 -> suppress call borrower
""")
    decision = decide(load_policy(path), calls_last_7d=7)
    assert [(str(s), s.by) for s in decision.suppressed] == [
        ("call borrower", "guard conduct: call_cap")]
    decision = decide(load_policy(path), calls_last_7d=2)      # the policy tightens
    assert [(str(s), s.by) for s in decision.suppressed] == [("call borrower", "mine")]


def test_a_guard_rule_that_does_not_match_suppresses_nothing() -> None:
    decision = decide(guarded())
    assert decision.action_strings() == ("call borrower", "call guarantor", "visit borrower")
    assert decision.suppressed == ()


# -- reporting ------------------------------------------------------------------------

def test_unnamed_guard_rules_are_named_by_their_line_in_the_guard_file() -> None:
    decision = decide(guarded(), overdue_amount="5")
    assert decision.to_json()["suppressed"] == [
        {"verb": "visit", "target": "borrower", "using": None, "stage": 2,
         "by": "guard house: line 6", "rules": ["visits"]}]
    assert decision.matched[0] == "guard house: line 6"


def test_eval_json_and_explain_name_the_guard(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({**LOAN, "calls_last_7d": 8}), encoding="utf-8")
    assert main(["eval", str(FIXTURES / "guarded.policy"), "--facts", str(facts),
                 "--format", "json", "--explain"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["suppressed"][0]["by"] == "guard conduct: call_cap"
    assert out["explain"][1] == {
        "rule": "guard conduct: call_cap", "matched": True, "cut_off_by": None,
        "reason": "capped is true because calls_last_7d >= call_cap is true: "
                  "calls_last_7d is 8, call_cap is 7"}
    assert main(["eval", str(FIXTURES / "guarded.policy"), "--facts", str(facts),
                 "--explain"]) == 0
    text = capsys.readouterr().out
    assert "suppressed: call borrower (from calls) by guard conduct: call_cap" in text


# -- namespaces and params -------------------------------------------------------------

def test_policy_and_guard_lets_and_params_of_one_name_do_not_clash() -> None:
    policy = guarded()
    # the policy's capped (call_cap 3) suppresses call guarantor; the guard's (7) does not
    decision = decide(policy, calls_last_7d=3)
    assert decision.action_strings() == ("call borrower", "visit borrower")
    # raising the policy's call_cap loosens only the policy's own rule
    decision = policy.evaluate({**LOAN, "calls_last_7d": 7}, params={"call_cap": "10"})
    assert decision.action_strings() == ("call guarantor", "visit borrower")
    assert [s.by for s in decision.suppressed] == ["guard conduct: call_cap"]


@pytest.mark.parametrize("name", ["conduct.call_cap", "call_cap"])
def test_a_guards_param_cannot_be_overridden(name: str, folder: Path) -> None:
    policy = guarded() if name != "call_cap" else load_policy(
        write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n"))
    with pytest.raises(ParamError) as caught:
        policy.evaluate(LOAN, params={name: "100"})
    assert caught.value.codes == ("E307",)
    assert f"param `{name}` belongs to guard conduct" in str(caught.value)


def test_unknown_params_list_only_the_policys_own() -> None:
    with pytest.raises(ParamError) as caught:
        guarded().evaluate(LOAN, params={"nope": "1"})
    assert caught.value.codes == ("E306",)
    assert "the policy's params are call_cap" in str(caught.value)
    assert "conduct." not in str(caught.value)


def test_eval_refuses_a_guard_param_on_the_command_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(LOAN), encoding="utf-8")
    code = main(["eval", str(FIXTURES / "guarded.policy"), "--facts", str(facts),
                 "--param", "conduct.call_cap=99"])
    assert code == 1
    assert "error[E307]" in capsys.readouterr().err


# -- digest ---------------------------------------------------------------------------

def test_the_digest_changes_when_a_guard_file_changes(folder: Path) -> None:
    path = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n")
    before = load_policy(path).digest
    assert load_policy(path).digest == before
    guard = folder / "conduct.guard.policy"
    guard.write_text(guard.read_text("utf-8").replace("call_cap = 7", "call_cap = 6"),
                     encoding="utf-8")
    assert load_policy(path).digest != before


def test_the_digest_differs_from_the_same_policy_without_guards(folder: Path) -> None:
    path = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n")
    text = path.read_text("utf-8")
    bare = folder / "bare.policy"
    bare.write_text(text.replace('guards "conduct.guard.policy"\n', ""), encoding="utf-8")
    assert load_policy(path).digest != load_policy(bare).digest


# -- every evaluation path ---------------------------------------------------------------

def test_evaluate_many_and_the_columnar_path_apply_the_guards() -> None:
    policy = guarded()
    rows = [{**LOAN, "calls_last_7d": i % 10, "borrower_deceased": i % 7 == 0,
             "overdue_amount": str(i % 20), "overdue": i % 9} for i in range(COLUMNAR_BATCH)]
    expected = [policy.evaluate(row) for row in rows]
    assert policy.evaluate_many(rows) == expected               # columnar (a large batch)
    assert policy.evaluate_many(rows[:40]) == expected[:40]     # row by row
    assert any(s.by.startswith("guard ") for d in expected for s in d.suppressed)


# -- loading errors -------------------------------------------------------------------

def test_a_policy_whose_guard_has_errors_does_not_load(folder: Path) -> None:
    path = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n")
    guard = folder / "conduct.guard.policy"
    guard.write_text(guard.read_text("utf-8").replace("call_cap = 7", "call_cap = 7 days"),
                     encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    (found,) = caught.value.diagnostics
    assert (found.code, found.file) == ("E202", str(guard))


def test_a_guard_on_another_schema_file_that_agrees_is_accepted(folder: Path) -> None:
    copy = folder / "copy.schema.yaml"
    copy.write_text("# the same facts and actions\n" + SMALL_SCHEMA.read_text("utf-8"),
                    encoding="utf-8")
    path = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n")
    guard = folder / "conduct.guard.policy"
    guard.write_text(guard.read_text("utf-8").replace('"../small.schema.yaml"',
                                                      '"copy.schema.yaml"'), encoding="utf-8")
    assert decide(load_policy(path), calls_last_7d=7).actions == ()


def test_a_guard_on_another_schema_with_another_default_is_refused(folder: Path) -> None:
    copy = folder / "copy.schema.yaml"
    copy.write_text(SMALL_SCHEMA.read_text("utf-8").replace(
        "calls_last_7d: {type: int, min: 0, default: 0}",
        "calls_last_7d: {type: int, min: 0, default: 9}"), encoding="utf-8")
    path = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n")
    guard = folder / "conduct.guard.policy"
    guard.write_text(guard.read_text("utf-8").replace('"../small.schema.yaml"',
                                                      '"copy.schema.yaml"'), encoding="utf-8")
    result = load_file(path)
    assert [(d.code, d.file) for d in result.diagnostics] == [("E412", str(guard))]
    assert "default 9 in its schema" in result.diagnostics[0].message


# -- check, analysis, fmt -------------------------------------------------------------

def test_check_proves_a_policys_assertions_with_its_guards_in_force(folder: Path) -> None:
    path = write_policy(folder, """\
rule calls: overdue >= 1 day -> call borrower
assert calls_last_7d >= 7 -> no call borrower
assert borrower_deceased -> no call borrower
""")
    result = load_file(path)
    assert result.checked is not None
    analysis = analyse(result.checked)
    assert (analysis.diagnostics, analysis.proved) == ((), 2)


def test_an_assertion_broken_by_a_guard_is_refuted_with_a_witness(folder: Path) -> None:
    path = write_policy(folder, """\
rule calls: overdue >= 1 day -> call borrower
assert overdue >= 1 day -> call borrower
""")
    result = load_file(path)
    assert result.checked is not None
    (found,) = analyse(result.checked).diagnostics
    assert found.code == "E605"
    witness = found.witness
    assert witness is not None
    assert witness["calls_last_7d"] >= 7 or witness["borrower_deceased"] is True
    assert found.file == str(path)


def test_check_on_a_guard_file_alone_proves_its_assertions(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FIXTURES / "conduct.guard.policy")]) == 0
    assert capsys.readouterr().out.endswith("ok (2 assertions proved)\n")


def test_guard_rules_get_no_findings_in_their_policys_check(folder: Path) -> None:
    # The guard's rule is unreachable on this policy's loans only because the policy
    # never calls: no finding about the guard's rules belongs to the policy.
    path = write_policy(folder, "rule visits: overdue >= 1 day -> visit borrower\n")
    result = load_file(path)
    assert result.checked is not None
    assert analyse(result.checked).diagnostics == ()


def test_a_guard_file_alone_evaluates_to_no_actions() -> None:
    policy = load_policy(FIXTURES / "conduct.guard.policy")
    decision = decide(policy, calls_last_7d=7)
    assert (decision.actions, decision.matched) == ((), ("call_cap",))


def test_fmt_formats_a_guard_file_and_keeps_its_meaning() -> None:
    text = (FIXTURES / "conduct.guard.policy").read_text("utf-8")
    result = format_text(text, "conduct.guard.policy")
    assert result.diagnostics == () and result.text is not None
    assert result.text.startswith('# A guard for the tests')
    assert 'guard conduct version "2026.1" "Contact conduct"' in result.text
    assert format_text(result.text, "again").text == result.text


def test_diff_sees_a_guard_that_was_added(folder: Path) -> None:
    new = write_policy(folder, "rule calls: overdue >= 1 day -> call borrower\n")
    old = folder / "old.policy"
    old.write_text(new.read_text("utf-8").replace('guards "conduct.guard.policy"\n', ""),
                   encoding="utf-8")
    old_checked, new_checked = load_file(old).checked, load_file(new).checked
    assert old_checked is not None and new_checked is not None
    result = compare(old_checked, new_checked)
    assert not result.equivalent
    assert {rule for d in result.differences for rule in d.rules} == {
        "guard conduct: call_cap", "guard conduct: deceased"}
    assert all(d.new == () and d.old == ("call borrower",) for d in result.differences)
    assert compare(new_checked, load_file(new).checked).equivalent  # type: ignore[arg-type]
