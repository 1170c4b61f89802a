"""The shipped guards, policies/guards/cn-conduct.policy and us-reg-f.policy
(docs/guards.md "The shipped guards"), on table-driven cases at each boundary.

Each guard is put in force over a small policy that produces every action the guard
may suppress, so a case reads: on these facts, this action is suppressed by this rule
of the guard, or it goes out. The Chinese guard is also tested through retail.policy.
Each guard's intent, its `assert COND -> no ACTION` lines, is proved by `check`; an
intent the guard does not keep is refuted.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from engine.api import CompiledPolicy, load_policy, load_policy_text
from policylang.cli import main

POLICIES = Path(__file__).resolve().parent.parent / "policies"
GUARDS = POLICIES / "guards"

EVERY_ACTION = """\
rule all: overdue >= 0 days
  -> call borrower, call contact, sms borrower, locate contact, visit borrower,
     negotiate borrower, negotiate family, restructure borrower, notify borrower,
     monitor account, refer legal, refer vendor, preserve assets, seek judgment,
     enforce pledge, freeze deposits, blacklist borrower
rule guarantor: has_guarantor -> call guarantor, visit guarantor, notify guarantor
rule heir: borrower_deceased -> negotiate heir, notify heir
rule attorney: has_attorney -> call attorney
"""
LOAN: dict[str, Any] = {
    "overdue": 10, "due_in": 20, "periods_overdue": 1, "overdue_amount": "1062.67",
    "principal": "30000.00", "loan_type": "credit", "has_guarantor": True,
    "contact_status": "reachable"}


@cache
def under(guard: str) -> CompiledPolicy:
    """The every-action policy with one shipped guard in force."""
    text = (f'policy every_action version "1"\nschema "collection.schema.yaml"\n'
            f'guards "guards/{guard}.policy"\n' + EVERY_ACTION)
    return load_policy_text(text, name=f"every-{guard}.policy", base_dir=POLICIES)


def outcome(policy: CompiledPolicy, facts: dict[str, Any], action: str) -> str | None:
    """None when `action` goes out; the suppressing rule's name when it was suppressed."""
    decision = policy.evaluate({**LOAN, **facts})
    if action in decision.action_strings():
        return None
    (by,) = {s.by for s in decision.suppressed if str(s) == action}
    return by


CN = "guard cn_conduct: "
CN_CASES = [
    # 22:00-08:00, without consent: no contact with anyone
    ({"local_hour": 21}, "call borrower", None),
    ({"local_hour": 22}, "call borrower", CN + "quiet_hours"),
    ({"local_hour": 23}, "call guarantor", CN + "quiet_hours"),
    ({"local_hour": 7}, "sms borrower", CN + "quiet_hours"),
    ({"local_hour": 8}, "sms borrower", None),
    ({"local_hour": 0}, "visit borrower", CN + "quiet_hours"),
    ({"local_hour": 22}, "negotiate borrower", CN + "quiet_hours"),
    ({"local_hour": 22}, "restructure borrower", CN + "quiet_hours"),
    ({"local_hour": 22, "contact_status": "lost"}, "locate contact", CN + "quiet_hours"),
    ({"local_hour": 22, "night_contact_consent": True}, "call borrower", None),
    ({"local_hour": 7, "night_contact_consent": True}, "visit borrower", None),
    # letters, watching and court steps contact nobody at night
    ({"local_hour": 22}, "notify borrower", None),
    ({"local_hour": 22}, "monitor account", None),
    ({"local_hour": 22}, "preserve assets", None),
    # the 6th unanswered dial goes out, the 7th does not
    ({"unanswered_dials_today": 5}, "call borrower", None),
    ({"unanswered_dials_today": 6}, "call borrower", CN + "dial_cap"),
    ({"unanswered_dials_today": 6}, "sms borrower", None),
    ({"unanswered_dials_today": 6}, "call guarantor", None),
    # the 3rd connected call goes out, the 4th does not
    ({"connected_calls_today": 2}, "call borrower", None),
    ({"connected_calls_today": 3}, "call borrower", CN + "connected_cap"),
    # third parties only after loss of contact, then only to ask for contact details
    ({"failed_attempts_in_a_row": 2}, "locate contact", CN + "third_party"),
    ({"failed_attempts_in_a_row": 3}, "locate contact", None),
    ({"contact_status": "unreachable"}, "locate contact", CN + "third_party"),
    ({"contact_status": "changed"}, "locate contact", None),
    ({"contact_status": "lost"}, "locate contact", None),
    ({"borrower_missing": True}, "locate contact", None),
    ({}, "call contact", CN + "third_party"),
    ({"contact_status": "lost"}, "call contact", CN + "third_party_details_only"),
    ({"failed_attempts_in_a_row": 3}, "call contact", CN + "third_party_details_only"),
    # a deceased borrower: only through the heirs or the estate
    ({"borrower_deceased": True}, "call borrower", CN + "deceased"),
    ({"borrower_deceased": True}, "sms borrower", CN + "deceased"),
    ({"borrower_deceased": True}, "visit borrower", CN + "deceased"),
    ({"borrower_deceased": True}, "negotiate borrower", CN + "deceased"),
    ({"borrower_deceased": True}, "restructure borrower", CN + "deceased"),
    ({"borrower_deceased": True}, "notify borrower", CN + "deceased"),
    ({"borrower_deceased": True}, "negotiate family", CN + "deceased"),
    ({"borrower_deceased": True, "contact_status": "lost"}, "locate contact",
     CN + "deceased"),
    ({"borrower_deceased": True}, "negotiate heir", None),
    ({"borrower_deceased": True}, "notify heir", None),
    ({"borrower_deceased": True}, "preserve assets", None),
    ({"borrower_deceased": True}, "notify guarantor", None),
    # nothing else is touched
    ({}, "call borrower", None),
    ({}, "refer legal", None),
]

US = "guard us_reg_f: "
US_CASES = [
    # before 08:00 or from 21:00 at the borrower's location
    ({"local_hour": 7}, "call borrower", US + "inconvenient_time"),
    ({"local_hour": 8}, "call borrower", None),
    ({"local_hour": 20}, "call borrower", None),
    ({"local_hour": 21}, "call borrower", US + "inconvenient_time"),
    ({"local_hour": 21}, "sms borrower", US + "inconvenient_time"),
    ({"local_hour": 21}, "visit guarantor", US + "inconvenient_time"),
    ({"local_hour": 21, "night_contact_consent": True}, "call borrower",
     US + "inconvenient_time"),
    ({"local_hour": 21}, "notify borrower", None),
    # the 7th call in 7 days goes out, the 8th does not
    ({"calls_last_7d": 6}, "call borrower", None),
    ({"calls_last_7d": 7}, "call borrower", US + "call_frequency"),
    ({"calls_last_7d": 7}, "call guarantor", None),
    # a conversation on day 1 bars calls on days 1-7; day 8 is free
    ({"days_since_conversation": 0}, "call borrower", US + "after_conversation"),
    ({"days_since_conversation": 6}, "call borrower", US + "after_conversation"),
    ({"days_since_conversation": 7}, "call borrower", None),
    ({"days_since_conversation": 6}, "sms borrower", None),
    # a written dispute stops collection
    ({"written_dispute": True}, "call borrower", US + "dispute"),
    ({"written_dispute": True}, "call guarantor", US + "dispute"),
    ({"written_dispute": True}, "notify borrower", US + "dispute"),
    ({"written_dispute": True}, "refer legal", US + "dispute"),
    ({"written_dispute": True}, "refer vendor", US + "dispute"),
    ({"written_dispute": True}, "preserve assets", US + "dispute"),
    ({"written_dispute": True}, "freeze deposits", US + "dispute"),
    ({"written_dispute": True}, "monitor account", None),
    # a cease request stops communication with the borrower
    ({"cease_request": True}, "call borrower", US + "cease"),
    ({"cease_request": True}, "sms borrower", US + "cease"),
    ({"cease_request": True}, "visit borrower", US + "cease"),
    ({"cease_request": True}, "notify borrower", US + "cease"),
    ({"cease_request": True}, "refer legal", None),
    # an attorney: the borrower only through the attorney
    ({"has_attorney": True}, "call borrower", US + "attorney"),
    ({"has_attorney": True}, "negotiate borrower", US + "attorney"),
    ({"has_attorney": True}, "notify borrower", US + "attorney"),
    ({"has_attorney": True}, "call attorney", None),
    ({"has_attorney": True, "local_hour": 21}, "call attorney", US + "inconvenient_time"),
    # a time-barred debt: no suit and no threat of suit
    ({"time_barred": True}, "refer legal", US + "time_barred"),
    ({"time_barred": True}, "preserve assets", US + "time_barred"),
    ({"time_barred": True}, "seek judgment", US + "time_barred"),
    ({"time_barred": True}, "notify borrower", US + "time_barred"),
    ({"time_barred": True}, "call borrower", None),
    ({"time_barred": True}, "refer vendor", None),
    # nothing else is touched
    ({}, "call borrower", None),
    ({}, "call contact", None),
]


def case_id(case: tuple[dict[str, Any], str, str | None]) -> str:
    facts, action, by = case
    given = ",".join(f"{k}={v}" for k, v in facts.items()) or "defaults"
    return f"{given}:{action}:{'suppressed' if by else 'out'}"


@pytest.mark.parametrize("case", CN_CASES, ids=case_id)
def test_cn_conduct_at_its_boundaries(case: tuple[dict[str, Any], str, str | None]) -> None:
    facts, action, by = case
    assert outcome(under("cn-conduct"), facts, action) == by


@pytest.mark.parametrize("case", US_CASES, ids=case_id)
def test_us_reg_f_at_its_boundaries(case: tuple[dict[str, Any], str, str | None]) -> None:
    facts, action, by = case
    assert outcome(under("us-reg-f"), facts, action) == by


# -- through retail.policy -------------------------------------------------------------

@cache
def retail() -> CompiledPolicy:
    return load_policy(POLICIES / "retail.policy")


D2 = {"overdue": 2, "due_in": 28, "periods_overdue": 1, "overdue_amount": "1062.67",
      "principal": "30000.00", "loan_type": "credit", "has_guarantor": True,
      "contact_status": "unreachable", "days_since_visit": 0}


def retail_actions(**facts: Any) -> tuple[str, ...]:
    return retail().evaluate({**D2, **facts}).action_strings()


@pytest.mark.parametrize(("hour", "actions"), [
    (21, ("call borrower using overdue_consequences", "sms borrower using overdue_reminder")),
    (22, ()),
    (7, ()),
    (8, ("call borrower using overdue_consequences", "sms borrower using overdue_reminder")),
])
def test_retail_is_silent_at_night(hour: int, actions: tuple[str, ...]) -> None:
    assert retail_actions(local_hour=hour) == actions


def test_retail_keeps_written_notices_and_court_steps_at_night() -> None:
    decision = retail().evaluate({**D2, "overdue": 8, "local_hour": 23,
                                  "over_indebted": True})
    assert decision.action_strings() == ("preserve assets",
                                         "notify borrower using overdue_notice",
                                         "notify guarantor using guarantor_demand")
    assert {s.by for s in decision.suppressed} == {CN + "quiet_hours"}


@pytest.mark.parametrize(("facts", "call"), [
    ({"unanswered_dials_today": 5}, True), ({"unanswered_dials_today": 6}, False),
    ({"connected_calls_today": 2}, True), ({"connected_calls_today": 3}, False),
])
def test_retail_stops_calling_at_the_daily_caps(facts: dict[str, Any], call: bool) -> None:
    actions = retail_actions(**facts)
    assert ("call borrower using overdue_consequences" in actions) is call
    assert "sms borrower using overdue_reminder" in actions


@pytest.mark.parametrize(("facts", "located"), [
    ({"contact_status": "changed"}, True),
    ({"contact_status": "changed", "local_hour": 22}, False),
    ({"contact_status": "reachable", "failed_attempts_in_a_row": 3}, False),
])
def test_retail_asks_contacts_only_for_contact_details(facts: dict[str, Any],
                                                       located: bool) -> None:
    actions = retail_actions(**facts)
    assert ("locate contact using contact_details" in actions) is located
    assert not any(action.startswith("call contact") for action in actions)


def test_retail_deceased_borrower_at_night_keeps_the_estate_steps() -> None:
    decision = retail().evaluate({**D2, "borrower_deceased": True, "local_hour": 23})
    assert decision.action_strings() == ("notify guarantor using guarantor_demand",
                                         "preserve assets")
    assert [(str(s), s.by) for s in decision.suppressed] == [
        ("negotiate heir using debt_assumption", CN + "quiet_hours")]


# -- the guards' intent, proved --------------------------------------------------------

@pytest.mark.parametrize("guard", ["cn-conduct", "us-reg-f"])
def test_check_proves_every_stated_intent(guard: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = GUARDS / f"{guard}.policy"
    stated = len(re.findall(r"^assert ", path.read_text("utf-8"), re.M))
    assert stated >= 15
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: ok ({stated} assertions proved)\n"


@pytest.mark.parametrize(("guard", "intent"), [
    ("cn-conduct", "assert local_hour == 21 -> no call borrower"),
    ("cn-conduct", "assert unanswered_dials_today == 5 -> no call borrower"),
    ("cn-conduct", "assert borrower_deceased -> no negotiate heir"),
    ("us-reg-f", "assert days_since_conversation == 7 days -> no call borrower"),
    ("us-reg-f", "assert cease_request -> no refer legal"),
])
def test_an_intent_the_guard_does_not_keep_is_refuted(
        guard: str, intent: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(POLICIES / "collection.schema.yaml", tmp_path / "collection.schema.yaml")
    (tmp_path / "guards").mkdir()
    path = tmp_path / "guards" / f"{guard}.policy"
    path.write_text((GUARDS / f"{guard}.policy").read_text("utf-8") + intent + "\n",
                    encoding="utf-8")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "E605" in out and intent in out


def test_retail_proves_its_assertions_with_cn_conduct_in_force(
        capsys: pytest.CaptureFixture[str]) -> None:
    path = POLICIES / "retail.policy"
    assert 'guards "guards/cn-conduct.policy"' in path.read_text("utf-8")
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.endswith("assertions proved)\n")


@pytest.mark.parametrize("guard", ["cn-conduct", "us-reg-f"])
def test_every_rule_names_its_source_and_every_threshold_is_a_param(guard: str) -> None:
    text = (GUARDS / f"{guard}.policy").read_text("utf-8")
    labels = re.findall(r'^rule \w+ "([^"]+)"', text, re.M)
    assert len(labels) == len(re.findall(r"^rule ", text, re.M)) >= 6
    source = r"12 CFR 1006\.\d+" if guard == "us-reg-f" else r"(指引|办法)"
    assert all(re.search(source, label) for label in labels)
    rules = text[text.index("\nrule "):text.index("\nassert ")]
    bodies = [line for line in rules.splitlines() if not line.startswith(("rule", "#"))]
    # no number in a condition: a digit only inside a name (calls_last_7d)
    assert not any(re.search(r"\b\d", line) for line in bodies)
