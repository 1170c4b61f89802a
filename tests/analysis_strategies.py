"""Strategies and helpers for the analyser's property tests (tests/analysis/).

Built on `strategies.py` (same facts, same verbs, same expression generator) and kept
apart from it so that file's small API stays as it is:

- `SCHEMA`: `strategies.SCHEMA_YAML` plus what the analyser has to reason about but the
  base schema lacks: `requires` (notify guarantor needs has_guarantor, visit guarantor
  needs in_litigation, a fact whose default is false) and two `exclusive` pairs.
- `load(text)`: the checked policy for SCHEMA (the test fails if it does not check).
- `literal_values(checked)`, `boundaries(checked)`: the numbers a policy writes and, per
  fact, the values where its conditions can flip (min, max, each literal and its
  neighbours); `sample_facts(rng, bounds, n)` (plain random, for bulk checks) and
  `facts_near(bounds)` (a hypothesis strategy, for shrinkable counterexamples) draw
  complete facts inside the domains that land on those values often.
- `in_domain(witness)`: the reason a facts object is not a complete, valid input, or None.
- `policies_with_asserts()` (the base strategy, plus `assert monotone` on any numeric
  fact), `small_policies()` (a few rules over simple, overlapping conditions: they
  reach `final`, `suppress` and the catalogue far more often), `any_policies()` (both).
- `PolicySpec` / `policy_specs()` / `small_specs()` / `any_specs()`: a policy kept as
  parts (params, lets, rules) so it can be changed (`mutated`) or rewritten without
  changing what it decides (`renamed`, `shuffled_distinct`, `with_dead_rules`,
  `split_rules`).
- `examples(n)`: n, times ANALYSIS_EXAMPLES_SCALE from the environment (default 1).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st
from strategies import (
    BOOL,
    DAYS,
    ENUMS,
    FACTS,
    MONEY,
    NUMBER,
    SCHEMA_PATH,
    SCHEMA_YAML,
    Env,
    _action,
    _facts_env,
    _let,
    _literal,
    expressions,
    policies,
)

from engine.api import CompiledPolicy, compile_checked
from policylang import nodes
from policylang.checked import CheckedPolicy, literal_value
from policylang.pipeline import load_text

_NOTIFY = "templates: [overdue_notice, guarantor_demand]}"
_VISIT = "visit:  {targets: [borrower, guarantor], stage: 2}"
assert _NOTIFY in SCHEMA_YAML and _VISIT in SCHEMA_YAML, "strategies.SCHEMA_YAML changed"

SCHEMA = (SCHEMA_YAML
          .replace(_NOTIFY, "templates: [overdue_notice, guarantor_demand],\n"
                            "           requires: {guarantor: has_guarantor}}")
          .replace(_VISIT, "visit:  {targets: [borrower, guarantor], stage: 2,\n"
                           "           requires: {guarantor: in_litigation}}")
          + "exclusive:\n"
            "  - [visit borrower, refer legal]\n"
            "  - [call guarantor using overdue_notice, notify]\n")

# (verb, target) -> the bool fact that must hold when it is produced
REQUIRES = {("notify", "guarantor"): "has_guarantor", ("visit", "guarantor"): "in_litigation"}
NUMERIC = ("days", "int", "decimal", "money")
CENT = Decimal("0.01")


def load(text: str, name: str = "generated.policy") -> CheckedPolicy:
    result = load_text(text, name, schema_text=SCHEMA)
    assert result.checked is not None, [d.message for d in result.diagnostics]
    return result.checked


def engine_of(checked: CheckedPolicy) -> CompiledPolicy:
    return compile_checked(checked)


def holds(engine: CompiledPolicy, expr: nodes.Expr, facts: Mapping[str, Any]) -> bool:
    """The engine's value of a condition (a rule's or an assertion's) on `facts`."""
    env = engine.prepare(facts, None)
    return bool(engine.program.code(expr).fn(env))


def highest_stage(decision: Any) -> int:
    return max((a.stage for a in decision.actions), default=0)


# -- facts near the policy's thresholds -------------------------------------------------------

def codes_at(analysis: Any, span: Any) -> set[str]:
    """The codes the analysis reported at `span`."""
    return {d.code for d in analysis.diagnostics if d.span == span}


def violates(statement: nodes.Assert, decision: Any) -> bool:
    """The decision breaks the assertion's promise (its condition assumed true)."""
    expect = statement.expect
    if isinstance(expect, nodes.ExpectAny):
        return not decision.actions
    action = expect.action
    using = action.using.text if action.using is not None else None
    present = any(a.verb == action.verb.text and a.target == action.target.text
                  and (using is None or a.using == using) for a in decision.actions)
    return present if expect.negated else not present


def _walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, tuple):
        for item in value:
            yield from _walk(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            if field.name != "span":
                yield from _walk(getattr(value, field.name))


def literal_values(checked: CheckedPolicy) -> set[Decimal]:
    """Every number the policy writes (params, lets, rules, asserts), as run-time values."""
    found: set[Decimal] = set()
    for item in _walk(checked.policy.statements):
        if isinstance(item, nodes.Number | nodes.Percent | nodes.Duration | nodes.Money):
            value = Decimal(literal_value(item))
            found.update((value, -value))
    return found


def boundaries(checked: CheckedPolicy) -> dict[str, list[Any]]:
    """Per numeric fact: its min and max, and each literal of the policy with its
    neighbours (±1, and ±0.01 for decimals), inside the fact's domain."""
    values = literal_values(checked)
    bounds: dict[str, list[Any]] = {}
    for name, (kind, low, high) in FACTS.items():
        if kind not in NUMERIC:
            continue
        whole = kind in ("days", "int")
        found = {low, high}
        for value in values:
            steps = (-1, 0, 1) if whole else (-1, 0, 1, -CENT, CENT)
            for step in steps:
                candidate = value + step
                if whole and candidate != candidate.to_integral_value():
                    continue
                if not whole and candidate != candidate.quantize(CENT):
                    continue
                if low <= candidate <= high:
                    found.add(int(candidate) if whole else candidate)
        bounds[name] = sorted(found)
    return bounds


def _random_value(rng: random.Random, name: str) -> Any:
    kind, low, high = FACTS[name]
    if kind in ("days", "int"):
        return rng.randint(low, high)
    if kind in ("decimal", "money"):
        return Decimal(rng.randint(int(low * 100), int(high * 100))) / 100
    if kind == "enum":
        return rng.choice(ENUMS[name])
    return rng.random() < 0.5


def sample_facts(rng: random.Random, bounds: Mapping[str, list[Any]],
                 count: int) -> list[dict[str, Any]]:
    """`count` complete facts objects; each numeric fact is on a boundary half the time."""
    out = []
    for _ in range(count):
        facts = {}
        for name in FACTS:
            if name in bounds and rng.random() < 0.5:
                facts[name] = rng.choice(bounds[name])
            else:
                facts[name] = _random_value(rng, name)
        out.append(facts)
    return out


def _fact_strategy(name: str, bounds: Mapping[str, list[Any]]) -> st.SearchStrategy[Any]:
    kind, low, high = FACTS[name]
    if kind in ("days", "int"):
        base: st.SearchStrategy[Any] = st.integers(low, high)
    elif kind in ("decimal", "money"):
        base = st.decimals(low, high, places=2)
    elif kind == "enum":
        return st.sampled_from(ENUMS[name])
    else:
        return st.booleans()
    return st.one_of(st.sampled_from(bounds[name]), base)


def facts_near(bounds: Mapping[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Complete facts (shrinkable) that often sit on the policy's thresholds."""
    return st.fixed_dictionaries({name: _fact_strategy(name, bounds) for name in FACTS})


def in_domain(witness: Mapping[str, Any], engine: CompiledPolicy) -> str | None:
    """Why `witness` is not a complete facts object inside the schema's domains (None
    when it is). Checked here value by value, and by the engine's own validation."""
    if set(witness) != set(FACTS):
        return f"facts {sorted(set(FACTS) ^ set(witness))} missing or unknown"
    for name, value in witness.items():
        kind, low, high = FACTS[name]
        if isinstance(value, float):
            return f"{name}={value!r} is a float"
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "enum":
            ok = value in ENUMS[name]
        elif kind in ("days", "int"):
            ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        else:
            ok = (isinstance(value, str | Decimal | int) and not isinstance(value, bool)
                  and low <= Decimal(value) <= high)
        if not ok:
            return f"{name}={value!r} is outside its {kind} domain"
    engine.validator.coerce(witness)          # raises FactsError on anything else
    return None


# -- policies kept as parts -------------------------------------------------------------------

@attrs.frozen
class RuleSpec:
    name: str | None
    condition: str
    actions: tuple[str, ...]
    priority: int | None = None
    final: bool = False

    def text(self) -> str:
        body = f"{self.condition}\n    -> {', '.join(self.actions)}"
        if self.name is None:
            return body
        head = ["rule", self.name]
        if self.priority is not None:
            head.append(f"priority {self.priority}")
        if self.final:
            head.append("final")
        return " ".join(head) + ":\n  " + body.replace("\n", "\n  ")

    @property
    def suppresses(self) -> bool:
        return any(a.startswith("suppress") for a in self.actions)


@attrs.frozen
class ParamSpec:
    kind: str
    name: str
    literal: str

    def text(self) -> str:
        return f"param {self.name} = {self.literal}"


@attrs.frozen
class PolicySpec:
    params: tuple[ParamSpec, ...]
    lets: tuple[str, ...]
    rules: tuple[RuleSpec, ...]
    env: Env = attrs.field(eq=False, repr=False)
    asserts: tuple[str, ...] = ()

    def text(self) -> str:
        lines = ['policy generated version "1"', f'schema "{SCHEMA_PATH}"']
        lines += [p.text() for p in self.params]
        lines += list(self.lets)
        lines += [r.text() for r in self.rules]
        lines += list(self.asserts)
        return "\n".join(lines) + "\n"


_NAMES = ("remind", "early_calls", "letter", "visit_home", "legal", "cap", "催收提醒", "上门拜访",
          "r_7")


@st.composite
def _param_literal(draw: st.DrawFn, kind: str) -> str:
    sign = draw(st.sampled_from(("", "", "-"))) if kind != BOOL else ""
    return sign + draw(_literal(kind))


@st.composite
def _rule_spec(draw: st.DrawFn, env: Env, name: str | None) -> RuleSpec:
    condition = draw(expressions(BOOL, env))
    actions = tuple(draw(st.lists(_action(), min_size=1, max_size=3, unique=True)))
    if name is None:
        return RuleSpec(None, condition, actions)
    priority = draw(st.one_of(st.none(), st.integers(-3, 3), st.integers(-10, 300)))
    return RuleSpec(name, condition, actions, priority, draw(st.integers(0, 3)) == 0)


@st.composite
def policy_specs(draw: st.DrawFn, max_rules: int = 5) -> PolicySpec:
    """A policy as parts: up to 2 params, 2 lets, 1..max_rules rules."""
    env = _facts_env()
    params = []
    for index in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from((NUMBER, DAYS, MONEY, BOOL)))
        param = ParamSpec(kind, f"p_{index}", draw(_param_literal(kind)))
        env = env.with_name(kind, param.name)
        params.append(param)
    lets = []
    for index in range(draw(st.integers(0, 2))):
        kind, name, text = draw(_let(index, env))
        env = env.with_name(kind, name)
        lets.append(text)
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=max_rules, unique=True))
    rules = [draw(_rule_spec(env, None if draw(st.integers(0, 4)) == 0 else name))
             for name in names]
    return PolicySpec(tuple(params), tuple(lets), tuple(rules), env)


@st.composite
def mutated(draw: st.DrawFn, spec: PolicySpec) -> PolicySpec:
    """`spec` with one or two changes that may (or may not) change what it decides."""
    for _ in range(draw(st.integers(1, 2))):
        rules = list(spec.rules)
        params = list(spec.params)
        index = draw(st.integers(0, len(rules) - 1))
        rule = rules[index]
        choices = ["condition", "actions", "add", "swap"]
        if rule.name is not None:
            choices += ["final", "priority"]
        if len(rules) > 1:
            choices.append("drop")
        if params:
            choices.append("param")
        match draw(st.sampled_from(choices)):
            case "condition":
                rules[index] = attrs.evolve(rule, condition=draw(expressions(BOOL, spec.env)))
            case "actions":
                actions = draw(st.lists(_action(), min_size=1, max_size=3, unique=True))
                rules[index] = attrs.evolve(rule, actions=tuple(actions))
            case "final":
                rules[index] = attrs.evolve(rule, final=not rule.final)
            case "priority":
                rules[index] = attrs.evolve(rule, priority=draw(st.integers(-3, 3)))
            case "drop":
                del rules[index]
            case "add":
                taken = {r.name for r in rules}
                name = draw(st.sampled_from([n for n in (*_NAMES, "extra") if n not in taken]))
                rules.insert(index, draw(_rule_spec(spec.env, name)))
            case "swap":
                other = draw(st.integers(0, len(rules) - 1))
                rules[index], rules[other] = rules[other], rules[index]
            case "param":
                which = draw(st.integers(0, len(params) - 1))
                param = params[which]
                params[which] = attrs.evolve(param, literal=draw(_param_literal(param.kind)))
        spec = attrs.evolve(spec, params=tuple(params), rules=tuple(rules))
    return spec


# -- rewrites that must not change any decision ---------------------------------------------

def renamed(spec: PolicySpec) -> PolicySpec:
    """Every named rule renamed (results name actions, not rules)."""
    return attrs.evolve(spec, rules=tuple(
        r if r.name is None else attrs.evolve(r, name=f"{r.name}_renamed") for r in spec.rules))


@st.composite
def shuffled_distinct(draw: st.DrawFn, spec: PolicySpec) -> tuple[PolicySpec, PolicySpec]:
    """(spec with every rule named and given its own priority, the same rules in another
    source order): the priorities fix the evaluation order and the order of results."""
    priorities = draw(st.permutations(range(-len(spec.rules), len(spec.rules)))
                      )[:len(spec.rules)]
    rules = [attrs.evolve(r, name=r.name or f"anon_{i}", priority=p)
             for i, (r, p) in enumerate(zip(spec.rules, priorities, strict=True))]
    before = attrs.evolve(spec, rules=tuple(rules))
    return before, attrs.evolve(spec, rules=tuple(draw(st.permutations(rules))))


@st.composite
def with_dead_rules(draw: st.DrawFn, spec: PolicySpec) -> PolicySpec:
    """`spec` plus rules whose conditions no loan inside the domains can meet (some of
    them final, some suppressing), anywhere in the file."""
    dead = ["overdue > 400 days", "periods_overdue < 0", "risk_score > 1.5",
            "overdue_amount < 0 CNY", "has_guarantor and not has_guarantor",
            "loan_type == credit and loan_type == mortgage", "due_in between 61 days and 90 days",
            "联系次数 * 2 > 100"]
    rules = list(spec.rules)
    for index in range(draw(st.integers(1, 3))):
        rule = RuleSpec(f"dead_{index}", draw(st.sampled_from(dead)),
                        tuple(draw(st.lists(_action(), min_size=1, max_size=3, unique=True))),
                        draw(st.one_of(st.none(), st.integers(-10, 400))), draw(st.booleans()))
        rules.insert(draw(st.integers(0, len(rules))), rule)
    return attrs.evolve(spec, rules=tuple(rules))


def split_rules(spec: PolicySpec) -> PolicySpec:
    """Each rule that is not final and suppresses nothing, split into one rule per action
    (same condition, same priority, same place): the same decisions."""
    rules: list[RuleSpec] = []
    for rule in spec.rules:
        if rule.final or rule.suppresses or len(rule.actions) == 1:
            rules.append(rule)
            continue
        for index, action in enumerate(rule.actions):
            name = None if rule.name is None else f"{rule.name}_{index}"
            priority = rule.priority if name is not None else None
            rules.append(RuleSpec(name, rule.condition, (action,), priority))
    return attrs.evolve(spec, rules=tuple(rules))


@st.composite
def policies_with_asserts(draw: st.DrawFn) -> str:
    """`strategies.policies(asserts=True)`, plus `assert monotone` on any numeric fact
    (the base strategy only raises the two whole-number facts it knows best)."""
    text = draw(policies(asserts=True))
    numeric = [name for name, (kind, _, _) in FACTS.items() if kind in NUMERIC]
    extra = draw(st.lists(st.sampled_from(numeric), max_size=2, unique=True))
    return text + "".join(f"assert monotone {name}\n" for name in extra)


# Example counts are tuned for CI (the whole of tests/analysis in well under 90 s);
# ANALYSIS_EXAMPLES_SCALE=10 runs ten times as many, for a deeper search.
EXAMPLES_SCALE = float(os.environ.get("ANALYSIS_EXAMPLES_SCALE", "1"))


def examples(count: int) -> int:
    return max(1, round(count * EXAMPLES_SCALE))


# -- small policies whose rules overlap ------------------------------------------------------

@st.composite
def _atom(draw: st.DrawFn) -> str:
    """One comparison of a fact with a literal: the rules of real policies."""
    days = draw(st.integers(0, 30))
    statuses = draw(st.lists(st.sampled_from(ENUMS["contact_status"]), min_size=1, max_size=2,
                             unique=True))
    return draw(st.sampled_from((
        f"overdue >= {days} days", f"overdue < {days} days", f"overdue == {days} days",
        f"overdue between {days} days and {days + draw(st.integers(0, 10))} days",
        f"due_in <= {draw(st.integers(0, 5))} days",
        f"periods_overdue >= {draw(st.integers(0, 3))}",
        f"联系次数 > {draw(st.integers(0, 3))}",
        f"risk_score > {draw(st.sampled_from(('0.5', '0.25', '50%')))}",
        f"overdue_amount >= {draw(st.sampled_from(('100', '0.01', '99.99')))} CNY",
        "has_guarantor", "not has_guarantor", "in_litigation", "not in_litigation",
        f"loan_type == {draw(st.sampled_from(ENUMS['loan_type']))}",
        "contact_status in {" + ", ".join(statuses) + "}",
    )))


@st.composite
def _small_condition(draw: st.DrawFn) -> str:
    atoms = draw(st.lists(_atom(), min_size=1, max_size=3))
    if len(atoms) == 1:
        return atoms[0]
    word = draw(st.sampled_from((" and ", " and ", " or ")))
    return word.join(f"({a})" if " or " in a else a for a in atoms)


@st.composite
def small_policies(draw: st.DrawFn) -> str:
    """2 to 6 rules over simple, mostly satisfiable conditions (so they overlap, cut each
    other off with `final` and suppress each other's actions), and assertions of every
    kind, including `monotone` on every numeric fact."""
    rules = []
    for index in range(draw(st.integers(2, 6))):
        actions = ", ".join(draw(st.lists(_action(), min_size=1, max_size=3, unique=True)))
        head = f"rule r{index}"
        if draw(st.booleans()):
            head += f" priority {draw(st.integers(-1, 2))}"
        if draw(st.integers(0, 3)) == 0:
            head += " final"
        rules.append(f"{head}: {draw(_small_condition())} -> {actions}")
    asserts = []
    numeric = [name for name, (kind, _, _) in FACTS.items() if kind in NUMERIC]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 2)) == 0:
            asserts.append(f"assert monotone {draw(st.sampled_from(numeric))}")
            continue
        action = draw(_action().filter(lambda a: not a.startswith("suppress")))
        expect = draw(st.sampled_from(("any", action, f"no {action}")))
        asserts.append(f"assert {draw(_small_condition())} -> {expect}")
    return "\n".join(['policy small version "1"', f'schema "{SCHEMA_PATH}"', *rules,
                      *asserts]) + "\n"


def any_policies() -> st.SearchStrategy[str]:
    """Generated policies of both kinds: `policies_with_asserts` and `small_policies`."""
    return st.one_of(policies_with_asserts(), small_policies())


@st.composite
def small_specs(draw: st.DrawFn) -> PolicySpec:
    """A policy as parts, its rules over the simple conditions of `small_policies`."""
    rules = []
    for index in range(draw(st.integers(1, 5))):
        actions = tuple(draw(st.lists(_action(), min_size=1, max_size=3, unique=True)))
        condition = draw(_small_condition())
        if draw(st.integers(0, 4)) == 0:
            rules.append(RuleSpec(None, condition, actions))
            continue
        priority = draw(st.one_of(st.none(), st.integers(-1, 2)))
        rules.append(RuleSpec(f"r{index}", condition, actions, priority,
                              draw(st.integers(0, 3)) == 0))
    return PolicySpec((), (), tuple(rules), _facts_env())


def any_specs() -> st.SearchStrategy[PolicySpec]:
    return st.one_of(policy_specs(), small_specs())
