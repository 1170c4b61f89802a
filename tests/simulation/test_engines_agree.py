"""The row and columnar engines replay identically: the same loan-days (loan, date,
overdue) with the same actions (verb, target, template, stage, rules), in the same
order. Both walk the same LoanCursors and differ only in how the rules are evaluated
(one loan at a time, or one calendar day of every active loan at once) and in the
order they visit loans, so a history fact fed back wrongly, a loan started or stopped
on the wrong day or an ordering slip shows up here. On (a) the bundled example with
policies/retail.policy, (b) generated portfolios with random param overrides and
windows, (c) generated policies over policies/collection.schema.yaml: the benchmark's
policy generator, and small random rules over the ledger and history facts."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_generator import MIN_RULES, generate_policy

from engine.api import CompiledPolicy, load_policy, load_policy_text
from engine.simulation.command import example_data
from engine.simulation.engines import replay_columnar, run_engine
from engine.simulation.generator import Behaviour, generate_portfolio, write_portfolio
from engine.simulation.history import Portfolio, read_history
from engine.simulation.replay import ALL_DAYS, ReplayResult, Window, replay_rows

POLICIES = Path(__file__).resolve().parents[2] / "policies"
START = date(2025, 1, 1)


@cache
def retail() -> CompiledPolicy:
    return load_policy(POLICIES / "retail.policy")


def read_generated(loans: int, seed: int, days: int,
                   mix: Mapping[Behaviour, int] | None = None) -> Portfolio:
    """A generated portfolio, written as CSV and read back as a replay reads it."""
    generated = generate_portfolio(loans, seed=seed, start=START,
                                   end=START + timedelta(days=days - 1),
                                   origination_days=days // 3, mix=mix)
    with tempfile.TemporaryDirectory() as folder:
        write_portfolio(generated, Path(folder))
        read = read_history(Path(folder), retail().schema)
    assert read.can_simulate and not read.problems, read.report()
    return read.portfolio


def assert_same(row: ReplayResult, columnar: ReplayResult) -> None:
    """Equal results; on a difference, the first loan-day that differs."""
    assert (row.engine, columnar.engine) == ("row", "columnar")
    assert (row.end, row.loans, row.window) == (columnar.end, columnar.loans, columnar.window)
    for index, (a, b) in enumerate(zip(row.days, columnar.days, strict=False)):
        assert a == b, f"loan-day {index}: row {a} != columnar {b}"
    assert len(row.days) == len(columnar.days)


def replay_both(policy: CompiledPolicy, portfolio: Portfolio, window: Window = ALL_DAYS,
                params: Mapping[str, Any] | None = None) -> ReplayResult:
    row = replay_rows(policy, portfolio, window, params)
    columnar = run_engine("columnar", policy, portfolio, window, params)
    assert_same(row, columnar)
    return row


# -- (a) the bundled example ------------------------------------------------------------------

def test_the_engines_agree_on_the_bundled_example_with_the_retail_policy() -> None:
    read = read_history(example_data(), retail().schema)
    assert read.can_simulate
    result = replay_both(retail(), read.portfolio)
    # the example exercises the ladder: letters, visits and legal referrals all happen
    produced = {(a.verb, a.target, a.using) for day in result.days for a in day.actions}
    assert {("notify", "borrower", "overdue_notice"), ("visit", "borrower", "business_review"),
            ("refer", "legal", None)} <= produced


# -- (b) generated portfolios, random params and windows ---------------------------------------

DAY_PARAMS = ("reminder_lead", "visit_day", "letter_day", "revisit_days", "letter_interval",
              "wilful_legal_day", "acceleration_grace", "legal_day", "long_delinquency")


@st.composite
def retail_params(draw: st.DrawFn) -> dict[str, str]:
    """Overrides of a few of the retail policy's params, as --param gives them (text)."""
    names = draw(st.lists(st.sampled_from((*DAY_PARAMS, "call_cap")), max_size=4, unique=True))
    params = {}
    for name in names:
        if name == "call_cap":
            params[name] = str(draw(st.integers(0, 8)))
        else:
            params[name] = f"{draw(st.integers(0, 60))} days"
    return params


def _day(offsets: st.SearchStrategy[int]) -> st.SearchStrategy[date | None]:
    return st.one_of(st.none(), offsets.map(lambda days: START + timedelta(days=days)))


# --from and --to anywhere: before, inside or after the portfolio's days, or left out
WINDOWS = st.builds(Window, _day(st.integers(0, 200)), _day(st.integers(0, 260)))
MIXES = st.one_of(st.none(), st.dictionaries(st.sampled_from(list(Behaviour)),
                                             st.integers(1, 5), min_size=1, max_size=4))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), loans=st.integers(1, 10), days=st.integers(30, 240),
       mix=MIXES, params=retail_params(), window=WINDOWS)
def test_the_engines_agree_on_generated_portfolios_with_random_params(
        *, seed: int, loans: int, days: int, mix: dict[Behaviour, int] | None,
        params: dict[str, str], window: Window) -> None:
    replay_both(retail(), read_generated(loans, seed, days, mix), window, params)


def test_random_params_change_what_the_retail_policy_does() -> None:
    # guards the property above against params that are silently ignored
    portfolio = read_generated(8, 7, 200, {Behaviour.DEFAULT: 1})
    plain = replay_columnar(retail(), portfolio)
    sooner = replay_columnar(retail(), portfolio, params={"letter_day": "1 day",
                                                          "letter_interval": "2 days"})

    def letters(result: ReplayResult) -> int:
        return sum(a.using == "overdue_notice" for d in result.days for a in d.actions)

    assert letters(sooner) > letters(plain) > 0


# -- (c) generated policies ---------------------------------------------------------------------

@cache
def shared_portfolio() -> Portfolio:
    """Twenty loans over eight months, half of them defaulting."""
    mix = {Behaviour.DEFAULT: 3, Behaviour.LATE_CURE: 2, Behaviour.CHRONIC_LATE: 2,
           Behaviour.PARTIAL: 1, Behaviour.FIRST_PAYMENT_DEFAULT: 1, Behaviour.ON_TIME: 1}
    return read_generated(20, 20261129, 240, mix)


@settings(max_examples=6, deadline=None)
@given(rules=st.integers(MIN_RULES, MIN_RULES + 12), seed=st.integers(0, 2**32 - 1))
def test_the_engines_agree_on_the_benchmarks_generated_policies(rules: int, seed: int) -> None:
    policy = load_policy_text(generate_policy(rules, asserts=0, seed=seed), base_dir=POLICIES)
    replay_both(policy, shared_portfolio())


@st.composite
def _condition(draw: st.DrawFn) -> str:
    def days(low: int, high: int) -> int:
        return draw(st.integers(low, high))

    atoms = [draw(st.sampled_from((
        f"overdue >= {days(0, 60)} days",
        f"overdue < {days(0, 30)} days",
        f"overdue == {days(0, 10)} days",
        f"overdue between {days(1, 10)} days and {days(10, 40)} days",
        f"due_in <= {days(0, 10)} days",
        f"periods_overdue >= {days(1, 3)}",
        f"longest_overdue >= {days(1, 60)} days",
        f"days_since_letter >= {days(1, 40)} days",
        f"days_since_letter < {days(1, 40)} days",
        f"days_since_visit >= {days(1, 10)} days",
        f"days_since_written_demand < {days(1, 20)} days",
        f"days_since_acceleration between {days(1, 5)} days and overdue",
        f"calls_last_7d >= {days(0, 8)}",
        f"calls_last_7d < {days(1, 8)}",
        f"overdue_amount >= {draw(st.sampled_from(('0.01', '1000', '50000')))} CNY",
        "never_paid", "matured", "not matured", "has_guarantor", "guarantor_notified",
        "not guarantor_notified", "referred_legal", "not referred_legal", "blacklisted",
        f"contact_status == {draw(st.sampled_from(('reachable', 'unreachable', 'lost')))}",
        f"days_to_limitation < {days(0, 1500)} days",
        f"days_to_guarantee_end between 0 days and {days(0, 400)} days",
        "days_to_guarantee_end < 0 days", "days_to_limitation < 0 days",
    ))) for _ in range(draw(st.integers(1, 3)))]
    if len(atoms) == 1:
        return atoms[0]
    return draw(st.sampled_from((" and ", " and ", " or "))).join(atoms)


ACTIONS = (
    "call borrower", "call borrower using overdue_consequences", "sms borrower",
    "visit borrower", "visit borrower using business_review",
    "notify borrower using overdue_notice", "notify borrower using interest_demand",
    "notify borrower using acceleration_notice", "notify guarantor using guarantor_demand",
    "refer legal", "blacklist borrower", "preserve assets",
    "suppress call borrower", "suppress call", "suppress visit", "suppress notify borrower",
)


@st.composite
def history_policies(draw: st.DrawFn) -> str:
    """2 to 6 rules over ledger and history facts whose actions feed those history facts
    back, with random priorities, `final` and suppressions."""
    rules = []
    for index in range(draw(st.integers(2, 6))):
        head = f"rule r{index}"
        if draw(st.booleans()):
            head += f" priority {draw(st.integers(-1, 3))}"
        if draw(st.integers(0, 4)) == 0:
            head += " final"
        actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True))
        rules.append(f"{head}: {draw(_condition())} -> {', '.join(actions)}")
    return "\n".join(['policy drawn version "1"', 'schema "collection.schema.yaml"',
                      *rules]) + "\n"


@settings(max_examples=20, deadline=None)
@given(text=history_policies())
def test_the_engines_agree_on_random_rules_over_history_facts(text: str) -> None:
    policy = load_policy_text(text, base_dir=POLICIES)
    replay_both(policy, shared_portfolio(), Window(end=START + timedelta(days=239)))


@cache
def long_portfolio() -> Portfolio:
    """Twelve loans over four years, mostly defaulting: maturities pass, guarantee
    periods (some set by contract) end, and limitation periods run out."""
    mix = {Behaviour.DEFAULT: 4, Behaviour.FIRST_PAYMENT_DEFAULT: 2, Behaviour.LATE_CURE: 1}
    return read_generated(12, 20261130, 1500, mix)


@settings(max_examples=10, deadline=None)
@given(text=history_policies())
def test_the_engines_agree_on_deadline_facts_fed_by_their_own_demands(text: str) -> None:
    # the demands the drawn rules send restart the limitation and meet the guarantee
    policy = load_policy_text(text, base_dir=POLICIES)
    replay_both(policy, long_portfolio())
