"""Facts validation: every schema fact is coerced to its run-time value, or the
evaluation fails with every problem named (fact, expected type, what was given,
rules that need it) and nothing is evaluated."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_helpers import SCHEMA, policy_of

from engine.facts import FactsError, build_validator
from policylang.schema import parse_schema

RULES = """\
rule early: overdue between 1 day and 3 days -> call borrower
overdue >= 4 days and has_guarantor -> notify guarantor
rule big: amount >= 5000 CNY -> visit borrower
"""
OK = {"overdue": 2}


def coerced(facts: dict[str, Any]) -> dict[str, Any]:
    """The run-time values the validator gives, by fact name."""
    schema = parse_schema(SCHEMA, "schema.yaml").schema
    assert schema is not None
    validator = build_validator(schema, {})
    return dict(zip(validator.names, validator.coerce(facts), strict=True))


def problems(facts: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(FactsError) as caught:
        policy_of(RULES).evaluate(facts)
    return {p.fact: p for p in caught.value.problems}


# -- accepted forms --------------------------------------------------------------------

def test_defaults_fill_in_missing_facts() -> None:
    values = coerced({"overdue": 3})
    assert values["due_in"] == 30
    assert values["status"] == "reachable"
    assert values["rate"] == Decimal("0.05")
    assert values["note"] == ""


@pytest.mark.parametrize(("given", "expected"), [
    ("1062.67", Decimal("1062.67")),            # a decimal string, exactly
    ("1062.67 CNY", Decimal("1062.67")),        # with the fact's currency
    (Decimal("1062.67"), Decimal("1062.67")),   # JSON read with parse_float=Decimal
    (1062.67, Decimal("1062.67")),              # a float through its repr, not its binary value
    (0.1, Decimal("0.1")),
    (5, Decimal("5")),
])
def test_money_is_exact_whatever_its_form(given: Any, expected: Decimal) -> None:
    value = coerced({"overdue": 0, "amount": given})["amount"]
    assert value == expected
    assert str(value) == str(expected)


@pytest.mark.parametrize("given", [7, 7.0, Decimal("7"), Decimal("7.00")])
def test_days_accept_whole_numbers_in_any_numeric_form(given: Any) -> None:
    value = coerced({"overdue": given})["overdue"]
    assert value == 7
    assert type(value) is int


def test_keys_the_schema_does_not_know_are_ignored() -> None:
    decision = policy_of(RULES).evaluate({"overdue": 2, "loan_id": "L-1", "extra": [1, 2]})
    assert decision.matched == ("early",)


# -- rejected forms --------------------------------------------------------------------

def test_a_missing_fact_without_default_names_the_fact_and_its_rules() -> None:
    found = problems({})
    assert set(found) == {"overdue"}
    problem = found["overdue"]
    assert problem.expected == "a whole number of days between 0 and 3650"
    assert "missing" in problem.given
    assert problem.rules == ("early", "line 4")
    assert "needed by rules early, line 4" in problem.message


@pytest.mark.parametrize(("fact", "given"), [
    ("overdue", True),             # a bool is not a number of days
    ("calls", False),              # nor an int
    ("overdue", "5"),              # a string is not a number of days
    ("overdue", 5.5),              # not whole
    ("overdue", Decimal("5.5")),
    ("overdue", -1),               # below min
    ("overdue", 3651),             # above max
    ("calls", 101),
    ("amount", "-1"),              # money below min
    ("amount", "12,5"),
    ("amount", "1e3"),             # only plain decimal strings
    ("amount", "NaN"),
    ("amount", Decimal("NaN")),
    ("amount", float("inf")),
    ("amount", "100 USD"),         # another currency
    ("amount", True),
    ("status", "gone"),            # not an enum value
    ("status", 1),
    ("has_guarantor", "true"),     # bools are true/false, not strings
    ("has_guarantor", 1),
    ("note", 5),
    ("rate", "2"),                 # decimal above max
])
def test_a_bad_value_is_an_error_naming_the_fact(fact: str, given: Any) -> None:
    facts = {"overdue": 2, fact: given}
    found = problems(facts)
    assert set(found) == {fact}
    assert f"fact `{fact}`" in found[fact].message


@pytest.mark.parametrize(("fact", "expected"), [
    ("overdue", "a whole number of days between 0 and 3650"),
    ("calls", "a whole number between 0 and 100"),
    ("amount", "an amount in CNY of at least 0"),
    ("status", "one of reachable, unreachable, lost"),
    ("has_guarantor", "true or false"),
    ("note", "text"),
])
def test_the_expected_type_is_said_in_words(fact: str, expected: str) -> None:
    found = problems({"overdue": 2, fact: [1]})
    assert found[fact].expected.startswith(expected)
    assert found[fact].given == "list [1]"


def test_every_problem_is_reported_at_once_in_schema_order() -> None:
    with pytest.raises(FactsError) as caught:
        policy_of(RULES).evaluate({"overdue": True, "status": "gone", "amount": "x"})
    error = caught.value
    assert [p.fact for p in error.problems] == ["overdue", "status", "amount"]
    text = str(error)
    assert text.startswith("the facts do not fit the schema (3 problems):")
    assert 'fact `status`: expected one of reachable, unreachable, lost, got "gone"' in text
    assert "needed by rule big" in text


def test_a_fact_no_rule_reads_says_so() -> None:
    found = problems({"overdue": 2, "note": 5})
    assert found["note"].rules == ()
    assert "no rule reads it" in found["note"].message


def test_facts_that_are_not_a_mapping_are_an_error() -> None:
    with pytest.raises(FactsError) as caught:
        policy_of(RULES).evaluate([("overdue", 2)])  # type: ignore[arg-type]
    assert "mapping" in str(caught.value)


def test_evaluate_many_names_the_index_of_the_bad_item_and_evaluates_nothing() -> None:
    with pytest.raises(FactsError) as caught:
        policy_of(RULES).evaluate_many([OK, OK, {"overdue": "x"}, {}])
    assert caught.value.index == 2
    assert str(caught.value).startswith("item 2: ")
