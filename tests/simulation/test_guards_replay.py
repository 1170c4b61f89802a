"""Both replay engines honour guards identically: policies/retail.policy with a guard
(tests/fixtures/guards/collection-conduct.guard.policy) in force replays the same
loan-days with the same actions on the row and the columnar engine, and the guard's
suppressions show in what the replay did (no visit before day 10 of arrears; the call
cap, fed back by the replay's own calls)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import CompiledPolicy, load_policy_text
from engine.simulation.command import example_data
from engine.simulation.history import read_history
from engine.simulation.replay import ALL_DAYS, replay_rows
from tests.simulation.test_engines_agree import read_generated, replay_both, retail

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
GUARD = ROOT / "tests" / "fixtures" / "guards" / "collection-conduct.guard.policy"


@cache
def guarded_retail() -> CompiledPolicy:
    """The retail policy with the test guard added to its `guards` line."""
    text = (POLICIES / "retail.policy").read_text("utf-8")
    line = 'guards "guards/cn-conduct.policy"\n'
    assert line in text
    text = text.replace(line, f'{line[:-1]}, "{GUARD.as_posix()}"\n', 1)
    return load_policy_text(text, name=str(POLICIES / "retail.policy"), base_dir=POLICIES)


def test_the_guard_is_in_force_on_the_retail_policy() -> None:
    policy = guarded_retail()
    assert [p.name for p in policy.plans if p.name.startswith("guard sim")] == [
        "guard sim_conduct: call_cap", "guard sim_conduct: no_early_visits",
        "guard sim_conduct: letter_gap"]
    assert policy.digest != retail().digest


def test_the_engines_agree_on_the_bundled_example_with_a_guard() -> None:
    read = read_history(example_data(), guarded_retail().schema)
    guarded = replay_both(guarded_retail(), read.portfolio)
    plain = replay_rows(retail(), read.portfolio, ALL_DAYS)
    assert guarded.days != plain.days                     # the guard changed something
    for day in guarded.days:
        if day.overdue < 10:
            assert not any(a.verb == "visit" for a in day.actions), day


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), loans=st.integers(1, 10), days=st.integers(30, 200))
def test_the_engines_agree_on_generated_portfolios_with_a_guard(
        seed: int, loans: int, days: int) -> None:
    result = replay_both(guarded_retail(), read_generated(loans, seed, days))
    for day in result.days:
        assert day.overdue >= 10 or not any(a.verb == "visit" for a in day.actions), day
