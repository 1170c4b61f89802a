"""Prefilter: group rules under a condition they all need, to skip them together.

Stage: planned once per policy, after compile; used by every evaluation.
Input: the rules in evaluation order with their compiled tests.
Output: groups `(guard, members)`: every member rule's condition implies
its group's guard, so when the guard is false none of the members can match
and the group is skipped with one test. Most loans are current, and most
rules of a ladder need `overdue >= 1 day` or a let like it; those rules then
cost one test together instead of one each.
Soundness: a guard is a conjunct that every way of satisfying the condition
needs (an `and` needs all of its operands' conjuncts; an `or` needs only
those common to all its operands), so skipping never drops a match. Rules
have no side effects, so the order of testing does not change the result;
`final` is applied afterwards on the set of matched rules.
Must not: change which rules match.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from engine.compile import Program
from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind

Test = Callable[[list[Any]], Any]
Member = tuple[Test, int]                         # (test, bit)
Group = tuple[Test | None, tuple[Member, ...]]    # (guard or None, members)


def group_rules(checked: CheckedPolicy, program: Program,
                rules: Sequence[tuple[nodes.Rule, Test, int]]) -> tuple[Group, ...]:
    """Groups for `rules` ((rule, test, bit) in evaluation order)."""
    needs = [_in_space(checked, rule) for rule, _, _ in rules]
    counts = Counter(key for found in needs for key in found)
    chosen: dict[Hashable, list[Member]] = {}
    guards: dict[Hashable, Test] = {}
    loose: list[Member] = []
    for (_, test, bit), found in zip(rules, needs, strict=True):
        shared = [key for key in found if counts[key] > 1]
        if not shared:
            loose.append((test, bit))
            continue
        key = max(shared, key=lambda k: counts[k])
        chosen.setdefault(key, []).append((test, bit))
        guards.setdefault(key, program.code(found[key]).fn)
    groups: list[Group] = []
    for key, members in chosen.items():
        if len(members) > 1:
            groups.append((guards[key], tuple(members)))
        else:
            loose.extend(members)              # a guard for one rule only costs a test
    if loose:
        groups.append((None, tuple(loose)))
    return tuple(groups)


def _in_space(checked: CheckedPolicy, rule: nodes.Rule) -> dict[Hashable, nodes.Expr]:
    """What the rule needs, keyed within its namespace: equal nodes of a guard and of
    the policy may read different lets and params (`capped`, `call_cap`)."""
    guard = checked.guard_of.get(id(rule))
    space = guard.name if guard is not None else None
    return {(space, key): expr
            for key, expr in _needed(checked, rule.condition, set()).items()}


def _needed(checked: CheckedPolicy, expr: nodes.Expr,
            lets: set[str]) -> dict[Hashable, nodes.Expr]:
    """Conjuncts that must be true whenever `expr` is: key -> a node that computes it.
    Keys are the nodes themselves (equal nodes mean the same in one policy), or
    ("let", name) for a let, so its cached value is what the guard reads."""
    match expr:
        case nodes.And(operands=operands):
            found: dict[Hashable, nodes.Expr] = {}
            for operand in operands:
                found.update(_needed(checked, operand, lets))
            return found
        case nodes.Or(operands=operands):
            parts = [_needed(checked, operand, lets) for operand in operands]
            common = set(parts[0]).intersection(*parts[1:]) if parts else set()
            return {key: parts[0][key] for key in common}
        case nodes.Name(text=text):
            resolution = checked.names.get(id(expr))
            if resolution is None or resolution.kind is not NameKind.LET:
                return {("name", text): expr}
            name = resolution.name
            if name in lets:
                return {("let", name): expr}
            inner = _needed(checked, checked.lets[name].node.expr, lets | {name})
            return {("let", name): expr, **inner}
        case nodes.Bool():
            return {}
    return {expr: expr}
