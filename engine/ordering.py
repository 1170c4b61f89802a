"""Ordering: priority, final, suppress, dedup and the order of the result.

Stage: planned once per policy (`plan_rules`), applied after the rule tests
of every evaluation (`resolve`).
Input: the checked policy (its guards' rules included) and its test closures;
at run time, the matched rules' plans in evaluation order.
Output: `RulePlan`s in evaluation order (priority high to low, then source
order), and per evaluation the ordered, deduplicated actions and the
suppressed ones.
The contract's steps: (1) rules are tried guards first, then by priority then
source order, a matching `final` rule cuts off the rest (the caller's loop;
a guard's rules come first and are never final, so nothing cuts them off); (2) the actions
of all matched rules are collected, then each `suppress VERB [TARGET]`
removes matching actions produced by the other matched rules; (3) the same
verb+target+using appears once, in the place of its first producer, listing
every producer in evaluation order; (4) the result is ordered by the first
producer's priority (high first), the action's stage (low first), then the
position of the action's text.
Every (rule, action) pair gets a global rank for step (4) at plan time, so
at run time ordering is one sort of small integers. For one verb the stage
is fixed, so rank order between producers of the same action is evaluation
order: the first pair seen is the first producer.
Must not: test conditions or look at facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from engine.decision import Action, SuppressedAction
from policylang import nodes
from policylang.checked import CheckedPolicy

Produced = tuple[int, int, Action, int]     # (rank, action key id, Action, producer index)


@attrs.frozen(slots=True)
class RulePlan:
    """One rule, ready to run: its test, what it produces and what it suppresses.
    `index` is its position in evaluation order."""

    name: str
    index: int
    priority: int
    final: bool
    test: Callable[[list[Any]], Any]
    produces: tuple[Produced, ...]          # by rank, one per distinct action
    suppresses: tuple[tuple[str, str | None], ...]
    silences: frozenset[int]                # key ids of the actions its suppressions match
    actions: tuple[Action, ...]             # its own actions, in result order
    node: nodes.Rule = attrs.field(eq=False, repr=False)


def evaluation_order(checked: CheckedPolicy) -> list[int]:
    """Indexes of `checked.rules` in evaluation order: guard rules first, then by
    priority, high first, then source order (see CheckedPolicy.evaluation_order)."""
    index = {id(rule): i for i, rule in enumerate(checked.rules)}
    return [index[id(rule)] for rule in checked.evaluation_order()]


def plan_rules(checked: CheckedPolicy, tests: Sequence[Callable[[list[Any]], Any]]
               ) -> tuple[RulePlan, ...]:
    """Plans for `checked.rules` (with their tests, in the same order), in evaluation
    order. A guard's rule is named `guard NAME: RULE` in every output."""
    rules, schema = checked.rules, checked.schema
    order = evaluation_order(checked)
    entries: list[tuple[tuple[int, int, int], tuple[str, str, str | None], int, int]] = []
    for position, index in enumerate(order):
        rule = rules[index]
        seen: set[tuple[str, str, str | None]] = set()
        for item in rule.actions:
            if isinstance(item, nodes.ActionRef):
                key = (item.verb.text, item.target.text, item.using.text if item.using else None)
                if key not in seen:
                    seen.add(key)
                    stage = schema.actions[key[0]].stage
                    entries.append(((-(rule.priority or 0), stage, item.span.start),
                                    key, stage, position))
    entries.sort(key=lambda entry: entry[0])
    key_ids: dict[tuple[str, str, str | None], int] = {}
    produced: list[list[Produced]] = [[] for _ in order]
    for rank, (_, key, stage, position) in enumerate(entries):
        name = checked.rule_name(rules[order[position]])
        action = Action(key[0], key[1], key[2], stage, (name,))
        produced[position].append((rank, key_ids.setdefault(key, len(key_ids)), action,
                                   position))
    return tuple(_plan(rules[index], checked.rule_name(rules[index]), position, tests[index],
                       produced=produced[position], key_ids=key_ids)
                 for position, index in enumerate(order))


def _plan(rule: nodes.Rule, name: str, position: int, test: Callable[[list[Any]], Any], *,
          produced: list[Produced], key_ids: dict[tuple[str, str, str | None], int]
          ) -> RulePlan:
    suppresses = tuple(dict.fromkeys(
        (item.verb.text, item.target.text if item.target else None)
        for item in rule.actions if isinstance(item, nodes.Suppress)))
    silences = frozenset(
        kid for (verb, target, _), kid in key_ids.items()
        if any(verb == v and t in (None, target) for v, t in suppresses))
    return RulePlan(name=name, index=position, priority=rule.priority or 0,
                    final=rule.final, test=test, produces=tuple(produced),
                    suppresses=suppresses, silences=silences,
                    actions=tuple(p[2] for p in produced), node=rule)


def resolve(matched: Sequence[RulePlan]) -> tuple[tuple[Action, ...],
                                                   tuple[SuppressedAction, ...]]:
    """Steps (2) to (4) for the matched rules of one evaluation (in evaluation order)."""
    if len(matched) == 1 and not matched[0].suppresses:
        return matched[0].actions, ()
    pairs: list[Produced] = []
    suppressors: list[RulePlan] = []
    for plan in matched:
        pairs += plan.produces
        if plan.suppresses:
            suppressors.append(plan)
    pairs.sort()                         # ranks are unique: only the first item is compared
    if not suppressors:
        return _merge(pairs), ()
    kept, removed = _suppress(pairs, suppressors)
    return _merge(kept), _merge_suppressed(removed)


def _merge(pairs: list[Produced]) -> tuple[Action, ...]:
    """One Action per key, in the place of its first producer, listing every producer."""
    out: list[Action] = []
    where: dict[int, int] = {}
    more: dict[int, list[str]] = {}
    for _, key, action, _ in pairs:
        slot = where.get(key)
        if slot is None:
            where[key] = len(out)
            out.append(action)
        else:
            more.setdefault(slot, []).append(action.rules[0])
    for slot, names in more.items():
        first = out[slot]
        out[slot] = Action(first.verb, first.target, first.using, first.stage,
                           first.rules + tuple(names))
    return tuple(out)


def _suppress(pairs: list[Produced], suppressors: list[RulePlan]
              ) -> tuple[list[Produced], list[tuple[Produced, str]]]:
    """Split pairs into kept ones and removed ones with the name of their suppressor: the
    first matched rule, other than the producer, with a matching `suppress`."""
    kept: list[Produced] = []
    removed: list[tuple[Produced, str]] = []
    for pair in pairs:
        key, producer = pair[1], pair[3]
        for plan in suppressors:
            if key in plan.silences and plan.index != producer:
                removed.append((pair, plan.name))
                break
        else:
            kept.append(pair)
    return kept, removed


def _merge_suppressed(removed: list[tuple[Produced, str]]) -> tuple[SuppressedAction, ...]:
    """Each suppressed action once: `by` its first producer's suppressor, every producer."""
    out: dict[int, SuppressedAction] = {}
    for (_, key, action, _), by in removed:
        entry = out.get(key)
        if entry is None:
            out[key] = SuppressedAction(action.verb, action.target, action.using, action.stage,
                                        by, action.rules)
        else:
            out[key] = SuppressedAction(entry.verb, entry.target, entry.using, entry.stage,
                                        entry.by, entry.rules + action.rules)
    return tuple(out.values())
