"""Timeline: which actions a policy takes on which day, for a few typical loans.

Stage: part of the review document. Input: a compiled policy. Output: a `Timeline`:
for each profile, for each day from `-lead` (before the due date) to `days` overdue,
the actions of the decision (`verb target [using template]`).

The day-by-day loan: a monthly instalment falls due on day 0. Before it (day -k),
`overdue` is 0 and `due_in` is k; from day 1, `overdue` is the day and `due_in` the
days to the next monthly due date (30 - day mod 30), with `periods_overdue` one more
for each 30 days. Every other fact is at its schema default (history facts at
"nothing happened yet"), so the chart shows on which days each action is due, not
how often a replay with history would repeat it: that is `policylang simulate`'s job.
A fact without a default gets a typical value (`TYPICAL`), else the lowest value of
its domain. Profiles change a few facts (a guarantor, a phone that is not answered);
a profile whose facts the schema lacks is left out.
Must not: read history, files or the clock.
"""

from __future__ import annotations

from typing import Any

import attrs

from engine.api import CompiledPolicy
from policylang.analysis.solve import plain_value
from policylang.schema_model import FactDef, FactType, Schema

PERIOD = 30          # days between two instalments in the typical loan
TYPICAL: dict[str, Any] = {"overdue_amount": "1062.67", "principal": "12000",
                           "loan_type": "credit", "contact_status": "reachable",
                           "has_guarantor": False}
# (key, zh name, en name, facts the profile changes)
PROFILES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("typical", "典型贷款（无担保人，可联系）", "typical loan (no guarantor, reachable)", {}),
    ("guarantor", "有担保人的保证贷款", "guaranteed loan with a guarantor",
     {"has_guarantor": True, "loan_type": "guaranteed"}),
    ("unreachable", "电话不通", "phone not answered", {"contact_status": "unreachable"}),
)


@attrs.frozen(slots=True)
class Profile:
    key: str
    name: str                      # in the document's language
    facts: dict[str, Any] = attrs.field(eq=False)


@attrs.frozen(slots=True)
class Timeline:
    days: tuple[int, ...]
    profiles: tuple[Profile, ...]
    actions: tuple[str, ...]                          # every action that fires, in stage order
    fired: dict[str, dict[int, tuple[str, ...]]] = attrs.field(eq=False)   # profile -> day

    def fires(self, profile: str, day: int, action: str) -> bool:
        return action in self.fired[profile].get(day, ())


def base_facts(schema: Schema) -> dict[str, Any]:
    """A value for every fact without a default: typical where known, else the lowest."""
    return {name: TYPICAL.get(name, plain_value(fact)) for name, fact in schema.facts.items()
            if not fact.has_default and name not in ("overdue", "due_in", "periods_overdue")}


def profiles(schema: Schema, lang: str) -> tuple[Profile, ...]:
    base = base_facts(schema)
    found = []
    for key, zh, en, changes in PROFILES:
        if all(_fits(schema, name, value) for name, value in changes.items()):
            found.append(Profile(key, zh if lang == "zh" else en, base | changes))
    return tuple(found)


def _fits(schema: Schema, name: str, value: Any) -> bool:
    fact = schema.facts.get(name)
    return fact is not None and (fact.type is not FactType.ENUM or value in fact.values)


def day_facts(schema: Schema, day: int) -> dict[str, Any]:
    """The ledger facts of the typical loan on `day` (0 = the due date)."""
    overdue = max(day, 0)
    due_in = -day if day <= 0 else PERIOD - day % PERIOD
    facts: dict[str, Any] = {"overdue": overdue, "due_in": due_in,
                             "periods_overdue": 0 if day <= 0 else 1 + (day - 1) // PERIOD}
    return {k: _clamp(schema.facts[k], v) for k, v in facts.items() if k in schema.facts}


def _clamp(fact: FactDef, value: int) -> int:
    if fact.maximum is not None:
        value = min(value, int(fact.maximum))
    if fact.minimum is not None:
        value = max(value, int(fact.minimum))
    return value


def build_timeline(policy: CompiledPolicy, *, days: int, lead: int, lang: str) -> Timeline:
    """Evaluate every profile on every day from -lead to days."""
    schema = policy.schema
    span = tuple(range(-lead, days + 1))
    found = profiles(schema, lang)
    fired: dict[str, dict[int, tuple[str, ...]]] = {}
    stages: dict[str, tuple[int, int]] = {}
    for profile in found:
        by_day = {}
        for day in span:
            decision = policy.evaluate(profile.facts | day_facts(schema, day))
            by_day[day] = decision.action_strings()
            for action in decision.actions:
                stages.setdefault(str(action), (action.stage, len(stages)))
        fired[profile.key] = by_day
    ordered = tuple(sorted(stages, key=lambda a: stages[a]))
    return Timeline(span, found, ordered, fired)
