"""Compliance files: every problem named with file, line and field; each kind of check
judged on hand-built timelines."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest

from engine.api import load_policy
from engine.decision import Action
from engine.simulation.compliance import (
    Compliance,
    ComplianceError,
    load_compliance,
    parse_compliance,
)
from engine.simulation.replay import LoanDay
from policylang.schema_model import ActionDef

CALL = Action("call", "borrower", None, 1, ("early_calls",))
LETTER = Action("notify", "borrower", "overdue_notice", 3, ("overdue_letter",))
START = date(2025, 3, 1)


@cache
def catalogue() -> dict[str, ActionDef]:
    return dict(load_policy("policies/retail.policy").schema.actions)


def checks(yaml_text: str) -> Compliance:
    return parse_compliance(yaml_text, "c.yaml", catalogue())


def problems(yaml_text: str) -> list[str]:
    with pytest.raises(ComplianceError) as caught:
        checks(yaml_text)
    return list(caught.value.problems)


def timeline(*days: tuple[int, tuple[Action, ...]]) -> list[LoanDay]:
    """Consecutive days from START: (overdue, actions) each."""
    return [LoanDay("L1", START + timedelta(days=i), overdue, actions)
            for i, (overdue, actions) in enumerate(days)]


def test_the_shipped_file_loads_against_the_retail_schema() -> None:
    loaded = load_compliance(Path("policies/retail.compliance.yaml"), catalogue())
    assert [c.kind for c in loaded.checks] == ["cap", "never", "every", "by", "by"]
    assert loaded.checks[0].describe() == "at most 7 × call borrower in any 7 days"


def test_cap_breaks_on_the_day_the_window_holds_one_too_many() -> None:
    cap = checks("checks:\n- {kind: cap, action: call borrower, max: 2, within: 3 days}\n")
    days = timeline((1, (CALL,)), (2, (CALL,)), (3, (CALL,)), (4, (CALL,)), (5, ()), (6, ()))
    # windows of 3 days ending on day 3 and day 4 hold 3 calls each
    [finding] = cap.check_loan(days)
    assert (finding.day, finding.days, finding.overdue) == (START + timedelta(days=2), 2, 3)
    assert cap.check_loan(days[:2]) == []


def test_cap_counts_only_matching_actions() -> None:
    cap = checks('checks:\n- {kind: cap, action: "notify borrower", max: 0, within: 7 days}\n')
    assert cap.check_loan(timeline((1, (CALL,)), (2, (CALL,)))) == []
    assert len(cap.check_loan(timeline((1, (CALL,)), (2, (LETTER,))))) == 1


def test_never_breaks_only_while_its_condition_holds() -> None:
    never = checks('checks:\n- {kind: never, action: "notify borrower", '
                   'while: "overdue between 1 and 2 days"}\n')
    assert never.check_loan(timeline((3, (LETTER,)), (0, (LETTER,)))) == []
    [finding] = never.check_loan(timeline((1, ()), (2, (LETTER,))))
    assert finding.overdue == 2 and finding.check == "never 1"


def test_every_breaks_after_that_many_quiet_days_under_the_condition() -> None:
    every = checks('checks:\n- {name: letters, kind: every, action: "notify borrower", '
                   'at_least_every: 3 days, while: "overdue >= 7 days"}\n')
    ok = timeline((7, (LETTER,)), (8, ()), (9, ()), (10, (LETTER,)), (11, ()))
    assert every.check_loan(ok) == []
    late = timeline((6, ()), (7, ()), (8, ()), (9, ()), (10, (LETTER,)))
    [finding] = every.check_loan(late)
    assert finding.check == "letters" and finding.overdue == 9   # days 7, 8 and 9 quiet


def test_every_starts_again_after_a_gap_in_the_days() -> None:
    every = checks('checks:\n- {kind: every, action: "notify borrower", at_least_every: 2 days, '
                   'while: "overdue >= 1 day"}\n')
    days = [LoanDay("L1", START, 1, ()), LoanDay("L1", START + timedelta(days=5), 6, ())]
    assert every.check_loan(days) == []


def test_by_needs_the_action_within_the_days_up_to_the_deadline() -> None:
    by = checks('checks:\n- {kind: by, action: "notify borrower", within: 2 days, '
                'when: "overdue >= 3 days"}\n')
    assert by.check_loan(timeline((1, ()), (2, (LETTER,)), (3, ()))) == []
    assert by.check_loan(timeline((1, ()), (2, ()), (3, (LETTER,)))) == []   # the day counts
    [finding] = by.check_loan(timeline((1, (LETTER,)), (2, ()), (3, ()), (4, ())))
    assert finding.overdue == 3 and finding.days == 1
    assert by.check_loan(timeline((1, ()), (2, ()))) == []   # never reached the deadline


def test_every_problem_is_reported_with_line_column_and_field() -> None:
    found = problems(
        "checks:\n"
        "  - {kind: cap, action: call borower, max: 7, within: 7 days}\n"
        "  - {kind: capp, action: call borrower}\n"
        "  - {kind: every, action: notify borrower, at_least_evry: 30 days}\n"
        "  - {kind: never, action: call borrower, while: overdue > 3}\n"
        "  - {kind: cap, action: call borrower, max: -1, within: a week}\n")
    assert found == [
        'c.yaml:2:25: check 1 ("cap"): field "action": "borower" is not a target of "call" '
        "(did you mean borrower?)",
        "c.yaml:3:12: check 2: field \"kind\": 'capp' is not a kind (did you mean cap?)",
        'c.yaml:4:44: check 3 ("every"): unknown field "at_least_evry" '
        "(did you mean at_least_every?)",
        'c.yaml:4:5: check 3 ("every"): field "at_least_every" is missing (e.g. {kind: every, '
        'action: "notify borrower", at_least_every: 30 days, while: "overdue >= 7 days"})',
        'c.yaml:4:5: check 3 ("every"): field "while" is missing (e.g. {kind: every, '
        'action: "notify borrower", at_least_every: 30 days, while: "overdue >= 7 days"})',
        'c.yaml:5:49: check 4 ("never"): field "while": \'overdue > 3\' is not a condition on '
        'overdue (write e.g. "overdue >= 7 days" or "overdue between 1 and 3 days")',
        'c.yaml:6:45: check 5 ("cap"): field "max" must be a whole number, 0 or more, '
        "found -1 (write max: 7)",
        'c.yaml:6:57: check 5 ("cap"): field "within" must be a number of days, 1 or more, '
        "found 'a week' (write within: 7 days)",
    ]


def test_unknown_verb_duplicate_names_and_bad_yaml() -> None:
    assert problems("checks:\n- {kind: never, action: phone borrower, "
                    "while: overdue >= 1 day}\n") == [
        'c.yaml:2:25: check 1 ("never"): field "action": "phone" is not an action of the '
        "schema (choose one of call, locate, sms, monitor, visit, negotiate, restructure, notify, "
        "blacklist, preserve, refer, seek, enforce, freeze)"]
    twice = ("checks:\n- {name: a, kind: never, action: sms, while: overdue >= 1 day}\n"
             "- {name: a, kind: never, action: sms, while: overdue >= 2 days}\n")
    assert problems(twice) == ['c.yaml:3:3: check "a" is named twice (give each a new name)']
    [bad] = problems("checks: [\n")
    assert bad.startswith("c.yaml:2:1: not valid YAML")
    assert problems("") == ["c.yaml: the file is empty; write checks: [...]"]


def test_an_unreadable_file_is_a_compliance_error(tmp_path: Path) -> None:
    with pytest.raises(ComplianceError, match="cannot read the compliance file"):
        load_compliance(tmp_path / "missing.yaml", catalogue())
