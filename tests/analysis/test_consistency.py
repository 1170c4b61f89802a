"""The analyser agrees with the engine: property tests over generated policies.

What `policylang check` says about a policy is checked against what the engine
does (LANGUAGE.md, "Assertions and analysis"):

- every witness reproduces on the engine and is a valid, complete facts object;
- what it proves (assertions, unsatisfiable, shadowed and redundant rules) holds on
  many facts, many of them on the policy's own thresholds; such rules can be deleted
  without changing any result;
- exactness: a failure the engine shows (a broken assertion, a matching "unsatisfiable"
  rule, an exclusive pair, a missing required fact) was reported;
- no `could not decide` on linear policies;
- `check` is a function of the policy's meaning: formatting changes nothing, and two
  runs give the same findings.

The policies come from `strategies.policies` (with asserts) over the schema of
`analysis_strategies.SCHEMA`, which adds `requires` and `exclusive` to the base one.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from analysis_strategies import (
    REQUIRES,
    SCHEMA,
    any_policies,
    boundaries,
    codes_at,
    engine_of,
    examples,
    facts_near,
    highest_stage,
    holds,
    in_domain,
    load,
    sample_facts,
    violates,
)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from strategies import FACTS

from policylang import nodes
from policylang.analysis.findings import Analysis, analyse
from policylang.formatter import format_text
from policylang.pipeline import load_text

TIMEOUT_MS = 2_000          # per solver question; generated policies need a few ms
SAMPLES = 160               # bulk facts per policy for the soundness checks
SETTINGS = settings(max_examples=examples(60), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def analysed(text: str) -> tuple[Any, Analysis, Any]:
    checked = load(text)
    return checked, analyse(checked, timeout_ms=TIMEOUT_MS), engine_of(checked)


def _higher(rng: random.Random, fact: str, value: Any) -> Any:
    """A random value of `fact` above `value` (which is below the fact's max)."""
    kind, _, high = FACTS[fact]
    if kind in ("days", "int"):
        return rng.randint(value + 1, high)
    return Decimal(rng.randint(int(value * 100) + 1, int(high * 100))) / 100


def _raised_pairs(rng: random.Random, samples: list[dict[str, Any]], fact: str,
                  bounds: dict[str, list[Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(facts, the same facts with `fact` higher: just above, on a boundary, anywhere)."""
    step = 1 if FACTS[fact][0] in ("days", "int") else Decimal("0.01")
    pairs = []
    for facts in samples:
        value = facts[fact]
        if value >= FACTS[fact][2]:
            continue
        above = [v for v in bounds[fact] if v > value]
        pairs.append((facts, {**facts, fact: value + step}))
        pairs.append((facts, {**facts, fact: rng.choice(above)}))
        pairs.append((facts, {**facts, fact: _higher(rng, fact, value)}))
    return pairs


# -- witnesses ----------------------------------------------------------------------------

_E603 = re.compile(r"^`(?P<first>[^`]+)` and `(?P<second>[^`]+)` must never be produced")
_E604 = re.compile(r"^`(?P<action>[^`]+)` is produced while `(?P<fact>[^`]+)` is false")


def _has(decision: Any, pattern: str) -> bool:
    """`verb [target] [using template]`: a missing part matches anything."""
    words = pattern.split(" using ")
    verb_target, using = words[0].split(), (words[1] if len(words) > 1 else None)
    return any(a.verb == verb_target[0]
               and (len(verb_target) == 1 or a.target == verb_target[1])
               and (using is None or a.using == using) for a in decision.actions)


def check_witness(checked: Any, engine: Any, diag: Any) -> None:
    """The diagnostic's witness is valid input and shows what the diagnostic says."""
    witness = diag.witness
    if diag.code == "E605" and set(witness) == {"before", "after"}:
        statement = next(s for s in checked.asserts if s.span == diag.span)
        assert isinstance(statement, nodes.AssertMonotone)
        fact = statement.fact.text
        before, after = witness["before"], witness["after"]
        for side in (before, after):
            assert in_domain(side, engine) is None, (in_domain(side, engine), side)
        assert {k for k in before if before[k] != after[k]} == {fact}, (before, after)
        assert Decimal(str(after[fact])) > Decimal(str(before[fact])), (before, after)
        low, high = (highest_stage(engine.evaluate(f)) for f in (before, after))
        assert high < low, f"raising {fact}: stage {low} -> {high} on {before} -> {after}"
        return
    assert in_domain(witness, engine) is None, (in_domain(witness, engine), witness)
    decision = engine.evaluate(witness)
    if diag.code == "E605":
        statement = next(s for s in checked.asserts if s.span == diag.span)
        assert isinstance(statement, nodes.Assert)
        assert holds(engine, statement.condition, witness), "condition false on the witness"
        assert violates(statement, decision), decision.action_strings()
    elif diag.code == "E603":
        found = _E603.match(diag.message)
        assert found, diag.message
        pair = (found["first"], found["second"])
        assert pair in {(str(a), str(b)) for a, b in checked.schema.exclusive}, pair
        assert _has(decision, pair[0]) and _has(decision, pair[1]), decision.action_strings()
    elif diag.code == "E604":
        found = _E604.match(diag.message)
        assert found, diag.message
        verb, target = found["action"].split()[:2]
        assert REQUIRES[verb, target] == found["fact"]
        assert found["action"] in decision.action_strings(), decision.action_strings()
        assert witness[found["fact"]] is False
    else:
        raise AssertionError(f"{diag.code} should carry no witness: {diag.message}")


@SETTINGS
@given(any_policies())
def test_every_witness_reproduces_on_the_engine(text: str) -> None:
    checked, analysis, engine = analysed(text)
    for diag in analysis.diagnostics:
        if diag.code in ("E603", "E604", "E605"):
            assert diag.witness is not None, f"{diag.code} without a witness: {diag.message}"
        if diag.witness is not None:
            event(f"witness {diag.code}")
            check_witness(checked, engine, diag)


# -- soundness: what is proved holds --------------------------------------------------------

@SETTINGS
@given(any_policies(), st.integers(0, 2**32))
def test_what_the_analyser_proves_holds_on_many_facts(text: str, seed: int) -> None:
    """Assertions without E605/W607 hold, E601 rules never match, E602 rules never fire,
    W606 rules add nothing, on random facts and on the policy's boundary values."""
    checked, analysis, engine = analysed(text)
    rng = random.Random(seed)
    bounds = boundaries(checked)
    samples = sample_facts(rng, bounds, SAMPLES)
    decisions = engine.evaluate_many(samples)
    for statement in checked.asserts:
        if codes_at(analysis, statement.span) & {"E605", "W607"}:
            continue
        event("proved assertion")
        if isinstance(statement, nodes.AssertMonotone):
            fact = statement.fact.text
            for before, after in _raised_pairs(rng, samples, fact, bounds):
                low, high = (highest_stage(engine.evaluate(f)) for f in (before, after))
                assert high >= low, f"proved monotone {fact}, yet {before} -> {after}"
            continue
        for facts, decision in zip(samples, decisions, strict=True):
            if holds(engine, statement.condition, facts):
                assert not violates(statement, decision), (
                    f"proved, yet fails on {facts}: {decision.action_strings()}")
    for rule in checked.rules:
        name, found = nodes.rule_name(rule), codes_at(analysis, rule.span)
        for facts, decision in zip(samples, decisions, strict=True):
            if "E601" in found:
                assert not holds(engine, rule.condition, facts), f"{name} matches {facts}"
            if "E602" in found:
                assert name not in decision.matched, f"shadowed {name} fires on {facts}"
            if "W606" in found and name in decision.matched:
                _adds_nothing(rule, name, decision, facts)
        if found & {"E601", "E602", "W606"}:
            _removable(text, rule, samples, decisions)


def _removable(text: str, rule: nodes.Rule, samples: list[dict[str, Any]],
               decisions: list[Any]) -> None:
    """A rule that never matches, never fires, or whose actions rules before it always
    produce (W606: "in the same places") can be deleted without changing a result."""
    without = text[:rule.span.start] + text[rule.span.end:]
    result = load_text(without, "without.policy", schema_text=SCHEMA)
    if result.checked is None:        # e.g. the policy's only rule
        return
    event("rule removed")
    others = engine_of(result.checked).evaluate_many(samples)
    for facts, one, other in zip(samples, decisions, others, strict=True):
        assert one.action_strings() == other.action_strings(), (
            f"deleting rule {nodes.rule_name(rule)} changes the result on {facts}: "
            f"{one.action_strings()} -> {other.action_strings()}")


def _adds_nothing(rule: nodes.Rule, name: str, decision: Any, facts: Any) -> None:
    for item in rule.actions:
        if isinstance(item, nodes.ActionRef):
            words = " ".join(filter(None, (item.verb.text, item.target.text)))
            if item.using is not None:
                words += f" using {item.using.text}"
            action = next((a for a in decision.actions if str(a) == words), None)
            assert action is not None and set(action.rules) - {name}, (
                f"redundant {name}, yet alone produces {words} on {facts}")


# -- exactness: a failure the engine shows was reported -------------------------------------

@settings(SETTINGS, max_examples=examples(45))
@given(st.data())
def test_failures_on_the_engine_were_reported(data: st.DataObject) -> None:
    """Facts (shrinkable, often on the policy's thresholds) that break an assertion,
    match an E601 rule, fire an E602 rule, produce an exclusive pair or an action
    whose required fact is false, mean the analyser was wrong to stay silent."""
    checked, analysis, engine = analysed(data.draw(any_policies(), label="policy"))
    bounds = boundaries(checked)
    for facts in data.draw(st.lists(facts_near(bounds), min_size=1, max_size=4), label="facts"):
        decision = engine.evaluate(facts)
        for statement in checked.asserts:
            reported = codes_at(analysis, statement.span) & {"E605", "W607"}
            if isinstance(statement, nodes.AssertMonotone):
                fact = statement.fact.text
                if facts[fact] >= FACTS[fact][2]:
                    continue
                higher = data.draw(st.sampled_from(
                    [v for v in bounds[fact] if v > facts[fact]]), label="raised")
                after = engine.evaluate({**facts, fact: higher})
                if highest_stage(after) < highest_stage(decision):
                    assert reported, f"monotone {fact} fails: {facts} -> {higher}"
            elif holds(engine, statement.condition, facts) and violates(statement, decision):
                assert reported, f"assertion fails on {facts}: {decision.action_strings()}"
        for rule in checked.rules:
            name, found = nodes.rule_name(rule), codes_at(analysis, rule.span)
            if holds(engine, rule.condition, facts):
                assert "E601" not in found, f"{name} reported unsatisfiable, matches {facts}"
            if name in decision.matched:
                assert "E602" not in found, f"{name} reported shadowed, fires on {facts}"
        _catalogue_reported(checked, analysis, facts, decision)


def _catalogue_reported(checked: Any, analysis: Analysis, facts: Any, decision: Any) -> None:
    """An exclusive pair in one result, or an action whose `requires` fact is false,
    was reported (E603, E604), unless the analyser said it could not decide."""
    undecided = " ".join(d.message for d in analysis.diagnostics if d.code == "W607")
    pairs = {(m["first"], m["second"]) for d in analysis.diagnostics
             if d.code == "E603" and (m := _E603.match(d.message))}
    required = {m["action"] for d in analysis.diagnostics
                if d.code == "E604" and (m := _E604.match(d.message))}
    for first, second in checked.schema.exclusive:
        if _has(decision, str(first)) and _has(decision, str(second)) \
                and "go together" not in undecided:
            assert (str(first), str(second)) in pairs, (
                f"{first} with {second} on {facts}, not reported")
    for action in decision.actions:
        needed = REQUIRES.get((action.verb, action.target))
        if needed is not None and facts[needed] is False and "requires" not in undecided:
            assert str(action) in required, f"{action} without {needed} on {facts}"


@settings(SETTINGS, max_examples=examples(20))
@given(any_policies().filter(lambda t: "*" not in t and "/" not in t))
def test_linear_policies_are_always_decided(text: str) -> None:
    """Without `*` and `/` every question is linear: no `could not decide`."""
    checked = load(text)
    analysis = analyse(checked, timeout_ms=10_000)
    assert not [d.message for d in analysis.diagnostics if d.code == "W607"]


# -- check is a function of the policy's meaning --------------------------------------------

def _timed_out(analysis: Analysis) -> bool:
    return any(d.code == "W607" and "out of time" in d.message for d in analysis.diagnostics)


def _comparable(analysis: Analysis, checked: Any) -> list[tuple[Any, ...]]:
    """Findings without their places: an unnamed rule is called by its line, so that
    name becomes its index among the rules."""
    lines = {nodes.rule_name(r): f"<rule {i}>" for i, r in enumerate(checked.rules)
             if r.name is None}

    def unline(text: str | None) -> str | None:
        return None if text is None else \
            re.sub(r"line \d+", lambda m: lines.get(m[0], m[0]), text)

    return [(d.code, d.kind, d.severity, unline(d.message), unline(d.hint), d.witness,
             d.witness_text) for d in analysis.diagnostics]


@settings(SETTINGS, max_examples=examples(30))
@given(any_policies())
def test_formatting_does_not_change_the_findings(text: str) -> None:
    """The same findings with the same witnesses, in the same order; spans may differ."""
    formatted = format_text(text).text
    assert formatted is not None
    one, other = load(text), load(formatted, "formatted.policy")
    first, second = (analyse(c, timeout_ms=TIMEOUT_MS) for c in (one, other))
    assume(not _timed_out(first) and not _timed_out(second))
    assert _comparable(first, one) == _comparable(second, other)
    assert first.proved == second.proved


@settings(SETTINGS, max_examples=examples(20))
@given(any_policies())
def test_findings_are_deterministic(text: str) -> None:
    """Two runs in one process (with other analyses between them and before them) give
    identical diagnostics, witnesses included."""
    first = analyse(load(text), timeout_ms=TIMEOUT_MS)
    analyse(load(NONDETERMINISTIC_WITNESS), timeout_ms=TIMEOUT_MS)
    second = analyse(load(text), timeout_ms=TIMEOUT_MS)
    assume(not _timed_out(first) and not _timed_out(second))
    assert first == second


# A regression case: its E603 witness (visit borrower with refer legal) needs
# in_litigation=true or overdue_amount=5.38, and used to change from run to run in one
# process (in_litigation true, true, false, false, true in a fresh interpreter) while
# z3's model depended on what the process had built before.
NONDETERMINISTIC_WITNESS = """\
policy p
schema "strategies.schema.yaml"
rule a: in_litigation -> visit borrower
rule b: overdue_amount == 5.38 CNY -> visit borrower
rule c: true -> refer legal
"""

_RUN_FIVE_TIMES = """\
import json, sys
from analysis_strategies import load
from policylang.analysis.findings import analyse
text = sys.stdin.read()
print(json.dumps([[[d.code, d.message, d.witness] for d in analyse(load(text)).diagnostics]
                  for _ in range(5)]))
"""


def test_witnesses_are_deterministic() -> None:
    """Run in a fresh interpreter so the result does not depend on the tests before."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        str(root / p) for p in (".", "tests", "tests/perf")), "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", _RUN_FIVE_TIMES], input=NONDETERMINISTIC_WITNESS,
                          capture_output=True, text=True, env=env, cwd=root, check=True,
                          timeout=120)
    runs = json.loads(done.stdout)
    assert all(run == runs[0] for run in runs), runs
