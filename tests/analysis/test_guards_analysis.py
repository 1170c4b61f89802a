"""Guards on every path: the row evaluator, the columnar `evaluate_many` and the
analyser agree on generated policies with a generated guard in force.

Each example writes three files to a temporary folder: the schema of
`analysis_strategies.SCHEMA`, a guard (suppress-only rules, a param and a let whose
names the policy uses too, and `-> no ACTION` assertions) and a `small_policies`
policy with a `guards` line. Checked on facts sampled around both files' thresholds:
- row and columnar decisions are equal, and no action a matched guard rule
  suppresses is ever in a result (a policy cannot loosen a guard);
- the policy's assertions that `check` proves hold, and its refutations reproduce;
- the guard's own assertions, proved by checking the guard alone, hold for the
  policy too (a guard's promise holds whatever policy uses it);
- rules reported unsatisfiable never match, rules reported shadowed never fire.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from analysis_strategies import (
    SCHEMA,
    _small_condition,
    boundaries,
    codes_at,
    examples,
    holds,
    sample_facts,
    small_policies,
    violates,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import ACTIONS, SCHEMA_PATH

from engine.api import COLUMNAR_BATCH, compile_checked
from policylang import nodes
from policylang.analysis.findings import analyse
from policylang.checked import CheckedPolicy
from policylang.pipeline import load_file

TIMEOUT_MS = 2_000
SAMPLES = 160
SETTINGS = settings(max_examples=examples(30), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def _suppress(draw: st.DrawFn) -> str:
    verb = draw(st.sampled_from(sorted(ACTIONS)))
    if draw(st.booleans()):
        return f"suppress {verb}"
    return f"suppress {verb} {draw(st.sampled_from(ACTIONS[verb][0]))}"


@st.composite
def guards(draw: st.DrawFn) -> str:
    """A guard over the strategies' schema: 1 to 4 suppress-only rules (one reads the
    guard's own `limit` and `条件0`), and 0 to 2 `-> no ACTION` assertions."""
    rules = []
    for index in range(draw(st.integers(1, 4))):
        items = ", ".join(draw(st.lists(_suppress(), min_size=1, max_size=2, unique=True)))
        head = f"rule r{index}" + (f" priority {draw(st.integers(-1, 2))}"
                                   if draw(st.booleans()) else "")
        condition = "条件0" if index == 0 and draw(st.booleans()) else draw(_small_condition())
        rules.append(f"{head}: {condition} -> {items}")
    asserts = []
    for _ in range(draw(st.integers(0, 2))):
        verb = draw(st.sampled_from(sorted(ACTIONS)))
        target = draw(st.sampled_from(ACTIONS[verb][0]))
        asserts.append(f"assert {draw(_small_condition())} -> no {verb} {target}")
    return "\n".join([
        'guard g version "1"', f'schema "{SCHEMA_PATH}"',
        f"param limit = {draw(st.integers(0, 30))} days",
        "let 条件0 = overdue >= limit", *rules, *asserts]) + "\n"


@st.composite
def guarded_texts(draw: st.DrawFn) -> tuple[str, str]:
    """(policy, guard): the policy has the guards line, and a `limit` and a `条件0` of
    its own that mean something else than the guard's."""
    policy = draw(small_policies())
    header, schema, rest = policy.split("\n", 2)
    own = (f"param limit = {draw(st.integers(0, 30))} days\n"
           "let 条件0 = overdue < limit\n"
           "rule own: 条件0 and overdue >= 1 day -> call borrower\n")
    return f'{header}\n{schema}\nguards "g.policy"\n{own}{rest}', draw(guards())


def load_guarded(policy: str, guard: str) -> tuple[CheckedPolicy, CheckedPolicy]:
    """(the policy with its guard in force, the guard checked alone)."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / SCHEMA_PATH).write_text(SCHEMA, encoding="utf-8")
        (base / "g.policy").write_text(guard, encoding="utf-8")
        (base / "p.policy").write_text(policy, encoding="utf-8")
        loaded, alone = load_file(base / "p.policy"), load_file(base / "g.policy")
    assert loaded.checked is not None, [d.message for d in loaded.diagnostics]
    assert alone.checked is not None and alone.checked.is_guard
    return loaded.checked, alone.checked


def facts_for(checked: CheckedPolicy, rng: random.Random) -> list[dict[str, Any]]:
    """Samples around the thresholds of the policy and of its guard."""
    bounds = boundaries(checked)
    for use in checked.guards:
        for name, values in boundaries(use.checked).items():
            bounds[name] = sorted(set(bounds.get(name, [])) | set(values))
    return sample_facts(rng, bounds, SAMPLES)


def suppressed_by_guards(checked: CheckedPolicy) -> dict[str, list[tuple[str, str | None]]]:
    """For each guard rule's output name, the (verb, target) it suppresses."""
    return {checked.rule_name(rule): [(i.verb.text, i.target.text if i.target else None)
                                      for i in rule.actions if isinstance(i, nodes.Suppress)]
            for rule in checked.rules if checked.is_guard_rule(rule)}


@SETTINGS
@given(guarded_texts(), st.integers(0, 2**32))
def test_row_columnar_and_analyser_agree_with_a_guard_in_force(
        texts: tuple[str, str], seed: int) -> None:
    checked, alone = load_guarded(*texts)
    engine = compile_checked(checked)
    samples = facts_for(checked, random.Random(seed))
    rows = [engine.evaluate(facts) for facts in samples]
    many = (samples * (COLUMNAR_BATCH // len(samples) + 1))[:COLUMNAR_BATCH]
    assert engine.evaluate_many(many)[:len(samples)] == rows          # the columnar path
    suppressing = suppressed_by_guards(checked)
    for decision in rows:
        first = sum(name.startswith("guard g: ") for name in decision.matched)
        assert all(name.startswith("guard g: ") for name in decision.matched[:first])
        if any(s.by.startswith("guard g: ") for s in decision.suppressed):
            event("a guard suppressed an action")
        for name in decision.matched:
            for verb, target in suppressing.get(name, ()):
                assert not any(a.verb == verb and target in (None, a.target)
                               for a in decision.actions), (name, decision.action_strings())

    analysis = analyse(checked, timeout_ms=TIMEOUT_MS)
    for statement in checked.asserts:
        if codes_at(analysis, statement.span) & {"E605", "W607"} or isinstance(
                statement, nodes.AssertMonotone):
            continue
        for facts, decision in zip(samples, rows, strict=True):
            if holds(engine, statement.condition, facts):
                assert not violates(statement, decision), (facts, decision.action_strings())
    for found in analysis.diagnostics:
        assert found.file == checked.source.name
        if found.code == "E605" and found.witness is not None and "before" not in found.witness:
            statement = next(s for s in checked.asserts if s.span == found.span)
            assert violates(statement, engine.evaluate(found.witness))
    for rule in checked.own_rules:
        found = codes_at(analysis, rule.span)
        name = checked.rule_name(rule)
        for decision in rows:
            if "E601" in found or "E602" in found:
                assert name not in decision.matched, (name, found)

    guard_analysis = analyse(alone, timeout_ms=TIMEOUT_MS)
    for statement in alone.asserts:
        if codes_at(guard_analysis, statement.span):
            continue                    # refuted or undecided: nothing promised
        guard_engine = compile_checked(alone)
        for facts, decision in zip(samples, rows, strict=True):
            if holds(guard_engine, statement.condition, facts):
                assert not violates(statement, decision), (facts, decision.action_strings())
