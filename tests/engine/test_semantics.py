"""Evaluation semantics: the table-driven cases in cases/*.yaml, then the rules
that need Python to state (typed overrides, lets computed once, JSON shape,
determinism and independence from the order of the facts' keys)."""

from __future__ import annotations

import datetime
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from engine_helpers import SCHEMA, compile_text, policy_of, suppressed_words, words
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compile import compile_program
from engine.facts import FactsError, build_validator
from engine.params import ParamError

CASES = Path(__file__).with_name("cases")
ERRORS = {"ParamError": ParamError, "FactsError": FactsError}


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in table["cases"]:
            params.append(pytest.param(table, case, id=f"{path.stem}: {case['name']}"))
    return params


@pytest.mark.parametrize(("table", "case"), _load_cases())
def test_case(table: dict[str, Any], case: dict[str, Any]) -> None:
    policy = compile_text(table["policy"], table.get("schema", SCHEMA))
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]) as caught:
            policy.evaluate(case["facts"], params=case.get("params"))
        for fragment in case.get("error_contains", []):
            assert fragment in str(caught.value)
        return
    decision = policy.evaluate(case["facts"], params=case.get("params"))
    if "matched" in case:
        assert list(decision.matched) == case["matched"]
    if "actions" in case:
        assert words(decision) == case["actions"]
    if "suppressed" in case:
        assert suppressed_words(decision) == case["suppressed"]
    if "stopped_by" in case:
        assert decision.stopped_by == case["stopped_by"]


# -- params given as Python values ----------------------------------------------------

PARAMS = """\
param letter_day = 7 days
param share = 20%
param big = 5000 CNY
param strict = false
rule letter: overdue >= letter_day -> notify borrower using overdue_notice
rule portion: amount >= share * principal -> call borrower
rule big_debt: amount >= big -> visit borrower
rule strict_mode: strict -> refer legal
"""


@pytest.mark.parametrize("override", [5, Decimal("5"), "5 days", datetime.timedelta(days=5)])
def test_typed_and_string_day_overrides_agree(override: Any) -> None:
    decision = policy_of(PARAMS).evaluate({"overdue": 5}, params={"letter_day": override})
    assert decision.matched == ("letter",)


def test_typed_overrides_of_numbers_money_and_bools() -> None:
    policy = policy_of(PARAMS)
    facts = {"overdue": 0, "amount": "150", "principal": "1000"}
    params = {"share": Decimal("0.15"), "big": 150, "strict": True}
    assert policy.evaluate(facts, params=params).matched == ("portion", "big_debt",
                                                             "strict_mode")


@pytest.mark.parametrize(("override", "expected"), [
    (True, "a whole number of days"),          # a bool is not a number of days
    (5.5, "a whole number of days"),
    ("1.5 days", "a whole number of days"),
    ("soon", "a whole number of days"),
])
def test_bad_day_overrides_name_the_param_and_type(override: Any, expected: str) -> None:
    with pytest.raises(ParamError) as caught:
        policy_of(PARAMS).evaluate({"overdue": 5}, params={"letter_day": override})
    assert "param `letter_day`" in str(caught.value)
    assert expected in str(caught.value)


def test_every_bad_override_is_reported_at_once() -> None:
    with pytest.raises(ParamError) as caught:
        policy_of(PARAMS).evaluate({"overdue": 5}, params={"strict": "maybe", "nope": "1"})
    assert len(caught.value.problems) == 2


def test_an_override_does_not_leak_into_the_next_evaluation() -> None:
    policy = policy_of(PARAMS)
    assert policy.evaluate({"overdue": 5}, params={"letter_day": "5 days"}).matched
    assert policy.evaluate({"overdue": 5}).matched == ()


# -- lets ------------------------------------------------------------------------------

def test_a_let_used_by_two_rules_is_computed_once_per_evaluation() -> None:
    from policylang.pipeline import load_text

    text = ('policy t\nschema "s.yaml"\nlet share = amount / principal\n'
            "rule a: share > 10% -> call borrower\nrule b: share > 5% -> visit borrower\n")
    checked = load_text(text, schema_text=SCHEMA).checked
    assert checked is not None
    calls: list[str] = []

    def counting(name: str, compute: Any) -> Any:
        def wrapped(env: list[Any]) -> Any:
            calls.append(name)
            return compute(env)
        return wrapped

    validator = build_validator(checked.schema, {})
    program = compile_program(checked, validator.names, wrap_let=counting)
    env = validator.coerce({"overdue": 1, "amount": "200", "principal": "1000"})
    env += program.param_defaults + program.let_blank
    assert [test(env) for test in program.tests] == [True, True]
    assert calls == ["share"]


# -- the decision object ---------------------------------------------------------------

def test_to_json_has_the_contract_keys_in_order() -> None:
    policy = policy_of("rule a: overdue >= 1 day -> visit borrower, call borrower\n"
                       "rule cap: calls >= 5 -> suppress call\n")
    out = policy.evaluate({"overdue": 2, "calls": 5}).to_json()
    assert list(out) == ["policy", "version", "digest", "actions", "suppressed", "matched",
                         "stopped_by"]
    assert out["policy"] == "t"
    assert out["version"] == "1"
    assert out["digest"].startswith("sha256:")
    assert out["actions"] == [{"verb": "visit", "target": "borrower", "using": None,
                               "stage": 2, "rules": ["a"]}]
    assert out["suppressed"] == [{"verb": "call", "target": "borrower", "using": None,
                                  "stage": 1, "by": "cap", "rules": ["a"]}]
    assert out["matched"] == ["a", "cap"]
    assert out["stopped_by"] is None


def test_a_decision_is_immutable() -> None:
    decision = policy_of("overdue >= 1 day -> call borrower\n").evaluate({"overdue": 1})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decision.matched = ()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decision.actions[0].verb = "visit"  # type: ignore[misc]


def test_a_rule_that_can_never_match_never_matches() -> None:
    policy = policy_of("rule never: 1 day > 2 days -> call borrower\n"
                       "rule always: 2 days > 1 day -> sms borrower\n")
    assert policy.evaluate({"overdue": 0}).matched == ("always",)


# -- properties ------------------------------------------------------------------------

PROPERTY_POLICY = """\
param letter_day = 7 days
let share = amount / principal
let reachable = status == reachable
rule death priority 100 final: deceased -> negotiate heir
rule cap priority 50: calls >= 5 -> suppress call borrower
rule remind: due_in == 1 day and reachable -> call borrower using reminder
rule early: overdue between 1 day and 3 days -> call borrower
overdue >= 4 days -> visit borrower
overdue >= 4 days and has_guarantor -> notify guarantor, call guarantor
rule letter: overdue >= letter_day and share > 20% -> notify borrower using overdue_notice,
  call borrower
rule lost: status in {lost, unreachable} and not has_guarantor -> suppress call
rule legal priority -1: overdue >= 90 days or share >= 90% -> refer legal
"""

money = st.decimals(min_value=0, max_value=100000, places=2)
FACTS = st.fixed_dictionaries(
    {"overdue": st.integers(0, 3650), "due_in": st.integers(0, 366),
     "has_guarantor": st.booleans(), "status": st.sampled_from(["reachable", "unreachable",
                                                                "lost"]),
     "amount": money, "principal": money, "calls": st.integers(0, 100),
     "deceased": st.booleans()})


@functools.cache
def compiled_twice() -> tuple[Any, Any]:
    """The property policy compiled twice, independently."""
    return policy_of(PROPERTY_POLICY), policy_of(PROPERTY_POLICY)


@settings(max_examples=300, deadline=None)
@given(facts=FACTS, order=st.randoms())
def test_evaluation_is_deterministic_and_ignores_key_order(facts: dict[str, Any],
                                                           order: Any) -> None:
    policy, twin = compiled_twice()
    first = policy.evaluate(facts)
    keys = list(facts)
    order.shuffle(keys)
    shuffled = {key: facts[key] for key in keys}
    assert policy.evaluate(shuffled) == first
    again = twin.evaluate(shuffled)
    assert again == first
    assert again.to_json() == first.to_json()


@settings(max_examples=100, deadline=None)
@given(facts=FACTS)
def test_evaluate_many_equals_evaluate_one_by_one(facts: dict[str, Any]) -> None:
    policy, _ = compiled_twice()
    other = dict(facts, overdue=min(facts["overdue"] + 5, 3650))
    assert policy.evaluate_many([facts, other]) == [policy.evaluate(facts),
                                                    policy.evaluate(other)]
