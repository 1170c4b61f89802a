"""The benchmark's policy generator (tests/perf/policy_generator.py) must keep writing
policies that load, or tests/perf/bench_analysis.py measures an error message.

Fast: load only (parse, schema, check), no analysis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_generator import MIN_RULES, expected, generate_policy

from policylang import nodes
from policylang.pipeline import load_text

SCHEMA = Path(__file__).resolve().parent.parent / "policies" / "collection.schema.yaml"


@pytest.mark.parametrize("seed", [20261129, 1, 7])
def test_generated_policy_loads_without_errors(seed: int) -> None:
    text = generate_policy(20, 10, seed)
    loaded = load_text(text, "generated.policy", schema_text=SCHEMA.read_text(encoding="utf-8"))
    assert loaded.diagnostics == (), [f"{d.code} {d.message}" for d in loaded.diagnostics]
    assert loaded.checked is not None
    assert len(loaded.checked.rules) == 20
    asserts = loaded.checked.asserts
    assert len(asserts) == 10
    forms = {type(a.expect).__name__ if isinstance(a, nodes.Assert) else "monotone"
             for a in asserts}
    assert len(forms) == 3 and "monotone" in forms          # Expect*: any, and an action
    actions = [a.expect for a in asserts if isinstance(a, nodes.Assert)
               and not isinstance(a.expect, nodes.ExpectAny)]
    assert {a.negated for a in actions} == {True, False}   # `-> ACTION` and `-> no ACTION`
    assert [holds for _, holds in expected(10)].count(True) >= 3
    assert [holds for _, holds in expected(10)].count(False) >= 2


def test_generator_is_deterministic_and_sized() -> None:
    assert generate_policy(20, 10, 5) == generate_policy(20, 10, 5)
    assert generate_policy(20, 10, 5) != generate_policy(20, 10, 6)
    assert generate_policy(60).count("\nrule ") == 60
    with pytest.raises(ValueError, match="at least"):
        generate_policy(MIN_RULES - 1)
