"""The guarantees of policies/retail.policy, tested on the engine's own decisions.

`policylang check` proves the policy's `assert` statements with a solver. This file is
the independent cross-check: it reads the assertions out of the checked policy, draws
complete facts objects anywhere in the schema's domain (every fact, defaults and history
facts included, with their min/max, every threshold the policy uses +-1, and history
facts placed relative to `overdue` so that `days_since_letter > overdue - letter_day`
lands on both sides), evaluates each assertion's condition with the compiled code of
its expression, and checks the promise on the engine's decision (after `final` and
`suppress`):

- `COND -> ACTION`: the result holds an action of that verb and target (and template,
  when the assertion names one);
- `COND -> no ACTION`: the result holds no such action;
- `COND -> any`: the result is not empty;
- `monotone FACT`: raising FACT, every other fact equal, never lowers the highest
  stage of the result (an empty result is stage 0). Each example sweeps the fact over
  its boundary values and the values of the other facts of its type.

The same harness must catch a false promise: two that do not hold for this policy
(`monotone overdue`, an unrestricted `overdue >= 1 day -> any`) are refuted below.
For a thorough local run: GUARANTEE_EXAMPLES=20000 .venv/bin/pytest tests/test_retail_guarantees.py
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.api import CompiledPolicy, compile_checked
from engine.decision import Decision
from policylang import nodes
from policylang.checked import CheckedPolicy, literal_value
from policylang.pipeline import load_file, load_text
from policylang.printer import action_text, expr_text
from policylang.schema_model import FactDef, FactType

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "retail.policy"
EXAMPLES = int(os.environ.get("GUARANTEE_EXAMPLES", "200"))
TRIES = 200                # loans drawn per example until one meets the condition
CENT = Decimal("0.01")
# The ladder's days (篇1) and the edges of a month and a quarter.
LADDER_DAYS = (0, 1, 2, 3, 4, 6, 7, 8, 29, 30, 31, 89, 90, 91)

Assertion = nodes.Assert | nodes.AssertMonotone


def _load(text: str | None = None) -> tuple[CheckedPolicy, CompiledPolicy]:
    result = (load_file(POLICY) if text is None
              else load_text(text, str(POLICY), base_dir=POLICY.parent))
    assert result.checked is not None, [d.message for d in result.diagnostics]
    return result.checked, compile_checked(result.checked)


CHECKED, COMPILED = _load()
SCHEMA = CHECKED.schema
ASSERTS: tuple[Assertion, ...] = CHECKED.asserts
RULE_ASSERTS = [a for a in ASSERTS if isinstance(a, nodes.Assert)]
MONOTONE_ASSERTS = [a for a in ASSERTS if isinstance(a, nodes.AssertMonotone)]


def describe(statement: Assertion) -> str:
    """`line N: assert ...` in canonical text, for test ids and messages."""
    if isinstance(statement, nodes.AssertMonotone):
        text = f"monotone {statement.fact.text}"
    else:
        expect = statement.expect
        outcome = ("any" if isinstance(expect, nodes.ExpectAny)
                   else ("no " if expect.negated else "") + action_text(expect.action))
        text = f"{expr_text(statement.condition)} -> {outcome}"
    return f"line {statement.span.line}: assert {text}"


def short_id(statement: Assertion) -> str:
    text = describe(statement)
    return text if len(text) <= 72 else text[:69] + "..."


# -- the thresholds of the policy -----------------------------------------------------

def _bounds(fact: FactDef) -> tuple[Any, Any]:
    if fact.type in (FactType.INT, FactType.DAYS):
        return (0 if fact.minimum is None else int(fact.minimum),
                10**6 if fact.maximum is None else int(fact.maximum))
    return (Decimal(0) if fact.minimum is None else Decimal(fact.minimum),
            Decimal(10**9) if fact.maximum is None else Decimal(fact.maximum))


def _literals(expr: Any) -> Iterable[Any]:
    if isinstance(expr, nodes.Duration | nodes.Number | nodes.Money):
        yield literal_value(expr)
        return
    if isinstance(expr, nodes.Name | nodes.String | nodes.Bool | nodes.Percent):
        return
    for field in attrs.fields(type(expr)):
        child = getattr(expr, field.name)
        for item in child if isinstance(child, tuple) else (child,):
            if isinstance(item, nodes.Expr):
                yield from _literals(item)


def _thresholds() -> tuple[frozenset[int], frozenset[Decimal]]:
    """Every number the policy compares with: params, literals, and lets that do not
    depend on the facts (e.g. `renew_demand_after`, 1005 days)."""
    values: set[Any] = {p.value for p in CHECKED.params.values()}
    roots = [r.condition for r in CHECKED.rules]
    roots += [a.condition for a in RULE_ASSERTS]
    roots += [info.node.expr for info in CHECKED.lets.values()]
    for root in roots:
        values.update(_literals(root))
    low, high = (COMPILED.prepare(_extreme_facts(end), None) for end in (0, 1))
    for code in COMPILED.program.let_codes.values():
        first, second = code.fn(low), code.fn(high)
        if first == second:
            values.add(first)
    values = {v for v in values if isinstance(v, int | Decimal) and not isinstance(v, bool)}
    whole = frozenset(int(v) for v in values if v == int(v))
    exact = frozenset(Decimal(v) for v in values)
    return whole, exact


def _extreme_facts(end: int) -> dict[str, Any]:
    """Every fact at its minimum (end 0) or maximum (end 1)."""
    facts: dict[str, Any] = {}
    for fact in SCHEMA.facts.values():
        if fact.type is FactType.BOOL:
            facts[fact.name] = bool(end)
        elif fact.type is FactType.ENUM:
            facts[fact.name] = fact.values[-end]
        elif fact.type is FactType.STRING:
            facts[fact.name] = ""
        else:
            facts[fact.name] = _bounds(fact)[end]
    return facts


WHOLE_THRESHOLDS, EXACT_THRESHOLDS = _thresholds()


def boundary_values(fact: FactDef) -> tuple[Any, ...]:
    """The fact's min and max, each threshold and its neighbours, the ladder's days."""
    low, high = _bounds(fact)
    if fact.type in (FactType.INT, FactType.DAYS):
        found = {low, high, *LADDER_DAYS}
        found.update(t + d for t in WHOLE_THRESHOLDS for d in (-1, 0, 1))
    else:
        found = {low, high}
        found.update(t + d for t in EXACT_THRESHOLDS for d in (-CENT, 0, CENT))
    if fact.has_default and fact.default is not None:
        found.add(fact.default)
    return tuple(sorted(v for v in found if low <= v <= high))


BOUNDARIES = {f.name: boundary_values(f) for f in SCHEMA.facts.values()
              if f.type in (FactType.INT, FactType.DAYS, FactType.DECIMAL, FactType.MONEY)}
# Offsets that put one fact just around another plus or minus a threshold
# (`days_since_letter > overdue - letter_day`, `account_balance >= overdue_amount`).
WHOLE_OFFSETS = tuple(sorted({s * (t + d) for t in WHOLE_THRESHOLDS if t <= 400
                              for d in (-1, 0, 1) for s in (-1, 1)}))
EXACT_OFFSETS = (-CENT, Decimal(0), CENT)


# -- loans anywhere in the schema's domain --------------------------------------------
# A loan is built from one `random.Random` that hypothesis seeds: a complete facts object
# costs some 50 microseconds that way (drawing each fact from hypothesis costs a hundred
# times more), so each example can search many loans for one that meets a rare condition.

def _peers(fact: FactDef) -> tuple[str, ...]:
    """Facts of the same kind before `fact` in schema order (a value can be put next to
    theirs): days next to `overdue`, money next to `overdue_amount`."""
    earlier = list(SCHEMA.facts)[:list(SCHEMA.facts).index(fact.name)]
    return tuple(name for name in earlier if SCHEMA.facts[name].type is fact.type
                 and SCHEMA.facts[name].currency == fact.currency)


def _plan(fact: FactDef) -> tuple[Any, ...]:
    """How `random_loan` draws one fact: (name, kind, choices...), computed once."""
    match fact.type:
        case FactType.BOOL:
            return fact.name, "bool"
        case FactType.ENUM:
            return fact.name, "choice", fact.values
        case FactType.STRING:
            return fact.name, "choice", ("", "x", "字")
    low, high = _bounds(fact)
    whole = fact.type in (FactType.INT, FactType.DAYS)
    scale = 1 if whole else CENT
    return (fact.name, "number", BOUNDARIES[fact.name], _peers(fact),
            WHOLE_OFFSETS if whole else EXACT_OFFSETS, low, high,
            int(low / scale), int(high / scale), scale)


PLANS = tuple(_plan(fact) for fact in SCHEMA.facts.values())


def random_loan(rng: random.Random) -> dict[str, Any]:
    """A complete facts object: every schema fact, anywhere in its domain, each numeric
    one at a boundary value, next to an earlier fact of its kind +- a threshold, or
    uniform in its domain."""
    facts: dict[str, Any] = {}
    draw = rng.random
    for plan in PLANS:
        name, kind = plan[0], plan[1]
        if kind == "bool":
            facts[name] = draw() < 0.5
        elif kind == "choice":
            facts[name] = rng.choice(plan[2])
        else:
            boundaries, peers, offsets, low, high, first, last, scale = plan[2:]
            roll = draw()
            if roll < 0.45:
                facts[name] = rng.choice(boundaries)
            elif roll < 0.75 and peers:
                value = facts[rng.choice(peers)] + rng.choice(offsets)
                facts[name] = min(max(value, low), high)
            elif scale == 1:
                facts[name] = rng.randint(first, last)
            else:
                facts[name] = Decimal(rng.randint(first, last)) * scale
    return facts


def loans_meeting(condition: Any, rng: random.Random, tries: int) -> dict[str, Any] | None:
    """The first of up to `tries` random loans for which `condition(facts)` holds."""
    for _ in range(tries):
        facts = random_loan(rng)
        if condition(facts):
            return facts
    return None


# -- the semantics of an assertion, on the engine -------------------------------------

def decide(facts: Mapping[str, Any], compiled: CompiledPolicy = COMPILED) -> Decision:
    return compiled.decide(compiled.prepare(facts, None))


def condition_holds(statement: nodes.Assert, facts: Mapping[str, Any],
                    compiled: CompiledPolicy = COMPILED) -> bool:
    env = compiled.prepare(facts, None)
    return bool(compiled.program.code(statement.condition).fn(env))


def matches(action: Any, ref: nodes.ActionRef) -> bool:
    """An assertion's action without `using` matches any template (or none)."""
    return (action.verb == ref.verb.text and action.target == ref.target.text
            and (ref.using is None or action.using == ref.using.text))


def promise_kept(statement: nodes.Assert, decision: Decision) -> bool:
    expect = statement.expect
    if isinstance(expect, nodes.ExpectAny):
        return bool(decision.actions)
    found = any(matches(action, expect.action) for action in decision.actions)
    return found != expect.negated


def highest_stage(decision: Decision) -> int:
    return max((action.stage for action in decision.actions), default=0)


def broken_promise(statement: nodes.Assert, facts: Mapping[str, Any],
                   compiled: CompiledPolicy = COMPILED) -> bool:
    return (condition_holds(statement, facts, compiled)
            and not promise_kept(statement, decide(facts, compiled)))


def monotone_drop(fact: str, facts: Mapping[str, Any],
                  compiled: CompiledPolicy = COMPILED) -> tuple[Any, int, Any, int] | None:
    """Sweep `fact` upwards over its boundary values and the values of every fact of its
    kind plus or minus each threshold (where a comparison between the two flips), every
    other fact fixed; the first drop of the highest stage, if any:
    (lower value, its stage, higher value, its stage)."""
    definition = SCHEMA.facts[fact]
    low, high = _bounds(definition)
    whole = definition.type in (FactType.INT, FactType.DAYS)
    offsets = WHOLE_OFFSETS if whole else EXACT_OFFSETS
    near = {facts[name] + d for name, f in SCHEMA.facts.items()
            if f.type is definition.type and f.currency == definition.currency
            for d in offsets}
    values = sorted(v for v in {*BOUNDARIES[fact], *near} if low <= v <= high)
    best: tuple[Any, int] | None = None
    for value in values:
        stage = highest_stage(decide({**facts, fact: value}, compiled))
        if best is not None and stage < best[1]:
            return best[0], best[1], value, stage
        if best is None or stage > best[1]:
            best = (value, stage)
    return None


def _describe_facts(facts: Mapping[str, Any]) -> str:
    shown = []
    for fact in SCHEMA.facts.values():
        value = facts[fact.name]
        if not (fact.has_default and value == fact.default):
            shown.append(f"{fact.name}={value}")
    return ", ".join(shown) + "; others at their defaults"


# -- the policy states its guarantees -------------------------------------------------

def test_the_policy_states_its_guarantees() -> None:
    assert len(RULE_ASSERTS) >= 10
    assert MONOTONE_ASSERTS
    stated = {describe(a).split(": ", 1)[1] for a in ASSERTS}
    for promise in ("assert not has_guarantor -> no notify guarantor",
                    "assert not has_guarantor -> no call guarantor",
                    "assert in_litigation or in_enforcement -> no refer legal"):
        assert promise in stated


def test_every_assertion_names_its_source_in_a_comment() -> None:
    """The comment above each assertion (or above its group) names a seed article."""
    lines = CHECKED.source.text.splitlines()
    for statement in ASSERTS:
        above = lines[:statement.span.line - 1]
        while above and (above[-1].startswith(("assert", "let ", " ")) or not above[-1]):
            above.pop()
        assert above and above[-1].startswith("# 篇"), describe(statement)


# -- each assertion holds ---------------------------------------------------------------

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("statement", RULE_ASSERTS, ids=short_id)
@SETTINGS
@given(rng=st.randoms(use_true_random=True))
def test_assertion_holds(statement: nodes.Assert, rng: random.Random) -> None:
    facts = loans_meeting(lambda f: condition_holds(statement, f), rng, TRIES)
    if facts is None:
        return
    decision = decide(facts)
    assert promise_kept(statement, decision), (
        f"{describe(statement)} fails on {_describe_facts(facts)}: "
        f"result {[str(a) for a in decision.actions]}")


@pytest.mark.parametrize("statement", RULE_ASSERTS, ids=short_id)
def test_assertion_condition_can_hold(statement: nodes.Assert) -> None:
    """No assertion holds vacuously: some loan meets its condition, and keeps the promise."""
    facts = loans_meeting(lambda f: condition_holds(statement, f), random.Random(0), 100_000)
    assert facts is not None, f"no loan meets the condition of {describe(statement)}"
    assert promise_kept(statement, decide(facts))


@pytest.mark.parametrize("statement", MONOTONE_ASSERTS, ids=short_id)
@SETTINGS
@given(rng=st.randoms(use_true_random=True))
def test_monotone_holds(statement: nodes.AssertMonotone, rng: random.Random) -> None:
    fact = statement.fact.text
    facts = random_loan(rng)
    drop = monotone_drop(fact, facts)
    assert drop is None, (f"{describe(statement)}: {fact} {drop[0]} -> {drop[2]} lowers the "
                          f"highest stage from {drop[1]} to {drop[3]} on "
                          f"{_describe_facts(facts)}")
    lower, upper = sorted((facts[fact], random_loan(rng)[fact]))
    assert (highest_stage(decide({**facts, fact: lower}))
            <= highest_stage(decide({**facts, fact: upper})))


# -- the harness catches promises the policy does not keep ------------------------------

FALSE_PROMISES = """
assert overdue >= 1 day -> call borrower
assert monotone days_since_acceleration
"""


def test_the_harness_refutes_promises_the_policy_does_not_keep() -> None:
    """Guards against a vacuous harness: a borrower called to the cap gets a text, not a
    call; and an acceleration notice sent long enough ago leads to the referral (stage 5),
    while one "sent" before this delinquency began counts as not sent, so the notice goes
    out again (stage 3)."""
    text = POLICY.read_text(encoding="utf-8") + FALSE_PROMISES
    checked, compiled = _load(text)
    no_call, monotone = checked.asserts[-2:]
    assert isinstance(no_call, nodes.Assert)
    assert isinstance(monotone, nodes.AssertMonotone)
    rng = random.Random(0)
    uncalled = loans_meeting(lambda f: broken_promise(no_call, f, compiled), rng, 100_000)
    assert uncalled is not None and uncalled["overdue"] >= 1
    calls = [a for a in decide(uncalled, compiled).actions
             if (a.verb, a.target) == ("call", "borrower")]
    assert not calls
    dropping = loans_meeting(
        lambda f: monotone_drop("days_since_acceleration", f, compiled) is not None, rng, 20_000)
    assert dropping is not None
    before, stage_before, after, stage_after = monotone_drop(
        "days_since_acceleration", dropping, compiled)
    assert before < after and stage_before > stage_after


def test_the_analyser_proves_every_assertion() -> None:
    """The prover and this file agree: `check` proves every assertion of the policy."""
    from policylang.analysis.findings import analyse

    analysis = analyse(CHECKED)
    spans = {statement.span for statement in ASSERTS}
    assert not [d.message for d in analysis.diagnostics if d.span in spans]
    assert analysis.proved == len(ASSERTS)
