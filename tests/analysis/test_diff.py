"""`compare` (and so `policylang diff`) agrees with the engine.

- a policy is equivalent to itself, and to rewrites that cannot change a decision
  (formatting, renamed rules, reordered rules whose priorities fix the order, dead
  rules, a rule split into one rule per action);
- when two policies are called equivalent, the engine decides random facts alike;
- every difference reproduces: its witness is valid input, and `old`/`new` are what
  the engines return on it, and they differ;
- every rule whose firing changes on a loan the two policies decide differently is
  shown by some difference (the contract: at least one witness per changed rule).
"""

from __future__ import annotations

import random
from typing import Any

from analysis_strategies import (
    any_specs,
    boundaries,
    engine_of,
    examples,
    in_domain,
    load,
    mutated,
    renamed,
    sample_facts,
    shuffled_distinct,
    split_rules,
    with_dead_rules,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import policies

from policylang.analysis.diff import DiffResult, compare
from policylang.formatter import format_text

TIMEOUT_MS = 2_000
SAMPLES = 150
SETTINGS = settings(max_examples=examples(40), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def compared(old: Any, new: Any) -> DiffResult:
    return compare(old, new, timeout_ms=TIMEOUT_MS)


def _undecided(result: DiffResult) -> bool:
    """No answer for the whole comparison (a time-out, a division it cannot encode)."""
    return not result.equivalent and not result.differences


def results(engine: Any, samples: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [d.action_strings() for d in engine.evaluate_many(samples)]


@settings(SETTINGS, max_examples=examples(25))
@given(policies())
def test_a_policy_is_equivalent_to_itself(text: str) -> None:
    one, other = load(text), load(text, "again.policy")
    for old, new in ((one, one), (one, other)):
        result = compared(old, new)
        if result.undecided and "divide" in " ".join(result.undecided):
            event("not decided")
            continue
        assert result == DiffResult(True, ()), result


REWRITES = ("format", "rename", "shuffle", "dead rules", "split")


@SETTINGS
@given(st.data())
def test_rewrites_that_keep_every_decision_are_equivalent(data: st.DataObject) -> None:
    spec = data.draw(any_specs(), label="policy")
    how = data.draw(st.sampled_from(REWRITES), label="rewrite")
    if how == "shuffle":
        spec, other = data.draw(shuffled_distinct(spec))
        old_text, new_text = spec.text(), other.text()
    else:
        old_text = spec.text()
        new_text = {"format": lambda: format_text(old_text).text,
                    "rename": lambda: renamed(spec).text(),
                    "dead rules": lambda: data.draw(with_dead_rules(spec)).text(),
                    "split": lambda: split_rules(spec).text()}[how]()
    old, new = load(old_text), load(new_text, "new.policy")
    samples = sample_facts(random.Random(0), boundaries(old), 60)
    assert results(engine_of(old), samples) == results(engine_of(new), samples), \
        "the test's rewrite changed a decision"
    result = compared(old, new)
    if _undecided(result):
        assert result.undecided, "neither equivalent nor a difference nor a reason"
        event("not decided")
        return
    assert result.equivalent, (how, result.differences[:1], result.undecided)
    assert not result.differences


@st.composite
def policy_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Mostly a policy and a changed copy; sometimes two unrelated policies."""
    if draw(st.integers(0, 4)) == 0:
        return draw(policies()), draw(policies())
    spec = draw(any_specs())
    return spec.text(), draw(mutated(spec)).text()


def _rules_shown(result: DiffResult) -> set[str]:
    return {name for d in result.differences for name in d.rules}


@settings(SETTINGS, max_examples=examples(50))
@given(policy_pairs(), st.integers(0, 2**32))
def test_compare_agrees_with_the_engine(pair: tuple[str, str], seed: int) -> None:
    old, new = load(pair[0]), load(pair[1], "new.policy")
    result = compared(old, new)
    event("equivalent" if result.equivalent else f"{min(len(result.differences), 3)} differences")
    engines = engine_of(old), engine_of(new)
    assert not [u for u in result.undecided if "did not reproduce" in u], result.undecided
    names = {r.name for e in engines for r in e.plans}
    for difference in result.differences:
        for engine in engines:
            assert in_domain(difference.witness, engine) is None, difference.witness
        olds, news = (e.evaluate(difference.witness).action_strings() for e in engines)
        assert (difference.old, difference.new) == (olds, news), difference
        assert difference.old != difference.new
        assert set(difference.rules) <= names, difference.rules
    if not result.equivalent and not result.differences:
        assert result.undecided, "neither equivalent nor a difference nor a reason"
    bounds = boundaries(old)
    bounds = {k: sorted({*v, *boundaries(new)[k]}) for k, v in bounds.items()}
    samples = sample_facts(random.Random(seed), bounds, SAMPLES)
    pairs = zip(*(e.evaluate_many(samples) for e in engines), strict=True)
    for facts, (before, after) in zip(samples, pairs, strict=True):
        if before.action_strings() == after.action_strings():
            continue
        assert not result.equivalent, (
            f"called equivalent, yet {facts} gives {before.action_strings()} "
            f"and {after.action_strings()}")
        if _undecided(result):
            continue
        event("the engine shows a difference")
        changed = set(before.matched) ^ set(after.matched)
        missing = {name for name in changed - _rules_shown(result)
                   if not any(f"rule {name}:" in u for u in result.undecided)}
        assert not missing, (
            f"rules {sorted(missing)} fire differently on {facts} (which the policies "
            f"decide differently) but no difference shows them: {result.differences}")


def test_what_compare_cannot_encode_is_undecided_never_equivalent() -> None:
    head = 'policy p\nschema "strategies.schema.yaml"\n'
    old = load(head + "rule a: overdue / 3 > 5 days -> call borrower\n")
    new = load(head + "rule a: overdue / 3 > 6 days -> call borrower\n", "new.policy")
    for one, other in ((old, new), (old, old)):
        result = compare(one, other, timeout_ms=TIMEOUT_MS)
        assert not result.equivalent and not result.differences
        assert result.undecided and "could not decide" in result.undecided[0]
