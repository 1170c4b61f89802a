"""The hand-written baseline of the benchmark (tests/perf/handwritten_retail.py) must
agree with the engine, or the benchmark compares the engine with something else.

Checked on every case of policies/retail.test.yaml (facts only, default params), on
2,000 generated loans (tests/perf/loans.py), on loans built from the values at the
edges of every threshold the policy tests, and on bad facts (both refuse the same
ones). The baseline's fact table is checked against the schema.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from engine.api import CompiledPolicy, load_policy
from engine.facts import FactsError
from policylang.schema_model import FactType

ROOT = Path(__file__).resolve().parent.parent
PERF = ROOT / "tests" / "perf"
POLICY = ROOT / "policies" / "retail.policy"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"perf_{name}", PERF / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


handwritten = _module("handwritten_retail")
loans = _module("loans")


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return load_policy(POLICY)


def engine_result(policy: CompiledPolicy, facts: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(a.verb, a.target, a.using, a.rules) for a in policy.evaluate(facts).actions]


def assert_agree(policy: CompiledPolicy, cases: list[dict[str, Any]]) -> None:
    wrong = []
    for facts in cases:
        expected = engine_result(policy, facts)
        actual = handwritten.decide(facts)
        if actual != expected:
            wrong.append((facts, expected, actual))
    assert not wrong, (f"{len(wrong)} of {len(cases)} disagree; first: facts {wrong[0][0]}\n"
                       f"engine:   {wrong[0][1]}\nbaseline: {wrong[0][2]}")


def test_policy_test_cases(policy: CompiledPolicy) -> None:
    document = yaml.safe_load((ROOT / "policies" / "retail.test.yaml").read_text("utf-8"))
    cases = [case["facts"] for case in document["cases"]]
    assert len(cases) >= 100
    assert_agree(policy, cases)


def test_generated_loans(policy: CompiledPolicy) -> None:
    generated = loans.generate_loans(2000)
    assert generated == loans.generate_loans(2000)                  # deterministic
    assert_agree(policy, generated)


# Values at and around every threshold the policy tests (params at their defaults).
EDGES: dict[str, tuple[Any, ...]] = {
    "overdue": (0, 1, 2, 3, 4, 6, 7, 8, 29, 30, 31, 89, 90, 91, 1004, 1005, 1006, 3650),
    "due_in": (0, 1, 2, 3, 4, 6, 7, 8, 30, 366),
    "periods_overdue": (0, 1, 2, 3, 600),
    "overdue_amount": ("0", "0.00", "1062.67", "5000", "100000000"),
    "account_balance": ("0", "1062.66", "1062.67", "5000.00", "1000000000"),
    "home_area_m2": ("0", "89.9", "90", "90.0", "90.01", "10000"),
    "longest_overdue": (0, 89, 90, 91, 3650),
    "days_since_letter": (0, 1, 3, 5, 100000),
    "days_since_written_demand": (0, 1, 3, 1004, 1005, 100000),
    "days_since_visit": (0, 6, 7, 8, 100000),
    "days_since_acceleration": (0, 2, 3, 4, 29, 30, 89, 90, 100000),
    "calls_last_7d": (0, 6, 7, 8, 1000),
    "local_hour": (0, 7, 8, 10, 21, 22, 23),
    "unanswered_dials_today": (0, 5, 6, 7),
    "connected_calls_today": (0, 2, 3, 4),
    "failed_attempts_in_a_row": (0, 2, 3, 4),
}


def edge_loans(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    enums = {name: sorted(values) for name, values, _ in handwritten._ENUMS}
    out = []
    for _ in range(count):
        facts: dict[str, Any] = {name: rng.choice(values) for name, values in EDGES.items()}
        facts["principal"] = rng.choice(("0", "30000.00", "100000000"))
        facts.update({name: rng.random() < 0.3 for name, _ in handwritten._BOOLS})
        facts.update({name: rng.choice(values) for name, values in enums.items()})
        facts["borrower_deceased"] = rng.random() < 0.05
        facts["borrower_missing"] = rng.random() < 0.1
        for name in rng.sample(sorted(facts), 4):      # some facts left to their defaults
            if name not in ("overdue", "due_in", "periods_overdue", "overdue_amount",
                            "principal", "loan_type", "has_guarantor", "contact_status"):
                del facts[name]
        out.append(facts)
    return out


def test_edge_values(policy: CompiledPolicy) -> None:
    assert_agree(policy, edge_loans(3000))


def test_other_value_forms(policy: CompiledPolicy) -> None:
    base = loans.generate_loans(1)[0]
    variants = [
        dict(base, overdue_amount=Decimal("1062.67"), principal=30000),
        dict(base, overdue_amount=" 1062.67 CNY", account_balance=1062.67),
        dict(base, overdue=Decimal("95"), due_in=5.0, home_area_m2=90.0),
        {key: value for key, value in base.items() if key in (
            "overdue", "due_in", "periods_overdue", "overdue_amount", "principal",
            "loan_type", "has_guarantor", "contact_status")},
        dict(base, unknown_fact="ignored"),
    ]
    assert_agree(policy, variants)


@pytest.mark.parametrize("change", [
    {"overdue": None}, {"overdue": -1}, {"overdue": 3651}, {"overdue": True},
    {"overdue": "7"}, {"overdue": 7.5}, {"due_in": 367}, {"overdue_amount": "1e3"},
    {"overdue_amount": "NaN"}, {"overdue_amount": "-1"}, {"principal": True},
    {"home_area_m2": "10000.01"}, {"account_balance": float("inf")},
    {"has_guarantor": 1}, {"loan_type": "car"}, {"cause": None}, {"calls_last_7d": 1001},
    {"overdue": -1, "loan_type": "car", "matured": "yes"},
])
def test_both_refuse_bad_facts(policy: CompiledPolicy, change: dict[str, Any]) -> None:
    facts = dict(loans.generate_loans(1)[0], **change)
    with pytest.raises(FactsError) as engine_error:
        policy.evaluate(facts)
    with pytest.raises(handwritten.BadFacts) as baseline_error:
        handwritten.decide(facts)
    assert [p.fact for p in engine_error.value.problems] == \
        [fact for fact, _ in baseline_error.value.problems]


@pytest.mark.parametrize("missing", ["overdue", "principal", "loan_type", "has_guarantor"])
def test_both_refuse_a_missing_required_fact(policy: CompiledPolicy, missing: str) -> None:
    facts = loans.generate_loans(1)[0]
    del facts[missing]
    with pytest.raises(FactsError):
        policy.evaluate(facts)
    with pytest.raises(handwritten.BadFacts, match=missing):
        handwritten.decide(facts)


def test_fact_table_matches_the_schema(policy: CompiledPolicy) -> None:
    table: dict[str, tuple[Any, ...]] = {}
    for name, low, high, default in handwritten._WHOLE:
        table[name] = ("whole", low, high, default)
    for name, low, high, default, _ in handwritten._EXACT:
        table[name] = ("exact", low, high, default)
    for name, default in handwritten._BOOLS:
        table[name] = ("bool", None, None, default)
    for name, values, default in handwritten._ENUMS:
        table[name] = ("enum", values, None, default)
    schema: dict[str, tuple[Any, ...]] = {}
    for fact in policy.schema.facts.values():
        default = fact.default if fact.has_default else handwritten.REQUIRED
        kind = {FactType.INT: "whole", FactType.DAYS: "whole", FactType.MONEY: "exact",
                FactType.DECIMAL: "exact", FactType.BOOL: "bool", FactType.ENUM: "enum"}
        if kind[fact.type] == "enum":
            schema[fact.name] = ("enum", frozenset(fact.values), None, default)
        elif kind[fact.type] == "bool":
            schema[fact.name] = ("bool", None, None, default)
        else:
            schema[fact.name] = (kind[fact.type], fact.minimum, fact.maximum, default)
    assert table == schema
    assert list(handwritten.SCHEMA_ORDER) == list(policy.schema.facts)
