"""Monotone: two copies of the facts, equal except one fact that is higher.

Input: a checked policy, its first copy of the facts and the fact's name.
Output: the second copy (sharing every other variable with the first), and
the formula "raising FACT lowers the highest stage": for some stage s the
first copy's result reaches s and the second's does not. An empty result
counts as stage 0.
Must not: compare anything but stages (the contract's promise).
"""

from __future__ import annotations

from typing import Any

import attrs
import z3

from policylang.analysis.encode import Encoder, Facts, make_facts


@attrs.frozen(slots=True)
class Raised:
    after: Facts
    failure: Any


def raised(first: Encoder, fact: str) -> Raised:
    """The copy where `fact` is higher, and the formula for a drop in the highest stage;
    `first` is the encoder of the first copy (its formulas are reused)."""
    checked, before = first.checked, first.facts
    schema = checked.schema
    shared = {name: var for name, var in before.variables.items() if name != fact}
    after = make_facts(schema, "@after", ids=before.enum_ids, shared=shared, ctx=before.ctx)
    second = Encoder(checked, after)
    stages = sorted({schema.actions[k[0]].stage for k in first.action_keys()} - {0})
    drops = [z3.And(first.stage_at_least(s), z3.Not(second.stage_at_least(s))) for s in stages]
    failure = z3.And(after[fact] > before[fact], z3.Or(*drops, z3.BoolVal(False, before.ctx)))
    return Raised(after, failure)


def highest_stage(stages: list[int]) -> int:
    return max(stages, default=0)
