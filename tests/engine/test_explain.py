"""Explain: for every rule, whether it matched and why, in the policy's own words;
the explanation always agrees with the decision."""

from __future__ import annotations

from typing import Any

from engine_helpers import policy_of
from hypothesis import given, settings
from hypothesis import strategies as st

POLICY = """\
param letter_day = 7 days
let reachable = status == reachable
let share = amount / principal
rule death priority 100 final: deceased -> negotiate heir
rule cap priority 50: calls >= 5 -> suppress call
rule remind: due_in == 1 day and reachable -> call borrower using reminder
rule early: overdue between 1 day and 3 days -> call borrower
rule weekly: overdue >= 7 days -> sms borrower
rule letter: overdue >= letter_day
    and amount >= 1000 CNY
  -> notify borrower using overdue_notice
rule guarantor: has_guarantor -> call guarantor
rule gone: status in {lost, unreachable} -> visit borrower
rule ratio: share > 50% -> refer legal
"""


def reasons(facts: dict[str, Any], **params: Any) -> dict[str, Any]:
    explanation = policy_of(POLICY).explain(facts, params or None)
    return {r.rule: r for r in explanation.rules}


def test_a_failed_comparison_shows_the_actual_value() -> None:
    found = reasons({"overdue": 5})
    assert found["weekly"].matched is False
    assert found["weekly"].reason == "overdue >= 7 days is false: overdue is 5 days"


def test_one_day_is_singular_and_between_is_explained() -> None:
    found = reasons({"overdue": 1})
    assert found["early"].matched is True
    assert found["early"].reason == "overdue between 1 day and 3 days is true: overdue is 1 day"


def test_a_bool_fact_standing_alone() -> None:
    assert reasons({"overdue": 0})["guarantor"].reason == "has_guarantor is false"


def test_a_let_is_explained_through() -> None:
    found = reasons({"overdue": 0, "due_in": 1, "status": "lost"})
    assert found["remind"].reason == ("reachable is false because status == reachable is "
                                      "false: status is lost")


def test_the_first_failing_part_of_an_and_is_given() -> None:
    found = reasons({"overdue": 0, "due_in": 2, "status": "lost"})
    assert found["remind"].reason == "due_in == 1 day is false: due_in is 2 days"


def test_money_params_and_multi_line_conditions() -> None:
    found = reasons({"overdue": 8, "amount": "1062.67"}, letter_day="5 days")
    assert found["letter"].matched is True
    assert found["letter"].reason == ("overdue >= letter_day is true: overdue is 8 days, "
                                      "letter_day is 5 days; "
                                      "amount >= 1000 CNY is true: amount is 1062.67 CNY")
    found = reasons({"overdue": 8, "amount": "999.99"})
    assert found["letter"].reason == "amount >= 1000 CNY is false: amount is 999.99 CNY"
    found = reasons({"overdue": 6, "amount": "5000"})
    assert found["letter"].reason == ("overdue >= letter_day is false: overdue is 6 days, "
                                      "letter_day is 7 days")


def test_a_set_membership() -> None:
    assert reasons({"overdue": 0})["gone"].reason == (
        "status in {lost, unreachable} is false: status is reachable")


def test_a_division_by_zero_is_named() -> None:
    found = reasons({"overdue": 0, "amount": "5", "principal": "0"})
    assert found["ratio"].matched is False
    assert found["ratio"].reason == ("share > 50% is false: share is undefined (a division "
                                     "by zero), which makes the comparison false")


def test_a_division_by_zero_inside_a_comparison_is_named() -> None:
    policy = policy_of("rule r: amount / principal > 50% -> refer legal\n")
    found = policy.explain({"overdue": 0, "amount": "5", "principal": "0"}).rules[0]
    assert found.reason == ("amount / principal > 50% is false: amount is 5 CNY, principal is "
                            "0 CNY, a division by zero makes it false")


def test_rules_after_a_matching_final_rule_are_cut_off() -> None:
    explanation = policy_of(POLICY).explain({"overdue": 8, "deceased": True})
    first, *rest = explanation.rules
    assert (first.rule, first.matched, first.cut_off_by) == ("death", True, None)
    assert rest and all(r.cut_off_by == "death" and not r.matched for r in rest)
    weekly = next(r for r in rest if r.rule == "weekly")
    assert weekly.reason == "not tried: final rule death matched first (its own condition holds)"


def test_json_form_lists_every_rule_in_evaluation_order() -> None:
    explanation = policy_of(POLICY).explain({"overdue": 2, "calls": 6})
    out = explanation.to_json()
    assert [r["rule"] for r in out] == ["death", "cap", "remind", "early", "weekly", "letter",
                                        "guarantor", "gone", "ratio"]
    assert out[1] == {"rule": "cap", "matched": True,
                      "reason": "calls >= 5 is true: calls is 6", "cut_off_by": None}


def test_text_form_names_the_suppressing_rule() -> None:
    text = policy_of(POLICY).explain({"overdue": 2, "calls": 6}).to_text()
    assert "suppressed: call borrower (from early) by rule cap" in text
    assert "weekly" in text
    assert "overdue >= 7 days is false: overdue is 2 days" in text


FACTS = st.fixed_dictionaries(
    {"overdue": st.integers(0, 3650), "due_in": st.integers(0, 366),
     "has_guarantor": st.booleans(),
     "status": st.sampled_from(["reachable", "unreachable", "lost"]),
     "amount": st.decimals(0, 5000, places=2), "principal": st.decimals(0, 5000, places=2),
     "calls": st.integers(0, 10), "deceased": st.booleans()})
COMPILED = policy_of(POLICY)


@settings(max_examples=300, deadline=None)
@given(facts=FACTS)
def test_the_explanation_agrees_with_the_decision(facts: dict[str, Any]) -> None:
    explanation = COMPILED.explain(facts)
    decision = COMPILED.evaluate(facts)
    assert explanation.decision == decision
    assert tuple(r.rule for r in explanation.rules if r.matched) == decision.matched
    cut = {r.cut_off_by for r in explanation.rules if r.cut_off_by}
    assert cut == ({decision.stopped_by} if decision.stopped_by else set())
    for rule in explanation.rules:
        assert rule.reason
        assert rule.reason.startswith("not tried") == bool(rule.cut_off_by)
