"""Findings: what `policylang check` proves or refutes about a checked policy.

Stage: after the checker, when the policy has no errors. Input: a
`CheckedPolicy`. Output: diagnostics of the analyser's kinds: unsatisfiable
and shadowed rules, conflicts between exclusive actions, actions produced
while a required fact is false, redundant rules (warnings), failing
assertions, and `could not decide` warnings. Every refutation carries a
witness (a complete facts object) that the engine has evaluated and
confirmed before it is reported.
Must not: report a proof or a counterexample the solver did not give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import z3

from engine.api import CompiledPolicy, compile_checked
from engine.decision import Decision, action_words
from policylang import nodes
from policylang.analysis.encode import (
    ActionKey,
    Encoder,
    Unsupported,
    action_key,
    enum_ids,
    make_facts,
    produced_keys,
)
from policylang.analysis.monotone import highest_stage, raised
from policylang.analysis.solve import Found, Impossible, Outcome, Solver, Undecided
from policylang.analysis.witness import compact, facts_of
from policylang.checked import CheckedPolicy
from policylang.diagnostics import Diagnostic, diagnostic
from policylang.schema_model import ActionPattern
from policylang.source import Span


@attrs.frozen(slots=True)
class Analysis:
    diagnostics: tuple[Diagnostic, ...]
    proved: int                      # assertions proved


class WitnessMismatch(Exception):
    """A witness the engine does not confirm: a bug of the analyser, never output."""


def analyse(checked: CheckedPolicy, timeout_ms: int | None = None) -> Analysis:
    """Every finding about `checked`, in source order."""
    return _Analyser(checked, timeout_ms).run()


class _Analyser:
    def __init__(self, checked: CheckedPolicy, timeout_ms: int | None) -> None:
        self.checked = checked
        self.schema = checked.schema
        self.ids = enum_ids(self.schema)
        self.facts = make_facts(self.schema, ids=self.ids)
        self.encoder = Encoder(checked, self.facts)
        self.solver = Solver(self.schema, [self.facts], **_timeout(timeout_ms))
        self.engine: CompiledPolicy = compile_checked(checked)
        self.found: list[Diagnostic] = []
        self.proved = 0
        self.undecided_at: set[tuple[int, str]] = set()
        self.can_fire: dict[int, bool] = {}      # rule id -> it fires on some loan

    def run(self) -> Analysis:
        # A policy's guards are in force in every question, but their own rules are
        # judged where they are written (`check GUARDFILE`), on the guard's schema.
        own = [r for r in self.encoder.rules if id(r) not in self.checked.guard_of]
        for rule in own:
            self.guarded(lambda rule=rule: self.rule_reach(rule), rule.span,
                         f"whether rule {self.checked.rule_name(rule)} can match")
        for pair in self.schema.exclusive:
            self.guarded(lambda pair=pair: self.conflict(*pair), self.checked.policy.span,
                         f"whether {pair[0]} and {pair[1]} can go together")
        for key in self.encoder.action_keys():
            self.guarded(lambda key=key: self.requires(key), self._action_span(key),
                         f"what `{_words(key)}` requires")
        for rule in own:
            self.guarded(lambda rule=rule: self.redundant(rule), rule.span,
                         "whether rule " + self.checked.rule_name(rule) + " is redundant")
        for statement in self.checked.asserts:
            self.guarded(lambda s=statement: self.assertion(s), statement.span, "this assertion")
        self.found.sort(key=lambda d: (d.span.start, d.code))
        return Analysis(tuple(self.found), self.proved)

    # -- plumbing ------------------------------------------------------------------------
    def guarded(self, question: Callable[[], None], span: Span, what: str) -> None:
        try:
            question()
        except Unsupported as error:
            self.undecided(span, what, str(error))
        except WitnessMismatch as error:
            self.undecided(span, what, f"a witness did not reproduce ({error})")

    def undecided(self, span: Span, what: str, reason: str) -> None:
        """One warning per statement and reason: the first question that hit it says so."""
        if (span.start, reason) in self.undecided_at:
            return
        self.undecided_at.add((span.start, reason))
        self.report("W607", span, f"could not decide {what}: {reason}",
                    "nothing was proved or refuted here; to have it decided, multiply facts by "
                    "constants only, and divide only by constants such as 2, 4, 5, 10 or 100")

    def report(self, code: str, span: Span, message: str, hint: str | None = None, *,
               witness: dict[str, Any] | None = None, witness_text: str | None = None) -> None:
        self.found.append(diagnostic(code, span, message, hint, witness=witness,
                                     witness_text=witness_text, file=self.checked.source.name))

    def ask(self, formula: Any, *, witness: bool = False) -> Outcome:
        return self.solver.find(formula, witness=witness)

    def witness(self, outcome: Found, confirm: Callable[[dict[str, Any], Decision], bool],
                matter: Iterable[str]) -> tuple[dict[str, Any], str]:
        """The facts of a model, confirmed on the engine, with their compact wording."""
        facts = facts_of(outcome.model, self.facts, self.schema)
        decision = self.engine.evaluate(facts)
        if not confirm(facts, decision):
            raise WitnessMismatch(f"facts {facts} give {decision.action_strings()}")
        return facts, compact(facts, self.schema, matter)

    def holds(self, condition: nodes.Expr, facts: dict[str, Any]) -> bool:
        env = self.engine.prepare(facts, None)
        return bool(self.engine.program.code(condition).fn(env))

    def reads(self, *rules: nodes.Rule) -> set[str]:
        """Facts the rules read (the ones a compact witness shows)."""
        return {fact for rule in rules for fact in self.checked.facts_used_by(rule)}

    # -- rules ---------------------------------------------------------------------------
    def rule_reach(self, rule: nodes.Rule) -> None:
        name = self.checked.rule_name(rule)
        outcome = self.ask(self.encoder.matches(rule))
        if isinstance(outcome, Impossible):
            self.report("E601", rule.span, f"rule {name} can never match: no loan the schema "
                        "allows makes its condition true",
                        "check the thresholds and the fact domains it compares")
            return
        if isinstance(outcome, Undecided):
            self.undecided(rule.span, f"whether rule {name} can match", outcome.reason)
            return
        fires = self.ask(self.encoder.fires(rule))
        self.can_fire[id(rule)] = isinstance(fires, Found)
        if isinstance(fires, Impossible):
            cover = self.covering_final(rule)
            self.report("E602", rule.span, f"rule {name} never fires: {cover} always "
                        "matches first when it does",
                        "narrow the final rule's condition or lower its priority, or remove "
                        "this rule")
        elif isinstance(fires, Undecided):
            self.undecided(rule.span, f"whether rule {name} can fire", fires.reason)

    def covering_final(self, rule: nodes.Rule) -> str:
        finals = [r for r in self.encoder.rules_before(rule) if r.final]
        for final in finals:
            implied = self.ask(z3.And(self.encoder.matches(rule),
                                      z3.Not(self.encoder.matches(final))))
            if isinstance(implied, Impossible):
                return f"final rule {self.checked.rule_name(final)}"
        overlapping = [f for f in finals if not isinstance(
            self.ask(z3.And(self.encoder.matches(rule), self.encoder.matches(f))), Impossible)]
        return "one of the final rules " + ", ".join(self.checked.rule_name(f) for f in overlapping)

    def redundant(self, rule: nodes.Rule) -> None:
        keys = produced_keys(rule)
        if rule.final or not keys or any(isinstance(a, nodes.Suppress) for a in rule.actions):
            return
        if not self.can_fire.get(id(rule)):
            return                       # unreachable or undecided: reported already
        encoder = self.encoder
        # Each action must also come from a rule ranked before this one (so this rule
        # never decides the action's place in the result, only the list of its rules).
        others = [z3.Or(*(encoder.kept(r, k) for r in encoder.producers(k)
                          if r is not rule and encoder.rank(r, k) < encoder.rank(rule, k)),
                        z3.BoolVal(False, self.facts.ctx)) for k in keys]
        outcome = self.ask(z3.And(encoder.fires(rule), z3.Not(z3.And(*others))))
        if isinstance(outcome, Impossible):
            name = self.checked.rule_name(rule)
            self.report("W606", rule.span, f"rule {name} adds nothing: whenever it fires, "
                        "rules before it already produce all of its actions, in the same "
                        "places", "remove it, or keep it on purpose as documentation")

    # -- catalogue ---------------------------------------------------------------------
    def conflict(self, first: ActionPattern, second: ActionPattern) -> None:
        both = z3.And(self.encoder.contains_pattern(first),
                      self.encoder.contains_pattern(second))
        outcome = self.ask(both, witness=True)
        if isinstance(outcome, Undecided):
            self.undecided(self.checked.policy.span,
                           f"whether {first} and {second} can go together", outcome.reason)
        if not isinstance(outcome, Found):
            return

        def shows(_: dict[str, Any], decision: Decision) -> bool:
            return _has(decision, first) and _has(decision, second)

        producers = [r for k in self.encoder.action_keys()
                     if first.matches(*k) or second.matches(*k) for r in self.encoder.producers(k)]
        facts, text = self.witness(outcome, shows, self.reads(*producers))
        span = producers[0].span if producers else self.checked.policy.span
        self.report("E603", span, f"`{first}` and `{second}` must never be produced "
                    "together, but this loan gets both", "make the rules that produce them "
                    "exclude each other", witness=facts, witness_text=text)

    def requires(self, key: ActionKey) -> None:
        action = self.schema.actions[key[0]]
        needed = action.requires.get(key[1])
        if needed is None:
            return
        outcome = self.ask(z3.And(self.encoder.contains(key), z3.Not(self.facts[needed])),
                           witness=True)
        if isinstance(outcome, Undecided):
            self.undecided(self._action_span(key), f"what `{_words(key)}` requires",
                           outcome.reason)
        if not isinstance(outcome, Found):
            return

        def shows(facts: dict[str, Any], decision: Decision) -> bool:
            return _words(key) in decision.action_strings() and facts[needed] is False

        producers = self.encoder.producers(key)
        facts, text = self.witness(outcome, shows, {needed} | self.reads(*producers))
        self.report("E604", self._action_span(key), f"`{_words(key)}` is produced while "
                    f"`{needed}` is false, which the schema forbids",
                    f"add `and {needed}` to the rules that produce it", witness=facts,
                    witness_text=text)

    def _action_span(self, key: ActionKey) -> Span:
        for rule in self.encoder.producers(key):
            for item in rule.actions:
                if isinstance(item, nodes.ActionRef) and action_key(item) == key:
                    return item.span
        return self.checked.policy.span

    # -- assertions --------------------------------------------------------------------
    def assertion(self, statement: nodes.Assert | nodes.AssertMonotone) -> None:
        if isinstance(statement, nodes.AssertMonotone):
            self.monotone(statement)
            return
        if self.checked.is_guard:
            self.guard_assertion(statement)
            return
        condition = self.encoder.condition(statement.condition)
        expect = statement.expect
        if isinstance(expect, nodes.ExpectAny):
            failure = z3.And(condition, z3.Not(self.encoder.any_action()))
            words = "the result is empty"

            def shows(facts: dict[str, Any], decision: Decision) -> bool:
                return self.holds(statement.condition, facts) and not decision.actions
        else:
            pattern = _pattern(expect.action)
            present = self.encoder.contains_pattern(pattern)
            failure = z3.And(condition, present if expect.negated else z3.Not(present))
            words = (f"the result contains `{pattern}`" if expect.negated
                     else f"the result lacks `{pattern}`")

            def shows(facts: dict[str, Any], decision: Decision) -> bool:
                return (self.holds(statement.condition, facts)
                        and _has(decision, pattern) is expect.negated)
        outcome = self.ask(failure, witness=True)
        if self.settled(outcome, statement.span, "this assertion"):
            return
        facts, text = self.witness(outcome, shows, self.assert_reads(statement))
        decision = self.engine.evaluate(facts)
        got = "; ".join(decision.action_strings())
        shown = f" (the result is: {got})" if got else ""
        self.report("E605", statement.span, f"this assertion does not hold: on the loan "
                    f"below the condition is true but {words}{shown}",
                    "change the rules so the promise holds, or narrow the condition",
                    witness=facts, witness_text=text)

    def settled(self, outcome: object, span: Span, what: str) -> bool:
        """Whether a search for a failure ends the assertion's check: none exists (one
        more proved), or the solver could not decide (reported as such)."""
        if isinstance(outcome, Impossible):
            self.proved += 1
            return True
        if isinstance(outcome, Undecided):
            self.undecided(span, what, outcome.reason)
            return True
        return False

    def guard_assertion(self, statement: nodes.Assert) -> None:
        """In a guard file, `assert COND -> no ACTION` promises that whatever policy uses
        the guard, ACTION never survives when COND holds: some guard rule that suppresses
        it matches (the checker allows no other form in a guard). Guard rules are never
        cut off and suppress what every other rule produces, so this is exactly that."""
        assert isinstance(statement.expect, nodes.ExpectAction)
        pattern = _pattern(statement.expect.action)
        key = (pattern.verb, pattern.target or "", pattern.using)
        suppressors = self.encoder.suppressors(key)
        covered = z3.Or(*(self.encoder.fires(r) for r in suppressors),
                        z3.BoolVal(False, self.facts.ctx))
        outcome = self.ask(z3.And(self.encoder.condition(statement.condition),
                                  z3.Not(covered)), witness=True)
        if self.settled(outcome, statement.span, "this assertion"):
            return
        names = {self.checked.rule_name(r) for r in suppressors}

        def shows(facts: dict[str, Any], decision: Decision) -> bool:
            return self.holds(statement.condition, facts) and not names & set(decision.matched)

        facts, text = self.witness(outcome, shows, self.assert_reads(statement))
        self.report("E605", statement.span, f"this assertion does not hold: on the loan "
                    f"below the condition is true but no rule of this guard suppresses "
                    f"`{pattern}`, so a policy could produce it",
                    "add or widen a `suppress` rule so it covers the condition, or narrow "
                    "the condition", witness=facts, witness_text=text)

    def monotone(self, statement: nodes.AssertMonotone) -> None:
        fact = statement.fact.text
        copy = raised(self.encoder, fact)
        solver = Solver(self.schema, [self.facts, copy.after],
                        **_timeout(self.solver.timeout_ms))
        outcome = solver.find(copy.failure, witness=True)
        if self.settled(outcome, statement.span,
                        f"whether raising {fact} can lower the stage"):
            return
        before = facts_of(outcome.model, self.facts, self.schema)
        after = facts_of(outcome.model, copy.after, self.schema)
        stage_before, stage_after = (
            highest_stage([a.stage for a in self.engine.evaluate(f).actions])
            for f in (before, after))
        if not stage_after < stage_before or before[fact] >= after[fact]:
            self.undecided(statement.span, "this assertion", "a witness did not reproduce")
            return
        rest = {k: v for k, v in before.items() if k != fact}
        others = attrs.evolve(self.schema, facts={k: f for k, f in self.schema.facts.items()
                                                  if k != fact})
        context = compact(rest, others, ())
        text = (f"{fact} {before[fact]} -> {after[fact]} lowers the highest stage from "
                f"{stage_before} to {stage_after}; "
                + (context if context.startswith("others") else f"with {context}"))
        self.report("E605", statement.span, f"raising {fact} can lower the highest stage of "
                    f"the result (from {stage_before} to {stage_after})",
                    "find the rule that stops firing as the fact grows and let a rule of at "
                    "least that stage take over", witness={"before": before, "after": after},
                    witness_text=text)

    def assert_reads(self, statement: nodes.Assert) -> set[str]:
        probe = nodes.Rule(name=None, label=None, priority=None, final=False,
                           condition=statement.condition, actions=())
        return set(self.checked.facts_used_by(probe))


def _timeout(timeout_ms: int | None) -> dict[str, int]:
    return {} if timeout_ms is None else {"timeout_ms": timeout_ms}


def _words(key: ActionKey) -> str:
    return action_words(*key)


def _pattern(action: nodes.ActionRef) -> ActionPattern:
    """An assertion's action: without `using` it stands for any template."""
    return ActionPattern(action.verb.text, action.target.text,
                         action.using.text if action.using is not None else None)


def _has(decision: Decision, pattern: ActionPattern) -> bool:
    return any(pattern.matches(a.verb, a.target, a.using) for a in decision.actions)
