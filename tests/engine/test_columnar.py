"""The columnar evaluator: decisions from columns equal `CompiledPolicy.evaluate`, loan
by loan, on the retail policy, on generated policies (divisions by zero and by values
with no finite inverse included), with param overrides, and at the 64-bit edges."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from analysis_strategies import _atom, any_policies, boundaries, examples, facts_near, load
from engine_helpers import policy_of
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from loans import generate_loans
from policy_generator import generate_policy
from strategies import DAYS, MONEY, NUMBER, _action, _facts_env, _wrap, expressions

from engine.api import CompiledPolicy, compile_checked, load_policy, load_policy_text
from engine.columnar import ColumnarPolicy, Scaled, columnar
from engine.compile import DECIMAL
from engine.facts import FactsError
from engine.params import ParamError
from policylang.schema_model import FactType

POLICIES = Path(__file__).resolve().parents[2] / "policies"
FACTS_ENV = _facts_env()


@cache
def retail() -> tuple[CompiledPolicy, ColumnarPolicy]:
    policy = load_policy(POLICIES / "retail.policy")
    return policy, columnar(policy)


@cache
def retail_loans() -> list[dict[str, Any]]:
    return generate_loans(3000, seed=7)


def numpy_columns(policy: CompiledPolicy, rows: list[Any]) -> dict[str, Any]:
    """Columns as a columnar simulation holds them: int64 arrays, money as `Scaled`
    units, bool arrays, enums as a NumPy str array."""
    out: dict[str, Any] = {}
    for fact, values in zip(policy.validator.order, zip(*rows, strict=True), strict=True):
        if fact.type in (FactType.MONEY, FactType.DECIMAL):
            places = max(0, *(-v.as_tuple().exponent for v in values))
            units = [int(v.scaleb(places, DECIMAL)) for v in values]
            fits = all(abs(u) < 2**63 for u in units)
            out[fact.name] = Scaled(np.array(units, dtype=np.int64), places) if fits else values
        elif fact.type is FactType.BOOL:
            out[fact.name] = np.array(values, dtype=bool)
        elif fact.type in (FactType.INT, FactType.DAYS):
            out[fact.name] = np.array(values, dtype=np.int64)
        else:
            out[fact.name] = np.array(values)
    return out


def assert_same(policy: CompiledPolicy, fast: ColumnarPolicy, facts: list[dict[str, Any]],
                params: dict[str, Any] | None = None) -> None:
    """Every way into the columns decides each loan as `evaluate` does, alone."""
    expected = [policy.evaluate(f, params=params) for f in facts]
    rows = [policy.validator.coerce(f) for f in facts]
    assert fast.decide_columns(fast.columns_of(rows), len(rows), params) == expected
    assert fast.decide_columns(numpy_columns(policy, rows), len(rows), params) == expected
    assert fast.evaluate_many(facts, params) == expected


# -- (a) the retail policy ------------------------------------------------------------------

def test_retail_policy_is_vectorised_whole() -> None:
    assert retail()[1].per_row == ()


def test_retail_decisions_equal_evaluate_on_thousands_of_loans() -> None:
    policy, fast = retail()
    assert_same(policy, fast, retail_loans())


def test_a_generated_policy_over_64_rules_packs_several_mask_words() -> None:
    text = generate_policy(150, asserts=0, seed=3)
    policy = load_policy_text(text, base_dir=POLICIES)
    assert len(policy.plans) > 128
    loans = generate_loans(1500, seed=11)
    assert_same(policy, columnar(policy), loans)


def test_distinct_decisions_index_every_row() -> None:
    policy, fast = retail()
    loans = retail_loans()
    decisions, rows = fast.decide_distinct(fast.columns_of(
        [policy.validator.coerce(f) for f in loans]), len(loans))
    # a fifth of the rows before guards; cn-conduct's rules add to the matched lists
    assert len(decisions) == len(set(map(id, decisions))) < len(loans) // 4
    assert [decisions[i] for i in rows] == policy.evaluate_many(loans)


# -- (c) params --------------------------------------------------------------------------------

RETAIL_OVERRIDES = [
    {"letter_day": "5 days", "call_cap": "3", "visit_day": 2},
    {"small_home_m2": "120.5", "legal_day": "30 days", "limitation_period": "400 days"},
    {"debit_window": "0 days", "reminder_lead": "2 days", "long_delinquency": "1 day"},
]


@pytest.mark.parametrize("params", RETAIL_OVERRIDES)
def test_retail_param_overrides_decide_as_evaluate(params: dict[str, Any]) -> None:
    policy, fast = retail()
    assert_same(policy, fast, retail_loans()[:1000], params)


def test_a_bad_override_raises_param_error_before_the_columns_are_read() -> None:
    _, fast = retail()
    with pytest.raises(ParamError):
        fast.decide_columns({}, 3, params={"letter_day": "soon"})


DIVISORS = """\
param divisor = 4
param share = 20%
param days_div = 2
rule per_period: overdue_amount / divisor >= 25 CNY -> call borrower
rule part: overdue_amount >= share * principal -> visit borrower
rule days: overdue / days_div between 2 days and 10 days -> notify borrower
rule not_per_period: not (overdue_amount / divisor < 25 CNY) -> refer legal
"""
SCHEMA_TEXT = """\
facts:
  overdue:        {type: days, min: 0, max: 3650}
  overdue_amount: {type: money, currency: CNY, min: 0}
  principal:      {type: money, currency: CNY, min: 0, default: 10000}
actions:
  call:   {targets: [borrower], stage: 1}
  visit:  {targets: [borrower], stage: 2}
  notify: {targets: [borrower], stage: 3}
  refer:  {targets: [legal], stage: 5}
"""
_number = st.sampled_from(["0", "3", "7", "2.5", "0.125", "-4", "1", "100", "0.3"])


@settings(max_examples=examples(40), deadline=None)
@given(divisor=_number, share=st.sampled_from(["0%", "20%", "33%", "-5%", "150%"]),
       days_div=st.sampled_from(["0", "1", "3", "0.5", "8"]),
       amounts=st.lists(st.decimals(0, 10000, places=2), min_size=1, max_size=20),
       days=st.lists(st.integers(0, 60), min_size=1, max_size=20))
def test_overrides_divide_by_zero_and_by_values_without_a_finite_inverse(
        divisor: str, share: str, days_div: str, amounts: list[Decimal],
        days: list[int]) -> None:
    policy = policy_of(DIVISORS, SCHEMA_TEXT)
    fast = columnar(policy)
    assert fast.per_row == ()            # every divisor is a param: decided per batch
    facts = [{"overdue": d, "overdue_amount": a} for d, a in zip(days, amounts, strict=False)]
    params = {"divisor": divisor, "share": share, "days_div": days_div}
    assert_same(policy, fast, facts, params)


# -- (b) generated policies, divisions included ----------------------------------------------

_ZERO = {NUMBER: "0", DAYS: "0 days", MONEY: "0 CNY"}
_ITEMS = {NUMBER: ["0", "1", "2", "0.5", "-1", "50%"], DAYS: ["0 days", "1 day", "3 days"],
          MONEY: ["0 CNY", "100 CNY", "0.01 CNY"]}


@st.composite
def _division(draw: st.DrawFn) -> str:
    """A comparison, `between` or `in` on a quotient: by a fact that may be 0, a sum, a
    literal 0 or a number whose inverse has no finite decimal (3, 0.3)."""
    kind = draw(st.sampled_from((NUMBER, DAYS, MONEY)))
    top = _wrap(draw(expressions(kind, FACTS_ENV, depth=1)))
    if kind != NUMBER and draw(st.booleans()):              # like / like is a number
        bottom = draw(st.one_of(expressions(kind, FACTS_ENV, depth=1), st.just(_ZERO[kind])))
        result = NUMBER
    else:
        bottom = draw(st.one_of(
            expressions(NUMBER, FACTS_ENV, depth=1),
            st.sampled_from(("0", "3", "0.3", "8", "periods_overdue", "periods_overdue - 1",
                             "联系次数 * 0.5", "risk_score"))))
        result = kind
    quotient = f"{top} / {_wrap(bottom)}"
    form = draw(st.sampled_from(("compare", "between", "in", "times")))
    other = _wrap(draw(expressions(result, FACTS_ENV, depth=1)))
    if form == "between":
        return f"{quotient} between {other} and {draw(st.sampled_from(_ITEMS[result]))}"
    if form == "in":
        items = draw(st.lists(st.sampled_from(_ITEMS[result]), min_size=1, max_size=3))
        return f"{quotient} {draw(st.sampled_from(('in', 'not in')))} {{{', '.join(items)}}}"
    if form == "times":                                     # the row engine's rounding
        return f"({quotient}) * {_wrap(bottom)} == {top}"
    return f"{quotient} {draw(st.sampled_from(('==', '!=', '<', '<=', '>', '>=')))} {other}"


@st.composite
def _division_rule(draw: st.DrawFn, index: int) -> str:
    a, b = draw(_division()), draw(_atom())
    condition = draw(st.sampled_from((
        a, f"not ({a})", f"{b} and {a}", f"{b} or {a}", f"({a}) and not ({b})",
        f"({b} or {a}) and {draw(_division())}")))
    head = f"rule div_{index}"
    if draw(st.booleans()):
        head += f" priority {draw(st.integers(-1, 2))}"
    if draw(st.integers(0, 4)) == 0:
        head += " final"
    actions = ", ".join(draw(st.lists(_action(), min_size=1, max_size=2, unique=True)))
    return f"{head}: {condition} -> {actions}"


@st.composite
def _policies_with_divisions(draw: st.DrawFn) -> str:
    text = draw(any_policies())
    rules = [draw(_division_rule(i)) for i in range(draw(st.integers(0, 3)))]
    return text + "".join(rule + "\n" for rule in rules)


@st.composite
def _case(draw: st.DrawFn) -> tuple[CompiledPolicy, list[dict[str, Any]]]:
    checked = load(draw(_policies_with_divisions()))
    facts = draw(st.lists(facts_near(boundaries(checked)), min_size=1, max_size=30))
    return compile_checked(checked), facts


_DIVIDING = """\
policy div version "1"
schema "strategies.schema.yaml"
rule a: overdue_amount / (overdue_amount - 100 CNY) > 2 -> call borrower
rule b: not (overdue / due_in > 2) and risk_score / 3 * 3 == risk_score -> visit borrower
rule c final: periods_overdue / 0 > 1 or overdue_amount / periods_overdue in {0 CNY} -> refer legal
rule d priority 3: (overdue / due_in) between 1 and 3 -> suppress call
"""


@settings(max_examples=examples(50), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=_case())
@example(case=(compile_checked(load(_DIVIDING)), [
    {"overdue": 4, "due_in": 0, "has_guarantor": False, "in_litigation": False,
     "periods_overdue": 0, "联系次数": 0, "risk_score": Decimal("0.01"),
     "overdue_amount": Decimal("100"), "loan_type": "credit", "contact_status": "lost"},
    {"overdue": 4, "due_in": 2, "has_guarantor": True, "in_litigation": False,
     "periods_overdue": 2, "联系次数": 0, "risk_score": Decimal("0.3"),
     "overdue_amount": Decimal("150"), "loan_type": "credit", "contact_status": "lost"},
]))
def test_generated_policies_decide_as_evaluate(
        case: tuple[CompiledPolicy, list[dict[str, Any]]]) -> None:
    policy, facts = case
    assert_same(policy, columnar(policy), facts)


@settings(max_examples=examples(20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_policies_with_param_overrides(data: st.DataObject) -> None:
    checked = load(data.draw(any_policies()))
    policy = compile_checked(checked)
    params: dict[str, Any] = {}
    for name, kind in zip(policy.binder.names, policy.binder.types, strict=True):
        if data.draw(st.booleans()):
            params[name] = data.draw(_override(kind.kind.name))
    facts = data.draw(st.lists(facts_near(boundaries(checked)), min_size=1, max_size=20))
    assert_same(policy, columnar(policy), facts, params)


def _override(kind: str) -> st.SearchStrategy[Any]:
    if kind == "DAYS":
        return st.integers(-5, 400)
    if kind == "BOOL":
        return st.booleans()
    return st.decimals(-1000, 1000, places=3)


# -- exactness at the edges ---------------------------------------------------------------

EDGES = """\
rule big: amount * 1000000000 > principal * 1000000000 -> call borrower
rule fine: rate > 0.1234567890123456789012345 -> sms borrower
rule third: amount / 3 * 3 == amount -> visit borrower
rule zero: amount / 0 > 1 CNY or not (calls / 0 < 1) -> refer legal
rule text: note == "vip" or note in {"a", "b"} -> negotiate heir
rule quarter: amount / 0.25 == amount * 4 and amount / 8 < 1 CNY -> notify borrower
"""


def test_edges_decide_as_evaluate() -> None:
    policy = policy_of(EDGES)
    fast = columnar(policy)
    assert [line.split(":")[0] for line in fast.per_row] == ["fine", "third"]
    huge = Decimal("9" * 17 + ".99")        # times 10**9 no longer fits 64 bits
    facts = [
        {"overdue": 1, "amount": huge, "principal": huge - 1, "note": "vip"},
        {"overdue": 1, "amount": Decimal("1"), "rate": Decimal("0.1234567890123456789012346")},
        {"overdue": 1, "amount": Decimal("0.9"), "rate": Decimal("0.12345678901234567890123449")},
        {"overdue": 1, "amount": Decimal("7.99"), "calls": 0, "note": "b"},
        {"overdue": 1, "amount": Decimal("1E+2"), "principal": Decimal("0.000001")},
        {"overdue": 0},
    ]
    assert_same(policy, fast, facts)


LETS = """\
let share = amount / principal
let risky = share > 50% or amount / 3 > principal
rule a: calls >= 1 and share >= 10% -> call borrower
rule b: not risky and share != 20% -> sms borrower
rule c: risky or (overdue > 1 day and share between 0 and 1) -> visit borrower
rule d final: risky and calls > 5 -> refer legal
"""


def test_dividing_lets_shared_by_rules_go_loan_by_loan_where_needed() -> None:
    policy = policy_of(LETS)
    fast = columnar(policy)
    assert {line.split(":")[0] for line in fast.per_row} == {"a", "b", "c"}
    amounts = [Decimal(x) for x in ("0", "1", "2000", "5000", "5000.01", "30000")]
    facts = [{"overdue": overdue, "amount": amount, "principal": principal, "calls": calls}
             for overdue in (0, 2) for calls in (0, 6) for amount in amounts
             for principal in (Decimal(0), Decimal(10000), Decimal("3"))]
    assert_same(policy, fast, facts)


def test_a_column_too_big_for_64_bits_goes_loan_by_loan() -> None:
    policy = policy_of("rule a: amount > principal -> call borrower\n")
    fast = columnar(policy)
    facts = [{"overdue": 1, "amount": Decimal("1" + "0" * 30), "principal": Decimal("9" * 30)},
             {"overdue": 1, "amount": Decimal(1), "principal": Decimal(2)}]
    assert [d.matched for d in fast.evaluate_many(facts)] == [("a",), ()]
    assert_same(policy, fast, facts)


def test_an_empty_batch_has_no_decisions() -> None:
    fast = retail()[1]
    assert fast.decide_columns(fast.columns_of([]), 0) == []
    assert fast.evaluate_many([]) == []


def test_missing_columns_take_the_facts_defaults() -> None:
    policy = policy_of("rule a: amount >= 20% * principal and status == reachable "
                       "-> call borrower\n")
    decisions = columnar(policy).decide_columns(
        {"overdue": [1, 2], "amount": [Decimal(2000), Decimal(1999)]}, 2)
    assert [d.matched for d in decisions] == [("a",), ()]


# -- bad columns -----------------------------------------------------------------------------

@pytest.mark.parametrize(("columns", "fact", "words"), [
    ({}, "overdue", "no column"),
    ({"overdue": [1, 2]}, "overdue", "a column of 2 values for 3 loans"),
    ({"overdue": [1, True, 2]}, "overdue", "row 1"),
    ({"overdue": [1, 2, 4000]}, "overdue", "4000 (row 2)"),
    ({"overdue": [1, 2, 3], "amount": [Decimal(1), "x", Decimal(1)]}, "amount", '"x" (row 1)'),
    ({"overdue": [1, 2, 3], "amount": [Decimal(-1), Decimal(1), Decimal(1)]}, "amount",
     "row 0"),
    ({"overdue": [1, 2, 3], "status": ["reachable", "gone", "lost"]}, "status", "row 1"),
    ({"overdue": [1, 2, 3], "deceased": [True, 1, False]}, "deceased", "row 1"),
    ({"overdue": [1, 2, 3], "deceased": np.array([1, 0, 1])}, "deceased", "row 0"),
])
def test_a_bad_column_raises_facts_error_naming_the_fact(
        columns: dict[str, Any], fact: str, words: str) -> None:
    fast = columnar(policy_of("rule a: overdue >= 1 day -> call borrower\n"))
    with pytest.raises(FactsError) as caught:
        fast.decide_columns(columns, 3)
    assert [p.fact for p in caught.value.problems] == [fact]
    assert words in str(caught.value)


def test_columns_take_what_the_validator_takes() -> None:
    policy = policy_of("rule a: amount > 1.5 CNY and overdue > 1 day -> call borrower\n")
    columns = {"overdue": np.array([2.0, 3.0]), "amount": ["1.5", 2.25]}
    assert [d.matched for d in columnar(policy).decide_columns(columns, 2)] == [(), ("a",)]


def test_evaluate_many_names_the_bad_item() -> None:
    _, fast = retail()
    loans = [dict(loan) for loan in retail_loans()[:5]]
    loans[3]["overdue"] = -1
    with pytest.raises(FactsError) as caught:
        fast.evaluate_many(loans)
    assert caught.value.index == 3


@pytest.mark.parametrize("change", [
    {"overdue": 1.5}, {"has_guarantor": np.True_}, {"overdue_amount": "1e5"},
    {"overdue_amount": float("nan")}, {"loan_type": "payday"}, {"principal": None},
    {"calls_last_7d": True}, {"due_in": 367},
])
def test_evaluate_many_refuses_what_evaluate_refuses(change: dict[str, Any]) -> None:
    policy, fast = retail()
    loans = [dict(loan) for loan in retail_loans()[:4]]
    loans[2].update(change)
    with pytest.raises(FactsError) as by_rows:
        policy.evaluate_many(loans)
    with pytest.raises(FactsError) as by_columns:
        fast.evaluate_many(loans)
    assert by_columns.value.index == by_rows.value.index == 2
    assert by_columns.value.problems == by_rows.value.problems


def test_evaluate_many_takes_what_evaluate_takes() -> None:
    policy, fast = retail()
    loans = [dict(loan) for loan in retail_loans()[:6]]
    loans[0].update(overdue=30.0, overdue_amount="100 CNY", principal=" 12.5 ")
    loans[1].update(overdue_amount=Decimal("7.125"), principal=3000, account_balance=0.1)
    del loans[2]["ability"], loans[3]["calls_last_7d"]
    assert fast.evaluate_many(loans) == [policy.evaluate(loan) for loan in loans]
    assert fast.decide_columns(fast.columns_of(loans), len(loans)) == fast.evaluate_many(loans)
