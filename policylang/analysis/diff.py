"""Diff: do two policies decide every loan the same way?

Input: two checked policies (an old and a new version) whose schemas agree
on the facts both use. Output: `DiffResult`: equivalent or not, and for
every rule whose behaviour changed a witness loan with the old and the new
ordered actions (as `verb target [using template]` strings), each confirmed
on the engine. Results are compared as the engine returns them: the same
actions in the same order.
Must not: call two policies equivalent without a proof.
"""

from __future__ import annotations

import itertools
from typing import Any

import attrs
import z3

from engine.api import compile_checked
from policylang import nodes
from policylang.analysis.encode import (
    ActionKey,
    Encoder,
    Facts,
    Unsupported,
    enum_ids,
    make_facts,
)
from policylang.analysis.solve import Found, Impossible, Solver, Undecided
from policylang.analysis.witness import facts_of
from policylang.checked import CheckedPolicy
from policylang.schema_model import FactDef, Schema


class SchemaMismatch(Exception):
    """The two policies give one fact two different meanings: they cannot be compared."""


@attrs.frozen(slots=True)
class Difference:
    witness: dict[str, Any]
    old: tuple[str, ...]
    new: tuple[str, ...]
    rules: tuple[str, ...]          # the changed rules this witness shows

    def to_json(self) -> dict[str, Any]:
        return {"witness": self.witness, "old": list(self.old), "new": list(self.new)}


@attrs.frozen(slots=True)
class DiffResult:
    equivalent: bool
    differences: tuple[Difference, ...]
    undecided: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"equivalent": self.equivalent,
                "differences": [d.to_json() for d in self.differences]}


def compare(old: CheckedPolicy, new: CheckedPolicy, timeout_ms: int | None = None) -> DiffResult:
    """Compare what `old` and `new` decide, over every loan both schemas allow."""
    schema = merged_schema(old.schema, new.schema)
    ids = enum_ids(old.schema, new.schema)
    facts = make_facts(schema, ids=ids)
    before, after = Encoder(old, facts), Encoder(new, facts)
    solver = Solver(schema, [facts], **({} if timeout_ms is None else {"timeout_ms": timeout_ms}))
    try:
        return _compare(old, new, schema=schema, facts=facts, before=before, after=after,
                        solver=solver)
    except Unsupported as error:
        return DiffResult(False, (), (f"could not decide whether the policies differ: "
                                      f"{error}",))


def _compare(old: CheckedPolicy, new: CheckedPolicy, *, schema: Schema, facts: Facts,
             before: Encoder, after: Encoder, solver: Solver) -> DiffResult:
    differ = results_differ(before, after)
    first = solver.find(differ)
    if isinstance(first, Impossible):
        return DiffResult(True, ())
    if isinstance(first, Undecided):
        return DiffResult(False, (), (f"could not decide whether the policies differ: "
                                      f"{first.reason}",))
    engines = compile_checked(old), compile_checked(new)
    found: dict[tuple[tuple[str, ...], tuple[str, ...], str], Difference] = {}
    undecided = []
    candidates = changed_rules(before, after, solver)
    for name, fires in [*candidates, ("", z3.BoolVal(True, facts.ctx))]:
        if not name and found:
            break                   # the catch-all is only for a change no rule explains
        outcome = solver.find(z3.And(differ, fires), witness=True)
        if isinstance(outcome, Undecided):
            undecided.append(f"rule {name}: {outcome.reason}")
        if not isinstance(outcome, Found):
            continue
        witness = facts_of(outcome.model, facts, schema)
        olds, news = (tuple(e.evaluate(_for(witness, e.schema)).action_strings())
                      for e in engines)
        if olds == news:
            undecided.append(f"rule {name}: a witness did not reproduce")
            continue
        key = (olds, news, repr(sorted(witness.items())))
        previous = found.get(key)
        named = (name,) if name else ()
        found[key] = Difference(witness, olds, news, (*previous.rules, *named) if previous
                                else named)
    return DiffResult(False, tuple(found.values()), tuple(undecided))


def merged_schema(old: Schema, new: Schema) -> Schema:
    """The facts of both schemas; a fact both declare must mean the same in both."""
    facts: dict[str, FactDef] = dict(old.facts)
    for name, fact in new.facts.items():
        if name in facts and not _same_meaning(facts[name], fact):
            raise SchemaMismatch(f"fact `{name}` differs between the two schemas "
                                 f"({facts[name].type.value} vs {fact.type.value} or its "
                                 "domain); the policies cannot be compared")
        facts.setdefault(name, fact)
    return attrs.evolve(new, facts=facts)


def _same_meaning(a: FactDef, b: FactDef) -> bool:
    return (a.type, a.currency, set(a.values), a.minimum, a.maximum) == (
        b.type, b.currency, set(b.values), b.minimum, b.maximum)


def _for(witness: dict[str, Any], schema: Schema) -> dict[str, Any]:
    return {name: value for name, value in witness.items() if name in schema.facts}


def results_differ(old: Encoder, new: Encoder) -> Any:
    """The two ordered results differ: an action is in one and not the other, or two
    actions in both come in a different order."""
    keys = list(dict.fromkeys([*old.action_keys(), *new.action_keys()]))
    membership = [old.contains(k) != new.contains(k) for k in keys]
    shared = [k for k in keys if k in old.action_keys() and k in new.action_keys()]
    order = [z3.And(old.contains(a), old.contains(b), new.contains(a), new.contains(b),
                    old.before(a, b) != new.before(a, b))
             for a, b in itertools.combinations(shared, 2)]
    return z3.Or(*membership, *order, z3.BoolVal(False, old.ctx))


def changed_rules(old: Encoder, new: Encoder, solver: Solver) -> list[tuple[str, Any]]:
    """(rule name, `it fires in old or new`) for every rule whose behaviour changed: in
    one policy only, written differently, or firing on other loans (a let, a param or
    a final rule before it changed)."""
    olds = {old.checked.rule_name(r): r for r in old.rules}
    news = {new.checked.rule_name(r): r for r in new.rules}
    changed = []
    for name in dict.fromkeys([*olds, *news]):
        a, b = olds.get(name), news.get(name)
        fires = z3.Or(*(e.fires(r) for e, r in ((old, a), (new, b)) if r is not None))
        if a is None or b is None or a != b or _fires_differently(old, new, a, b, solver):
            changed.append((name, fires))
    return changed


def _fires_differently(old: Encoder, new: Encoder, a: nodes.Rule, b: nodes.Rule,
                       solver: Solver) -> bool:
    return not isinstance(solver.find(old.fires(a) != new.fires(b)), Impossible)


__all__ = ["ActionKey", "DiffResult", "Difference", "SchemaMismatch", "compare"]
