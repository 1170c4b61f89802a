"""The embedding API: load_policy, CompiledPolicy, the public names of `policylang`."""

from __future__ import annotations

import decimal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest
from engine_helpers import SCHEMA, policy_of

import policylang
from engine.api import CompiledPolicy, compile_checked
from policylang.pipeline import load_text

POLICY = """\
policy demo version "2026.1" "演示"
schema "demo.schema.yaml"
param letter_day = 7 days
rule early: overdue between 1 day and 3 days -> call borrower
rule letter: overdue >= letter_day -> notify borrower using overdue_notice
rule cap priority 10: calls >= 5 -> suppress call
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    (tmp_path / "demo.schema.yaml").write_text(SCHEMA, encoding="utf-8")
    path = tmp_path / "demo.policy"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_load_policy_compiles_a_file_with_its_schema(policy_file: Path) -> None:
    policy = policylang.load_policy(policy_file)
    assert isinstance(policy, CompiledPolicy)
    assert (policy.name, policy.version) == ("demo", "2026.1")
    assert policy.digest.startswith("sha256:")
    assert "overdue" in policy.schema.facts
    decision = policy.evaluate({"overdue": 2})
    assert [str(a) for a in decision.actions] == ["call borrower"]
    assert decision.policy == "demo"


def test_load_policy_raises_policy_error_listing_every_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "demo.schema.yaml").write_text(SCHEMA, encoding="utf-8")
    path = tmp_path / "bad.policy"
    path.write_text('policy bad\nschema "demo.schema.yaml"\n'
                    "rule a: overdeu >= 1 day -> call borrower\n"
                    "rule b: overdue >= 1 -> call borrower\n", encoding="utf-8")
    with pytest.raises(policylang.PolicyError) as caught:
        policylang.load_policy(path)
    error = caught.value
    assert len(error.diagnostics) == 2
    assert all(d.is_error for d in error.diagnostics)
    text = str(error)
    assert "overdeu" in text
    assert "did you mean 1 days?" in text or "did you mean 1 day" in text


def test_load_policy_of_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(policylang.PolicyError) as caught:
        policylang.load_policy(tmp_path / "nowhere.policy")
    assert "cannot read the policy file" in str(caught.value)


def test_the_public_names_are_exported_lazily() -> None:
    code = ("import sys, policylang\n"
            "assert 'engine.api' not in sys.modules\n"
            "from policylang import load_policy, PolicyError, FactsError, Decision, Action\n"
            "assert 'engine.api' in sys.modules\n"
            "print(load_policy.__name__, PolicyError.__name__, FactsError.__name__,"
            " Decision.__name__, Action.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.split() == ["load_policy", "PolicyError", "FactsError", "Decision",
                                  "Action"]


def test_an_unknown_public_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = policylang.no_such_name  # type: ignore[attr-defined]


def test_compile_checked_gives_the_same_policy_as_load_policy(policy_file: Path) -> None:
    checked = load_text(POLICY, "demo.policy", schema_text=SCHEMA).checked
    assert checked is not None
    from_text = compile_checked(checked)
    from_file = policylang.load_policy(policy_file)
    facts = {"overdue": 9, "calls": 6}
    assert from_text.evaluate(facts).to_json() == from_file.evaluate(facts).to_json()


def test_a_compiled_policy_is_immutable() -> None:
    policy = policy_of("overdue >= 1 day -> call borrower\n")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.name = "other"  # type: ignore[misc]


def test_a_compiled_policy_is_safe_to_share_between_threads() -> None:
    policy = policy_of("param letter_day = 7 days\n"
                       "let share = amount / principal\n"
                       "rule a: share > 10% and overdue >= letter_day -> visit borrower\n"
                       "rule b: overdue between 1 day and 3 days -> call borrower\n"
                       "rule c: share > 5% -> sms borrower\n")
    loans = [{"overdue": day % 12, "amount": str(day * 37), "principal": "1000"}
             for day in range(400)]
    expected = [policy.evaluate(facts) for facts in loans]
    overrides = [None, {"letter_day": "2 days"}]

    def run(chunk: int) -> list[object]:
        params = overrides[chunk % 2]
        return [policy.evaluate(facts, params=params) for facts in loans]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(16)))
    with_override = [policy.evaluate(facts, params=overrides[1]) for facts in loans]
    for index, result in enumerate(results):
        assert result == (expected if index % 2 == 0 else with_override)


def test_the_callers_decimal_context_does_not_change_the_result() -> None:
    policy = policy_of("rule exact: amount + 0.01 CNY == 1000000.01 CNY -> call borrower\n"
                       "rule third: amount / 3 > 333333.33 CNY -> visit borrower\n")
    facts = {"overdue": 0, "amount": "1000000"}
    expected = policy.evaluate(facts)
    with decimal.localcontext(decimal.Context(prec=3, traps=[decimal.Inexact])):
        assert policy.evaluate(facts) == expected
    assert expected.matched == ("exact", "third")


def test_evaluate_many_returns_one_decision_per_item_in_order() -> None:
    policy = policy_of("rule a: overdue >= 1 day -> call borrower\n")
    decisions = policy.evaluate_many([{"overdue": 0}, {"overdue": 1}, {"overdue": 0}],
                                     params=None)
    assert [d.matched for d in decisions] == [(), ("a",), ()]


def test_explain_is_available_on_the_compiled_policy() -> None:
    policy = policy_of("rule a: overdue >= 1 day -> call borrower\n")
    explanation = policy.explain({"overdue": 0})
    assert explanation.decision.matched == ()
    assert explanation.rules[0].reason == "overdue >= 1 day is false: overdue is 0 days"


def test_param_errors_carry_their_codes() -> None:
    from engine.params import ParamError
    from policylang import load_policy

    policy = load_policy("policies/retail.policy")
    facts = {"overdue": 8, "due_in": 0, "periods_overdue": 1, "overdue_amount": "10",
             "principal": "1000", "loan_type": "credit", "has_guarantor": False,
             "contact_status": "reachable"}
    try:
        policy.evaluate(facts, params={"letter_day": "5", "leter_day": "3 days"})
    except ParamError as error:
        assert error.codes == ("E209", "E306")
        assert "did you mean 5 days?" in error.problems[0]
        assert "did you mean letter_day?" in error.problems[1]
    else:
        raise AssertionError("bad overrides were accepted")
