"""The fast paths agree with the plain semantics they stand in for.

- Rule groups (engine/prefilter.py) skip rules whose shared condition is false;
  the rules that match must be exactly those found by trying every rule in
  evaluation order and stopping at the first matching `final` rule.
- The column-wise validation of `evaluate_many` must give the same values as
  validating each loan on its own, and fall back to it on anything unusual.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loans import generate_loans
from strategies import SCHEMA_YAML, facts, policies

from engine.api import COLUMNAR_BATCH, CompiledPolicy, load_policy, load_policy_text

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def reference_matched(policy: CompiledPolicy, env: list[Any]) -> tuple[str, ...]:
    """The contract's step 1 read literally: try rules in order, stop at a final match."""
    matched = []
    for plan in policy.plans:
        if plan.test(list(env)):
            matched.append(plan.name)
            if plan.final:
                break
    return tuple(matched)


@SETTINGS
@given(text=policies(), loans=st.lists(facts(), min_size=1, max_size=8))
def test_grouped_rules_match_exactly_the_rules_tried_one_by_one(
        text: str, loans: list[dict[str, Any]]) -> None:
    policy = load_policy_text(text, schema_text=SCHEMA_YAML)
    for loan in loans:
        env = policy.prepare(loan, None)
        assert policy.evaluate(loan).matched == reference_matched(policy, env)


def as_strings(loan: dict[str, Any]) -> dict[str, Any]:
    """The same loan with its exact numbers written as decimal strings (JSON style)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in loan.items()}


@SETTINGS
@given(loans=st.lists(facts(), min_size=1, max_size=20), strings=st.booleans())
def test_column_validation_equals_row_validation(loans: list[dict[str, Any]],
                                                 strings: bool) -> None:
    policy = load_policy_text('policy p\nschema "s"\noverdue >= 1 day -> call borrower\n',
                              schema_text=SCHEMA_YAML)
    items = [as_strings(loan) for loan in loans] if strings else loans
    columns = policy.validator.coerce_columns(items)
    assert columns is not None
    assert [list(values) for values in columns] == [policy.validator.coerce(i) for i in items]


def test_column_validation_steps_aside_for_anything_unusual() -> None:
    policy = load_policy_text('policy p\nschema "s"\noverdue >= 1 day -> call borrower\n',
                              schema_text=SCHEMA_YAML)
    good = {"overdue": 3, "due_in": 0, "has_guarantor": True, "periods_overdue": 1,
            "risk_score": "0.5", "overdue_amount": "10.00", "loan_type": "credit",
            "contact_status": "reachable"}
    coerce = policy.validator.coerce_columns
    assert coerce([good, good]) is not None
    for bad in ({"overdue": True}, {"overdue": 3.0}, {"risk_score": "1e-1"},
                {"overdue_amount": "1\n2"}, {"overdue_amount": 10}, {"loan_type": "lease"},
                {"overdue": 401}, {"has_guarantor": 1}):
        assert coerce([good, {**good, **bad}]) is None, bad


@pytest.mark.parametrize("count", [COLUMNAR_BATCH - 1, COLUMNAR_BATCH + 300])
def test_evaluate_many_equals_evaluate_one_by_one_on_the_retail_policy(count: int) -> None:
    """Both routes of a batch: rule by rule over value lists below COLUMNAR_BATCH loans,
    the columnar evaluator from there on."""
    policy = load_policy("policies/retail.policy")
    loans = generate_loans(count, seed=7)
    assert policy.evaluate_many(loans) == [policy.evaluate(loan) for loan in loans]


@SETTINGS
@given(text=policies(), loans=st.lists(facts(), min_size=1, max_size=12))
def test_a_batch_decides_each_loan_as_evaluate_does(text: str,
                                                    loans: list[dict[str, Any]]) -> None:
    policy = load_policy_text(text, schema_text=SCHEMA_YAML)
    assert policy.evaluate_many(loans) == [policy.evaluate(loan) for loan in loans]
