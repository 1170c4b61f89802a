"""No input, however wrong, makes the engine crash: it decides, or it refuses with
FactsError / ParamError naming what is wrong. Nothing else ever escapes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.facts import FactsError
from engine.params import ParamError
from policylang import load_policy

POLICY = load_policy("policies/retail.policy")
NAMES = list(POLICY.schema.facts)

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.decimals()
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)

GOOD = {"overdue": 8, "due_in": 0, "periods_overdue": 1, "overdue_amount": "1062.67",
        "principal": "30000", "loan_type": "credit", "has_guarantor": False,
        "contact_status": "reachable"}


@settings(max_examples=200, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), JSONISH,
                               max_size=6))
def test_any_facts_are_decided_or_refused_by_name(changes: dict[str, Any]) -> None:
    facts = {**GOOD, **changes}
    try:
        decision = POLICY.evaluate(facts)
    except FactsError as error:
        assert error.problems
        assert all(problem.fact in facts or "missing" in problem.given
                   for problem in error.problems)
        return
    assert decision.policy == "retail_collection"


@settings(max_examples=100, deadline=None)
@given(items=st.lists(JSONISH | st.just(GOOD), max_size=5))
def test_any_batch_is_decided_or_refused_with_the_index(items: list[Any]) -> None:
    try:
        decisions = POLICY.evaluate_many(items)
    except FactsError as error:
        assert error.index is not None and 0 <= error.index < len(items)
        return
    assert len(decisions) == len(items)


@settings(max_examples=100, deadline=None)
@given(params=st.dictionaries(st.text(max_size=12), JSONISH, max_size=3))
def test_any_params_are_used_or_refused(params: dict[str, Any]) -> None:
    try:
        POLICY.evaluate(GOOD, params=params)
    except ParamError as error:
        assert error.codes and set(error.codes) <= {"E209", "E306"}
