"""History facts in a replay: what the schema's `history` declarations make of the
replay's own earlier actions. The value on day D counts actions of days before D only
(`days_since`, `count ... within N days` over days D-N … D-1, `ever`), capped at the
fact's maximum; a pattern's missing parts match anything. Checked on hand-made action
sequences with every value worked out by hand, then against a naive recount of the
module docstring's definitions on random sequences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.simulation.history_facts import LoanHistoryState, declared, history_facts
from policylang.schema import parse_schema
from policylang.schema_model import Schema

SCHEMA = """\
facts:
  overdue:           {type: days, min: 0, max: 3650}
  days_since_notice: {type: days, min: 0, max: 30, default: 30,
                      history: {days_since: "notify borrower"}}
  days_since_letter: {type: days, min: 0, max: 100000, default: 100000,
                      history: {days_since: "notify borrower using overdue_notice"}}
  days_since_visit:  {type: days, min: 0, default: 999,
                      history: {days_since: "visit borrower"}}
  calls_last_7d:     {type: int, min: 0, max: 1000, default: 0,
                      history: {count: "call borrower", within: 7 days}}
  any_calls_3d:      {type: int, min: 0, max: 2, default: 0,
                      history: {count: "call", within: 3 days}}
  guarantor_demanded: {type: bool, default: false,
                      history: {ever: "notify guarantor using guarantor_demand"}}
actions:
  call:   {targets: [borrower, guarantor], stage: 1, templates: [reminder, collect_now]}
  visit:  {targets: [borrower, guarantor], stage: 2}
  notify: {targets: [borrower, guarantor], stage: 3,
           templates: [overdue_notice, interest_demand, guarantor_demand]}
"""

Key = tuple[str, str, str | None]
CALL = ("call", "borrower", None)
CALL_NOW = ("call", "borrower", "collect_now")
CALL_GUARANTOR = ("call", "guarantor", None)
LETTER = ("notify", "borrower", "overdue_notice")
DEMAND = ("notify", "borrower", "interest_demand")
BARE_NOTICE = ("notify", "borrower", None)
VISIT = ("visit", "borrower", None)
VISIT_GUARANTOR = ("visit", "guarantor", None)
GUARANTOR_DEMAND = ("notify", "guarantor", "guarantor_demand")
GUARANTOR_OTHER = ("notify", "guarantor", "overdue_notice")


def schema_of(text: str = SCHEMA) -> Schema:
    loaded = parse_schema(text, "history.schema.yaml")
    assert loaded.schema is not None, [d.message for d in loaded.diagnostics]
    return loaded.schema


def walk(actions: Mapping[int, Sequence[Key]], days: int,
         state: LoanHistoryState | None = None) -> dict[int, dict[str, Any]]:
    """Days 1..days as a replay goes: each day's facts, then that day's actions."""
    state = state or LoanHistoryState(history_facts(schema_of()))
    seen = {}
    for day in range(1, days + 1):
        seen[day] = state.facts(day)
        state.record(day, actions.get(day, ()))
    return seen


def column(seen: Mapping[int, Mapping[str, Any]], fact: str) -> list[Any]:
    return [seen[day][fact] for day in sorted(seen)]


def test_only_facts_with_a_history_are_tracked_in_declaration_order() -> None:
    names = [fact.name for fact in history_facts(schema_of())]
    assert names == ["days_since_notice", "days_since_letter", "days_since_visit",
                     "calls_last_7d", "any_calls_3d", "guarantor_demanded"]
    assert set(declared(schema_of())) == set(names)


def test_before_any_action_every_fact_is_its_default() -> None:
    state = LoanHistoryState(history_facts(schema_of()))
    assert state.facts(1) == {"days_since_notice": 30, "days_since_letter": 100000,
                              "days_since_visit": 999, "calls_last_7d": 0,
                              "any_calls_3d": 0, "guarantor_demanded": False}


def test_a_letter_today_makes_tomorrows_days_since_letter_one() -> None:
    seen = walk({3: [LETTER]}, 6)
    # day 3's own letter does not count on day 3: a day's facts never see its decision
    assert column(seen, "days_since_letter") == [100000, 100000, 100000, 1, 2, 3]


def test_days_since_counts_from_the_latest_matching_action() -> None:
    seen = walk({1: [VISIT], 4: [VISIT]}, 7)
    assert column(seen, "days_since_visit") == [999, 1, 2, 3, 1, 2, 3]


def test_days_since_is_capped_at_the_facts_maximum() -> None:
    seen = walk({1: [LETTER]}, 33)
    # maximum 30: day 31 is exactly 30 days after the letter, days 32 and 33 are capped
    assert column(seen, "days_since_notice")[29:] == [29, 30, 30, 30]
    assert column(seen, "days_since_letter")[29:] == [29, 30, 31, 32]


def test_days_since_without_a_maximum_is_not_capped() -> None:
    state = LoanHistoryState(history_facts(schema_of()))
    state.facts(1)
    state.record(1, [VISIT])
    assert state.facts(5001)["days_since_visit"] == 5000


def test_a_pattern_without_a_template_matches_any_template_and_none() -> None:
    seen = walk({2: [DEMAND], 5: [BARE_NOTICE], 7: [LETTER]}, 9)
    assert column(seen, "days_since_notice") == [30, 30, 1, 2, 3, 1, 2, 1, 2]
    # the letter pattern names its template: the demand and the bare notice are not letters
    assert column(seen, "days_since_letter") == [100000] * 7 + [1, 2]


def test_a_pattern_does_not_match_another_target_or_verb() -> None:
    seen = walk({1: [VISIT_GUARANTOR, GUARANTOR_OTHER, CALL]}, 3)
    assert column(seen, "days_since_visit") == [999, 999, 999]
    assert column(seen, "days_since_notice") == [30, 30, 30]


def test_count_within_7_days_counts_days_d_minus_7_to_d_minus_1() -> None:
    seen = walk({1: [CALL], 2: [CALL], 8: [CALL]}, 17)
    assert column(seen, "calls_last_7d") == [
        0,    # day 1: nothing before it
        1,    # day 2: day 1
        2, 2, 2, 2, 2,   # days 3-7: days 1 and 2
        2,    # day 8: window 1..7, day 1 is exactly 7 days ago and still counts
        2,    # day 9: window 2..8 holds day 2 and day 8
        1, 1, 1, 1, 1, 1,   # days 10-15: day 8 only
        0, 0,  # day 16: window 9..15, day 8 is 8 days ago
    ]


def test_count_is_capped_at_the_facts_maximum() -> None:
    seen = walk({1: [CALL], 2: [CALL], 3: [CALL], 4: [CALL]}, 5)
    assert column(seen, "calls_last_7d") == [0, 1, 2, 3, 4]
    assert column(seen, "any_calls_3d") == [0, 1, 2, 2, 2]    # 3 calls on days 1-3: max 2


def test_a_verb_only_pattern_counts_calls_to_anyone() -> None:
    seen = walk({1: [CALL_GUARANTOR], 2: [CALL_NOW]}, 3)
    assert column(seen, "any_calls_3d") == [0, 1, 2]
    assert column(seen, "calls_last_7d") == [0, 0, 1]       # "call borrower" only


def test_each_matching_action_of_a_decision_counts_once() -> None:
    seen = walk({1: [CALL, CALL_NOW, VISIT]}, 2)
    assert seen[2]["calls_last_7d"] == 2


def test_ever_becomes_true_the_day_after_and_stays_true() -> None:
    state = LoanHistoryState(history_facts(schema_of()))
    seen = walk({2: [GUARANTOR_OTHER], 3: [GUARANTOR_DEMAND]}, 5, state)
    assert column(seen, "guarantor_demanded") == [False, False, False, True, True]
    assert state.facts(10000)["guarantor_demanded"] is True


@pytest.mark.parametrize(("domain", "before"), [
    ("min: 0, max: 30", 30),
    ("min: 0", 100000),
])
def test_days_since_without_a_default_is_as_far_away_as_can_be_said(domain: str,
                                                                    before: int) -> None:
    # The schema accepts a days_since fact with no default, and a loan cannot supply it
    # (history facts are never read from loans.csv). With nothing to count, the replay
    # says "as far away as can be said", as loanday.py does for the ledger's due_in and
    # days_since_payment: the maximum, else 100000. A null would fail the whole run on
    # the first loan-day of any policy that reads the fact.
    schema = schema_of(f"""\
facts:
  days_since_notice: {{type: days, {domain},
                      history: {{days_since: "notify borrower"}}}}
  notices_3d:        {{type: int, min: 0, history: {{count: "notify", within: 3 days}}}}
  ever_notified:     {{type: bool, history: {{ever: "notify"}}}}
actions:
  notify: {{targets: [borrower], stage: 3}}
""")
    state = LoanHistoryState(history_facts(schema))
    assert state.facts(1) == {"days_since_notice": before, "notices_3d": 0,
                              "ever_notified": False}
    state.record(1, [BARE_NOTICE])
    assert state.facts(3) == {"days_since_notice": 2, "notices_3d": 1, "ever_notified": True}


def test_loans_sharing_the_action_lookup_keep_their_own_histories() -> None:
    defs, shared = history_facts(schema_of()), {}
    first, second = LoanHistoryState(defs, shared), LoanHistoryState(defs, shared)
    first.facts(1)
    first.record(1, [CALL, LETTER])
    assert second.facts(2)["calls_last_7d"] == 0
    assert second.facts(2)["days_since_letter"] == 100000
    second.record(2, [CALL])
    assert first.facts(3)["calls_last_7d"] == 1
    assert second.facts(3)["calls_last_7d"] == 1
    assert first.facts(3)["days_since_letter"] == 2


# -- the docstring's definitions, recounted naively ----------------------------------------

ACTIONS = (CALL, CALL_NOW, CALL_GUARANTOR, LETTER, DEMAND, BARE_NOTICE, VISIT,
           VISIT_GUARANTOR, GUARANTOR_DEMAND, GUARANTOR_OTHER)


def _matches(pattern: tuple[str, str | None, str | None], key: Key) -> bool:
    verb, target, using = pattern
    return key[0] == verb and target in (None, key[1]) and using in (None, key[2])


def naive(actions: Mapping[int, Sequence[Key]], day: int) -> dict[str, Any]:
    """The facts of `day` straight from the definitions."""
    def last(pattern: tuple[str, str | None, str | None]) -> int | None:
        days = [d for d, keys in actions.items() if d < day
                and any(_matches(pattern, k) for k in keys)]
        return max(days, default=None)

    def count(pattern: tuple[str, str | None, str | None], within: int) -> int:
        return sum(1 for d, keys in actions.items() if day - within <= d < day
                   for k in keys if _matches(pattern, k))

    notice, letter, visit = (last(("notify", "borrower", None)),
                             last(("notify", "borrower", "overdue_notice")),
                             last(("visit", "borrower", None)))
    return {
        "days_since_notice": 30 if notice is None else min(day - notice, 30),
        "days_since_letter": 100000 if letter is None else min(day - letter, 100000),
        "days_since_visit": 999 if visit is None else day - visit,
        "calls_last_7d": min(count(("call", "borrower", None), 7), 1000),
        "any_calls_3d": min(count(("call", None, None), 3), 2),
        "guarantor_demanded": last(("notify", "guarantor", "guarantor_demand")) is not None,
    }


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(1, 40),
                       st.lists(st.sampled_from(ACTIONS), max_size=3, unique=True),
                       max_size=25))
def test_every_day_agrees_with_the_definitions(actions: dict[int, list[Key]]) -> None:
    seen = walk(actions, 45)
    for day in range(1, 46):
        assert seen[day] == naive(actions, day), day
