"""The embedding API: load a policy once, evaluate it on many loans.

Stage: the engine's front door. Input: a policy path (`load_policy`) or a
`CheckedPolicy` (`compile_checked`); then facts mappings and optional param
overrides. Output: an immutable `CompiledPolicy` whose `evaluate` returns a
`Decision`.
A compiled policy holds only immutable data and closures; each evaluation
builds its own value list, so one instance is safe to share between threads.
Must not: print, exit, or evaluate anything when the facts or params are bad.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from engine.compile import Program, compile_program
from engine.decision import Decision
from engine.explain import Explanation, explain
from engine.facts import FactsError, FactsValidator, build_validator
from engine.ordering import RulePlan, plan_rules, resolve
from engine.params import ParamBinder
from engine.prefilter import Group, group_rules
from policylang.checked import CheckedPolicy, ParamInfo
from policylang.diagnostics import Diagnostic
from policylang.pipeline import LoadResult, load_file, load_text
from policylang.render import render_all_text, summary_line
from policylang.schema_model import Schema

MEMO_LIMIT = 16384         # distinct sets of matched rules remembered per policy
# From this many loans, evaluate_many goes through the columnar evaluator, whose fixed
# cost per batch (about 1.4 ms) is then repaid (tests/perf/bench_columnar.py).
COLUMNAR_BATCH = 512
BATCH_CHUNK = 1024         # loans validated and decided at a time: their data stay in cache


class PolicyError(Exception):
    """The policy (or its schema) has errors; `.diagnostics` holds every one."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = tuple(diagnostics)


@attrs.frozen(slots=True, eq=False)
class CompiledPolicy:
    """A checked policy compiled to closures: immutable and thread-safe."""

    name: str
    version: str | None
    digest: str
    schema: Schema
    checked: CheckedPolicy = attrs.field(repr=False)
    program: Program = attrs.field(repr=False)
    plans: tuple[RulePlan, ...] = attrs.field(repr=False)        # in evaluation order
    validator: FactsValidator = attrs.field(repr=False)
    binder: ParamBinder = attrs.field(repr=False)
    _groups: tuple[Group, ...] = attrs.field(repr=False)     # see prefilter.py
    _final_bits: int = attrs.field(repr=False)                # bits of the final rules
    # Decisions by the set of matched rules (a bit mask). A decision depends on nothing
    # else, and is immutable, so equal outcomes share one object. Bounded; a race
    # between threads only computes the same entry twice.
    _memo: dict[int, Decision] = attrs.field(factory=dict, repr=False)
    _blank: tuple[Any, ...] = attrs.field(repr=False, default=())    # defaults + empty lets
    # The columnar evaluator (engine/columnar.py), built by the first large batch.
    _columnar: list[Any] = attrs.field(factory=list, repr=False)

    def evaluate(self, facts: Mapping[str, Any],
                 params: Mapping[str, Any] | None = None) -> Decision:
        """The decision for one loan. Raises FactsError (bad facts) or ParamError
        (bad overrides) before anything is evaluated."""
        env = self.validator.coerce(facts)
        if params:
            env += self.binder.bind(params)
            env += self.program.let_blank
        else:
            env += self._blank
        return self.decide(env)

    def evaluate_many(self, items: Iterable[Mapping[str, Any]],
                      params: Mapping[str, Any] | None = None) -> list[Decision]:
        """One decision per facts mapping, in order. Every item is validated first: a bad
        one raises FactsError with `.index` set, and then nothing is evaluated."""
        rows = items if isinstance(items, list) else list(items)
        if len(rows) >= COLUMNAR_BATCH:
            return self._columns().evaluate_many(rows, params)
        tail = (*self.binder.bind(params), *self.program.let_blank)
        values: list[Sequence[Any]] = []
        for start in range(0, len(rows), BATCH_CHUNK):
            values.extend(self._validate_chunk(rows[start:start + BATCH_CHUNK], start))
        decisions: list[Decision] = []
        for start in range(0, len(values), BATCH_CHUNK):
            chunk = values[start:start + BATCH_CHUNK]
            decisions.extend(self.decide_many([[*row, *tail] for row in chunk]))
        return decisions

    def _columns(self) -> Any:
        """The columnar evaluator of this policy: rule tests over NumPy columns, the
        same decisions (a race between threads only builds it twice)."""
        if not self._columnar:
            from engine.columnar import columnar  # noqa: PLC0415 (it imports this module)
            self._columnar.append(columnar(self))
        return self._columnar[0]

    def _validate_chunk(self, rows: list[Mapping[str, Any]], start: int
                        ) -> Sequence[Sequence[Any]]:
        """Column-wise when every column is plainly valid, else loan by loan (which
        names the first bad item by its index in the whole batch)."""
        columns = self.validator.coerce_columns(rows)
        if columns is not None:
            return columns
        coerce = self.validator.coerce
        checked = []
        for index, facts in enumerate(rows, start):
            try:
                checked.append(coerce(facts))
            except FactsError as error:
                raise FactsError(error.problems, index=index) from None
        return checked

    def explain(self, facts: Mapping[str, Any],
                params: Mapping[str, Any] | None = None) -> Explanation:
        """The decision with, for every rule, why it matched or not (see explain.py)."""
        return explain(self, facts, params)

    def prepare(self, facts: Mapping[str, Any], params: Mapping[str, Any] | None) -> list[Any]:
        """The value list of one evaluation: facts, params, empty let cache."""
        env = self.validator.coerce(facts)
        env += self.binder.bind(params) if params else self.program.param_defaults
        env += self.program.let_blank
        return env

    def decide(self, env: list[Any]) -> Decision:
        """Try the rules on a prepared value list; the decision for the rules that matched."""
        mask = 0
        for guard, members in self._groups:
            if guard is None or guard(env):
                for test, bit in members:
                    if test(env):
                        mask |= bit
        mask = cut_after_final(mask, self._final_bits)
        decision = self._memo.get(mask)
        return decision if decision is not None else self._decision_for(mask)

    def decide_many(self, envs: list[list[Any]]) -> list[Decision]:
        """`decide` for many value lists, one rule at a time across all of them: each
        group's guard is tested on every loan, then each member only on the loans
        where the guard held. Same tests, same masks, less interpretation per loan."""
        masks = [0] * len(envs)
        everyone = range(len(envs))
        for guard, members in self._groups:
            chosen = everyone if guard is None else [i for i in everyone if guard(envs[i])]
            for test, bit in members:
                for i in [i for i in chosen if test(envs[i])]:
                    masks[i] |= bit
        final_bits, memo = self._final_bits, self._memo
        decisions = []
        for found in masks:
            mask = cut_after_final(found, final_bits)
            decision = memo.get(mask)
            decisions.append(decision if decision is not None else self._decision_for(mask))
        return decisions

    def decision_for(self, fired: int) -> Decision:
        """The decision for the rules that fired (a mask already cut after `final`),
        shared through the memo; for evaluators that find the matched rules their
        own way (engine/columnar.py)."""
        decision = self._memo.get(fired)
        return decision if decision is not None else self._decision_for(fired)

    def _decision_for(self, mask: int) -> Decision:
        matched = [plan for plan in self.plans if mask >> plan.index & 1]
        actions, suppressed = resolve(matched)
        stopped_by = matched[-1].name if matched and matched[-1].final else None
        decision = Decision(self.name, self.version, self.digest, actions, suppressed,
                            tuple(plan.name for plan in matched), stopped_by)
        if len(self._memo) < MEMO_LIMIT:
            self._memo[mask] = decision
        return decision


def cut_after_final(mask: int, final_bits: int) -> int:
    """The matched rules that fire. Bit i of the mask is the rule at position i of the
    evaluation order, so the lowest matched final bit is the first final rule that
    matched: it keeps itself and the rules before it, and cuts off the rest."""
    finals = mask & final_bits
    return mask & (((finals & -finals) << 1) - 1) if finals else mask


def compile_checked(checked: CheckedPolicy) -> CompiledPolicy:
    """Compile a checked policy once; evaluate the result as often as needed."""
    validator = build_validator(checked.schema, _rules_by_fact(checked))
    program = compile_program(checked, validator.names)
    plans = plan_rules(checked, program.tests)
    binder = ParamBinder(names=program.params,
                         types=tuple(p.type for p in checked.params.values()),
                         defaults=program.param_defaults,
                         owners=tuple(_param_owner(p) for p in checked.params.values()))
    return CompiledPolicy(name=checked.name, version=checked.version, digest=checked.digest,
                          schema=checked.schema, checked=checked, program=program,
                          plans=plans, validator=validator, binder=binder,
                          groups=group_rules(checked, program,
                                             [(plan.node, plan.test, 1 << plan.index)
                                              for plan in plans]),
                          final_bits=sum(1 << plan.index for plan in plans if plan.final),
                          blank=program.param_defaults + program.let_blank)


def _param_owner(param: ParamInfo) -> str | None:
    """The guard a param belongs to (its side-table name is `GUARD.NAME`, see
    policylang/guarded.py; a policy's own param name has no dot), or None."""
    guard, dot, _ = param.name.partition(".")
    return guard if dot else None


def _rules_by_fact(checked: CheckedPolicy) -> dict[str, tuple[str, ...]]:
    """For each fact, the names of the rules that read it (guards first, then source
    order)."""
    found: dict[str, list[str]] = {}
    for rule in checked.rules:
        for fact in checked.facts_used_by(rule):
            found.setdefault(fact, []).append(checked.rule_name(rule))
    return {fact: tuple(names) for fact, names in found.items()}


def load_policy(path: str | os.PathLike[str]) -> CompiledPolicy:
    """Read, parse, check and compile the policy at `path`; PolicyError on any error
    (an unreadable file included)."""
    name = os.fspath(path)
    try:
        result = load_file(name)
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise PolicyError(f"{name}: cannot read the policy file: {reason}") from error
    return _compiled(result, name)


def load_policy_text(text: str, *, schema_text: str | None = None, name: str = "<policy>",
                     base_dir: str | os.PathLike[str] = ".") -> CompiledPolicy:
    """Compile policy text held in memory. The schema is `schema_text` when given,
    else the file its `schema` line names, relative to `base_dir`."""
    return _compiled(load_text(text, name, schema_text=schema_text, base_dir=base_dir), name)


def _compiled(result: LoadResult, name: str) -> CompiledPolicy:
    if result.checked is None:
        body = render_all_text(result.diagnostics, result.sources)
        raise PolicyError(f"{body}\n\n{name}: {summary_line(result.diagnostics)}",
                          result.diagnostics)
    return compile_checked(result.checked)
