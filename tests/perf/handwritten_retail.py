"""policies/retail.policy coded by hand: the baseline the engine is measured against.

This is what a careful engineer would write without a rules engine: the schema's
facts as a table, a validating coercion with a fast path, the 45 rules as plain
`if` statements over local variables, and the contract's result semantics
(LANGUAGE.md, docs/semantics.md) implemented directly for this policy:

1. rules in priority order, then source order; the `final` rule `deceased`
   (priority 200) cuts off everything after it; the rules of the policy's guard
   (policies/guards/cn-conduct.policy) come before all of them and are never cut off;
2. `suppress VERB TARGET` removes the matching actions of the other matched
   rules (the three suppressing rules produce no actions of their own);
3. the same `verb target using` appears once, in the place of its first
   producer, listing every producer in evaluation order;
4. the result is ordered by the first producer's priority (high first), the
   action's catalogue stage (low first), then the position of the action's
   text in the policy file.

The input duties are the engine's too: every schema fact is checked (a missing
fact without a default, a value of the wrong type or outside min/max raises
`BadFacts` naming every bad fact, before any rule runs), defaults are applied,
money and decimals become exact `Decimal`s (from decimal strings, optionally
ending in the currency, ints, Decimals or floats through their repr).

`decide(facts)` returns `[(verb, target, using, (rule, ...)), ...]` in result
order. tests/test_handwritten_baseline.py checks that it agrees with the engine.
The params are the policy's defaults (a hand-coded policy hardcodes them).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# -- params (policies/retail.policy, at their default values) -------------------------
REMINDER_LEAD = 1
EARLY_REMINDER_LEAD = 3
NOTICE_LEAD = 7
DEBIT_WINDOW = 1
VISIT_DAY = 4
LETTER_DAY = 7
REVISIT_DAYS = 3
LETTER_INTERVAL = 30
WILFUL_LEGAL_DAY = 30
ACCELERATION_GRACE = 3
LEGAL_DAY = 90
CALL_CAP = 7
LONG_DELINQUENCY = 90
LIMITATION_PERIOD = 1095
LIMITATION_MARGIN = 90
SMALL_HOME_M2 = Decimal("90.0")
GUARANTEE_MARGIN = 366
RENEW_DEMAND_AFTER = LIMITATION_PERIOD - LIMITATION_MARGIN


# -- the facts (policies/collection.schema.yaml) --------------------------------------

class BadFacts(ValueError):
    """The facts do not fit the schema; `.problems` lists `(fact, message)` for every bad
    fact, in schema order. Nothing was evaluated."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()      # the "default" of a fact the caller must give
_MISSING: Any = object()
_BAD: Any = object()
ZERO = Decimal(0)

# Whole numbers (days, int): name, min, max, default.
_WHOLE = (
    ("overdue", 0, 3650, REQUIRED),
    ("due_in", 0, 366, REQUIRED),
    ("periods_overdue", 0, 600, REQUIRED),
    ("longest_overdue", 0, 3650, 0),
    ("days_to_limitation", -36500, 100000, 100000),
    ("days_to_guarantee_end", -36500, 100000, 100000),
    ("limitation_years", 1, 20, 3),
    ("guarantee_months", 1, 600, 6),
    ("days_since_letter", 0, 100000, 100000),
    ("days_since_written_demand", 0, 100000, 100000),
    ("days_since_visit", 0, 100000, 100000),
    ("days_since_acceleration", 0, 100000, 100000),
    ("calls_last_7d", 0, 1000, 0),
    ("local_hour", 0, 23, 10),
    ("unanswered_dials_today", 0, 1000, 0),
    ("connected_calls_today", 0, 1000, 0),
    ("failed_attempts_in_a_row", 0, 1000, 0),
    ("days_since_conversation", 0, 100000, 100000),
)
# Exact numbers (money, decimal): name, min, max, default, currency.
_EXACT = (
    ("overdue_amount", ZERO, Decimal(100000000), REQUIRED, "CNY"),
    ("principal", ZERO, Decimal(100000000), REQUIRED, "CNY"),
    ("account_balance", ZERO, Decimal(1000000000), ZERO, "CNY"),
    ("home_area_m2", ZERO, Decimal(10000), ZERO, None),
)
# Bools: name, default.
_BOOLS = (
    ("has_guarantor", REQUIRED),
    ("never_paid", False),
    ("matured", False),
    ("interest_overdue", False),
    ("interest_only", False),
    ("next_due_final", False),
    ("debit_failed", False),
    ("business_viable", False),
    ("over_indebted", False),
    ("borrower_deceased", False),
    ("borrower_missing", False),
    ("in_litigation", False),
    ("in_enforcement", False),
    ("only_home", False),
    ("home_bare_shell", False),
    ("guarantor_notified", False),
    ("branch_notified", False),
    ("referred_legal", False),
    ("blacklisted", False),
    ("night_contact_consent", False),
    ("written_dispute", False),
    ("cease_request", False),
    ("has_attorney", False),
    ("time_barred", False),
)
# Enums: name, values, default.
_ENUMS = (
    ("loan_type", frozenset({"credit", "guaranteed", "mortgage", "pledge"}), REQUIRED),
    ("contact_status", frozenset({"reachable", "unreachable", "changed", "lost"}), REQUIRED),
    ("ability", frozenset({"good", "poor", "unknown"}), "unknown"),
    ("willingness", frozenset({"good", "poor", "unknown"}), "unknown"),
    ("cause", frozenset({"none", "weak_discipline", "cash_gap", "lost_ability", "disaster",
                         "business_stopped", "business_changed", "illness",
                         "wilful_default"}), "none"),
)
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)").fullmatch


def _whole(value: Any) -> Any:
    """A whole number from an int, or an integral float or Decimal; never a bool."""
    if isinstance(value, bool | str):
        return _BAD
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else _BAD
    if isinstance(value, float):
        return int(value) if value.is_integer() else _BAD
    if isinstance(value, numbers.Integral):
        return int(value)
    return _BAD


def _exact(value: Any, currency: str | None) -> Any:
    """An exact Decimal from a decimal string (maybe ending in the currency), an int, a
    finite Decimal or a float (through its repr); never a bool."""
    if isinstance(value, str):
        text = value.strip()
        if currency and text.endswith(currency):
            text = text[: -len(currency)].rstrip()
        return Decimal(text) if _DECIMAL_TEXT(text) else _BAD
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, Decimal):
        return value if value.is_finite() else _BAD
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else _BAD
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    return _BAD


def _coerce(facts: Mapping[str, Any]) -> list[Any]:
    """Every fact's value (whole, exact, bools, enums; each group in table order).
    The fast path takes values already in their run-time form and decimal strings;
    anything else goes through `_coerce_slowly`, which also reports the problems."""
    try:
        get = facts.get
    except AttributeError:
        raise BadFacts([("", f"facts must be a mapping, got {type(facts).__name__}")]) from None
    values: list[Any] = []
    append = values.append
    try:
        for name, low, high, default in _WHOLE:
            value = get(name, default)
            if type(value) is not int or not low <= value <= high:
                return _coerce_slowly(facts)
            append(value)
        for name, low, high, default, _ in _EXACT:
            value = get(name, default)
            if type(value) is str and _DECIMAL_TEXT(value):
                value = Decimal(value)
            elif type(value) is not Decimal:
                return _coerce_slowly(facts)
            if not low <= value <= high:
                return _coerce_slowly(facts)
            append(value)
        for name, default in _BOOLS:
            value = get(name, default)
            if value is not True and value is not False:
                return _coerce_slowly(facts)
            append(value)
        for name, allowed, default in _ENUMS:
            value = get(name, default)
            if type(value) is not str or value not in allowed:
                return _coerce_slowly(facts)
            append(value)
    except ArithmeticError:                      # a NaN Decimal compared with a bound
        return _coerce_slowly(facts)
    return values


def _coerce_slowly(facts: Mapping[str, Any]) -> list[Any]:
    """The full conversion of every fact; BadFacts naming every bad one."""
    values: list[Any] = []
    problems: list[tuple[str, str]] = []

    def bad(name: str, expected: str, value: Any) -> None:
        given = "nothing" if value is _MISSING else repr(value)
        problems.append((name, f"fact `{name}`: expected {expected}, got {given}"))

    for name, low, high, default in _WHOLE:
        value = facts.get(name, _MISSING)
        result = (default if value is _MISSING else _whole(value))
        if result is REQUIRED or result is _BAD or not low <= result <= high:
            bad(name, f"a whole number between {low} and {high}", value)
        values.append(result)
    for name, low, high, default, currency in _EXACT:
        value = facts.get(name, _MISSING)
        result = (default if value is _MISSING else _exact(value, currency))
        if result is REQUIRED or result is _BAD or not low <= result <= high:
            bad(name, f"a number between {low} and {high}", value)
        values.append(result)
    for name, default in _BOOLS:
        value = facts.get(name, _MISSING)
        result = default if value is _MISSING else value
        if result is not True and result is not False:
            bad(name, "true or false", value)
        values.append(result)
    for name, allowed, default in _ENUMS:
        value = facts.get(name, _MISSING)
        result = default if value is _MISSING else value
        if not isinstance(result, str) or result not in allowed:
            bad(name, "one of " + ", ".join(sorted(allowed)), value)
        values.append(result)
    if problems:
        order = {name: i for i, name in enumerate(SCHEMA_ORDER)}
        raise BadFacts(sorted(problems, key=lambda problem: order[problem[0]]))
    return values


SCHEMA_ORDER = (
    "overdue", "due_in", "periods_overdue", "overdue_amount", "principal", "loan_type",
    "has_guarantor", "contact_status", "never_paid", "matured", "interest_overdue",
    "interest_only", "next_due_final", "debit_failed", "account_balance", "longest_overdue",
    "days_to_limitation", "days_to_guarantee_end", "limitation_years", "guarantee_months",
    "ability", "willingness", "cause", "business_viable", "over_indebted",
    "borrower_deceased", "borrower_missing", "in_litigation", "in_enforcement", "only_home",
    "home_area_m2", "home_bare_shell", "days_since_letter", "days_since_written_demand",
    "days_since_visit", "days_since_acceleration", "calls_last_7d", "guarantor_notified",
    "branch_notified", "referred_legal", "blacklisted", "local_hour", "night_contact_consent",
    "unanswered_dials_today", "connected_calls_today", "failed_attempts_in_a_row",
    "days_since_conversation", "written_dispute", "cease_request", "has_attorney",
    "time_barred",
)


# -- what the rules produce ------------------------------------------------------------
# Each produced action is (rank, (verb, target, using), rule). The rank sorts by the
# rule's priority (high first), the verb's stage, then the position of the action's
# text in the policy file (`position` counts action texts from the top of the file).

_STAGE = {"call": 1, "sms": 1, "locate": 1, "monitor": 1, "visit": 2, "negotiate": 2,
          "restructure": 2, "notify": 3, "blacklist": 4, "preserve": 5, "refer": 5, "seek": 5,
          "enforce": 6, "freeze": 6}

Produced = tuple[int, tuple[str, str, str | None], str]
_PRODUCED: list[Produced] = []          # every constant below, for the suppression sets


def _p(priority: int, position: int, rule: str, action: str) -> Produced:
    """`action` is written as in the policy: `verb target [using template]`."""
    verb, target, *rest = action.split()
    using = rest[1] if rest else None
    rank = (1000 - priority) * 100_000 + _STAGE[verb] * 1000 + position
    produced = (rank, (verb, target, using), rule)
    _PRODUCED.append(produced)
    return produced


DECEASED_GUARANTOR = _p(200, 1, "deceased_guarantor", "notify guarantor using guarantor_demand")
DECEASED_HEIR = _p(200, 2, "deceased", "negotiate heir using debt_assumption")
DECEASED_PRESERVE = _p(200, 3, "deceased", "preserve assets")
PRESERVE_AT_ONCE = _p(50, 4, "preserve_at_once", "preserve assets")
ILL_FAMILY = _p(50, 5, "gravely_ill", "negotiate family using debt_assumption")
ILL_PRESERVE = _p(50, 6, "gravely_ill", "preserve assets")
REMIND = _p(0, 7, "remind", "call borrower using repayment_reminder")
REMIND_SMS = _p(0, 8, "remind_sms", "sms borrower using repayment_reminder")
EARLY_REMIND = _p(0, 9, "early_remind", "call borrower using repayment_reminder")
MONITOR_DEBIT = _p(0, 10, "debit_check", "monitor auto_debit")
DEBIT_RETRY = _p(0, 11, "debit_retry", "call borrower using repayment_reminder")
INTEREST_NOTICE = _p(0, 12, "interest_notice", "notify borrower using interest_reminder")
MATURITY_NOTICE = _p(0, 13, "maturity_notice", "notify borrower using maturity_reminder")
FIRST_VISIT = _p(0, 14, "first_visit", "visit borrower using credit_consequences")
DAILY_CALLS = _p(0, 15, "daily_calls", "call borrower using overdue_consequences")
SITE_VISITS = _p(0, 16, "site_visits", "visit borrower using business_review")
SMS_AT_CAP = _p(0, 17, "sms_at_cap", "sms borrower using overdue_reminder")
GUARANTOR_JOINT = _p(0, 18, "guarantor_joint", "call guarantor using joint_collection")
OVERDUE_LETTER = _p(0, 19, "overdue_letter", "notify borrower using overdue_notice")
GUARANTOR_LIABILITY = _p(0, 20, "guarantor_liability", "notify guarantor using guarantor_demand")
INTEREST_ARREARS = _p(0, 21, "interest_arrears_notice", "notify borrower using interest_demand")
MATURED_NOTICE = _p(0, 22, "matured_notice", "notify borrower using matured_demand")
LIMITATION = _p(0, 23, "limitation", "notify borrower using overdue_demand")
FIRST_PAYMENT_DEFAULT = _p(0, 24, "first_payment_default",
                           "notify branch using branch_verification")
LOCATE_CONTACTS = _p(0, 25, "locate_contacts", "locate contact using contact_details")
OVERDUE_SMS = _p(0, 26, "overdue_sms", "sms borrower using overdue_reminder")
PRESS_UNWILLING = _p(0, 27, "press_unwilling", "negotiate borrower using legal_costs")
WILLING_UNABLE = _p(0, 28, "willing_unable", "negotiate borrower using repayment_plan")
MONITOR_ACCOUNT = _p(0, 29, "cash_gap_watch", "monitor account")
CASH_GAP_COLLECT = _p(0, 30, "cash_gap_collect", "call borrower using collect_now")
SELL_ASSETS = _p(0, 31, "sell_assets", "negotiate borrower using asset_sale")
INSURANCE = _p(0, 32, "insurance", "negotiate borrower using insurance_proceeds")
DISASTER_RELIEF = _p(0, 33, "disaster_relief", "restructure borrower using extension")
RESCUE_FUNDING = _p(0, 34, "rescue_funding", "restructure borrower using rescue_loan")
CHANGED_BUSINESS = _p(0, 35, "changed_business", "negotiate borrower using additional_security")
ACCELERATE = _p(0, 36, "accelerate", "notify borrower using acceleration_notice")
SUE = _p(0, 37, "sue", "refer legal")
DISPOSE_PLEDGE = _p(0, 38, "dispose_pledge", "enforce pledge")
TRIAGE_JUDGMENT = _p(0, 39, "triage_judgment", "seek judgment")
TRIAGE_MEDIATION = _p(0, 40, "triage_mediation", "seek mediation")
ENFORCE_SEVERAL = _p(0, 41, "enforce_several", "enforce collateral using auction")
SWAP_HOME = _p(0, 42, "swap_home", "enforce collateral using swap_big_for_small")
SMALL_HOME_NEGOTIATE = _p(0, 43, "small_home", "negotiate borrower using refinance_home")
SMALL_HOME_FREEZE = _p(0, 44, "small_home", "freeze deposits")
BLACKLIST = _p(0, 45, "blacklist_long_delinquency", "blacklist borrower")
LIMITATION_DEMAND = _p(0, 46, "limitation_demand", "notify borrower using overdue_demand")
GUARANTEE_DEMAND = _p(0, 47, "guarantee_demand", "notify guarantor using guarantor_demand")

def _keys(verb: str, target: str) -> frozenset[tuple[str, str, str | None]]:
    """The keys of every action `suppress VERB TARGET` matches (any template)."""
    return frozenset(key for _, key, _ in _PRODUCED if key[0] == verb and key[1] == target)


NO_SUPPRESSION: frozenset[tuple[str, str, str | None]] = frozenset()
NO_CALL = _keys("call", "borrower")                                    # contact_cap, wrong_number
BORROWER_GONE = NO_CALL | _keys("sms", "borrower") | _keys("visit", "borrower") \
    | _keys("negotiate", "borrower")                                   # borrower_gone

# guards/cn-conduct.policy, at its params (quiet 22:00-08:00, 6 unanswered dials and 3
# connected calls a day, lost after 3 failed attempts in a row). Its rule on `call
# contact` matches nothing retail produces.
QUIET_FROM, QUIET_UNTIL = 22, 8
UNANSWERED_DIAL_CAP, CONNECTED_CALL_CAP, FAILED_ATTEMPTS_LOST = 6, 3, 3
GUARD_QUIET = frozenset(key for _, key, _ in _PRODUCED if key[0] in {
    "call", "sms", "locate", "visit", "negotiate", "restructure"})
GUARD_LOCATE = _keys("locate", "contact")
GUARD_DECEASED = NO_CALL | _keys("sms", "borrower") | _keys("visit", "borrower") \
    | _keys("negotiate", "borrower") | _keys("restructure", "borrower") \
    | _keys("notify", "borrower") | _keys("negotiate", "family") | GUARD_LOCATE


def _resolve(produced: list[Produced], suppressed: frozenset[tuple[str, str, str | None]]
             ) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    """Suppress, merge duplicates (first producer's place, every producer), order."""
    if len(produced) == 1:
        _, key, rule = produced[0]
        return [] if key in suppressed else [(*key, (rule,))]
    produced.sort()
    out: list[tuple[tuple[str, str, str | None], list[str]]] = []
    where: dict[tuple[str, str, str | None], int] = {}
    for _, key, rule in produced:
        if key in suppressed:
            continue
        slot = where.get(key)
        if slot is None:
            where[key] = len(out)
            out.append((key, [rule]))
        else:
            out[slot][1].append(rule)
    return [(*key, tuple(rules)) for key, rules in out]


# -- the policy ------------------------------------------------------------------------

def decide(facts: Mapping[str, Any]) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    """The ordered actions of policies/retail.policy for one loan:
    `[(verb, target, using, (rule, ...)), ...]`. BadFacts when the facts are wrong."""
    (overdue, due_in, periods_overdue, longest_overdue, days_to_limitation,
     days_to_guarantee_end, _limitation_years, _guarantee_months, days_since_letter,
     days_since_written_demand, days_since_visit, days_since_acceleration, calls_last_7d,
     local_hour, unanswered_dials_today, connected_calls_today, failed_attempts_in_a_row,
     _days_since_conversation,
     overdue_amount, _principal, account_balance, home_area_m2,
     has_guarantor, never_paid, matured, interest_overdue, interest_only, next_due_final,
     debit_failed, business_viable, over_indebted, borrower_deceased, borrower_missing,
     in_litigation, in_enforcement, only_home, home_bare_shell, guarantor_notified,
     branch_notified, referred_legal, blacklisted, night_contact_consent,
     _written_dispute, _cease_request, _has_attorney, _time_barred,
     loan_type, contact_status, ability, willingness, cause) = _coerce(facts)

    in_arrears = overdue >= 1
    produced: list[Produced] = []
    add = produced.append

    # The guard's suppressions come first and apply to everything below.
    guarded = NO_SUPPRESSION
    if (local_hour >= QUIET_FROM or local_hour < QUIET_UNTIL) and not night_contact_consent:
        guarded = GUARD_QUIET
    if (unanswered_dials_today >= UNANSWERED_DIAL_CAP
            or connected_calls_today >= CONNECTED_CALL_CAP):
        guarded = guarded | NO_CALL
    if not (contact_status in {"changed", "lost"} or borrower_missing
            or failed_attempts_in_a_row >= FAILED_ATTEMPTS_LOST):
        guarded = guarded | GUARD_LOCATE
    if borrower_deceased:
        guarded = guarded | GUARD_DECEASED

    # Priority 200. `deceased` is final: nothing after it is tried.
    if borrower_deceased:
        if has_guarantor and in_arrears and not guarantor_notified:
            add(DECEASED_GUARANTOR)
        add(DECEASED_HEIR)
        add(DECEASED_PRESERVE)
        return _resolve(produced, guarded)

    # Priority 100: who must not be called or visited.
    number_wrong = contact_status in {"changed", "lost"}
    if borrower_missing:
        suppressed = BORROWER_GONE
    elif calls_last_7d >= CALL_CAP or number_wrong:
        suppressed = NO_CALL
    else:
        suppressed = NO_SUPPRESSION

    # Priority 50: control the assets first.
    if over_indebted or borrower_missing:
        add(PRESERVE_AT_ONCE)
    if cause == "illness" and in_arrears:
        add(ILL_FAMILY)
        add(ILL_PRESERVE)

    # Priority 0.
    if due_in <= DEBIT_WINDOW and not matured:
        add(MONITOR_DEBIT)
    if due_in == NOTICE_LEAD:
        if interest_only and not next_due_final:
            add(INTEREST_NOTICE)
        if next_due_final:
            add(MATURITY_NOTICE)
    if longest_overdue >= LONG_DELINQUENCY and not blacklisted:
        add(BLACKLIST)
    if not in_arrears:                                  # current
        if due_in == REMINDER_LEAD:                     # pre_due
            add(REMIND)
            if contact_status == "unreachable":
                add(REMIND_SMS)
        if due_in == EARLY_REMINDER_LEAD and cause == "weak_discipline":
            add(EARLY_REMIND)
        if due_in <= DEBIT_WINDOW:                      # payment_window
            if debit_failed:
                add(DEBIT_RETRY)
            if number_wrong or borrower_missing:
                add(LOCATE_CONTACTS)
    else:                                               # in arrears
        cannot_reach = contact_status == "lost" or borrower_missing
        in_court = in_litigation or in_enforcement
        add(DAILY_CALLS)
        if days_since_visit >= REVISIT_DAYS:
            add(SITE_VISITS if overdue >= VISIT_DAY else FIRST_VISIT)
        if calls_last_7d >= CALL_CAP:
            add(SMS_AT_CAP)
        if has_guarantor and (overdue >= VISIT_DAY or cannot_reach):
            add(GUARANTOR_JOINT)
        if (overdue >= LETTER_DAY and days_since_letter >= LETTER_INTERVAL
                and not matured and not interest_overdue):
            add(OVERDUE_LETTER)
        if has_guarantor and not guarantor_notified and (
                overdue >= LETTER_DAY
                or (loan_type == "guaranteed" and overdue >= VISIT_DAY)
                or cannot_reach):
            add(GUARANTOR_LIABILITY)
        if (interest_overdue and not matured and overdue >= LETTER_DAY
                and days_since_written_demand >= LETTER_INTERVAL):
            add(INTEREST_ARREARS)
        if matured and days_since_written_demand >= LETTER_INTERVAL:
            add(MATURED_NOTICE)
        if (overdue >= RENEW_DEMAND_AFTER and days_since_written_demand >= RENEW_DEMAND_AFTER
                and not in_court):
            add(LIMITATION)
        if 0 <= days_to_limitation <= LIMITATION_MARGIN and not in_court:
            add(LIMITATION_DEMAND)
        if has_guarantor and matured and 0 <= days_to_guarantee_end <= GUARANTEE_MARGIN:
            add(GUARANTEE_DEMAND)
        if number_wrong or borrower_missing:
            add(LOCATE_CONTACTS)
        if contact_status == "unreachable":
            add(OVERDUE_SMS)

        able_unwilling = cause == "wilful_default" or (ability == "good"
                                                       and willingness == "poor")
        if able_unwilling:
            add(PRESS_UNWILLING)
        if ability == "poor" and willingness == "good":
            add(WILLING_UNABLE)
        restructure_case = False
        if cause == "cash_gap":
            add(MONITOR_ACCOUNT)
            if account_balance >= overdue_amount:
                add(CASH_GAP_COLLECT)
        elif cause in {"disaster", "lost_ability"}:
            if not business_viable:
                add(SELL_ASSETS)
                if cause == "disaster":
                    add(INSURANCE)
            elif willingness != "poor":
                restructure_case = True
                add(DISASTER_RELIEF if cause == "disaster" else RESCUE_FUNDING)
        elif cause == "business_stopped":
            if not business_viable:
                add(SELL_ASSETS)
        elif cause == "business_changed":
            add(CHANGED_BUSINESS)

        if (not in_court and not restructure_case
                and (overdue >= LEGAL_DAY or (able_unwilling and overdue >= WILFUL_LEGAL_DAY))):
            accelerated = days_since_acceleration < overdue
            if not matured and not accelerated and not referred_legal:
                add(ACCELERATE)
            if not referred_legal and (
                    matured or (accelerated and days_since_acceleration >= ACCELERATION_GRACE)):
                add(SUE)
        if loan_type == "pledge" and overdue >= LEGAL_DAY and not in_court:
            add(DISPOSE_PLEDGE)

    # Rules that do not depend on the loan being current or in arrears.
    if never_paid and periods_overdue >= 2 and not branch_notified:
        add(FIRST_PAYMENT_DEFAULT)
    if in_litigation and not in_enforcement:
        family_home_at_risk = only_home and ability == "poor" and not home_bare_shell
        add(TRIAGE_MEDIATION if family_home_at_risk else TRIAGE_JUDGMENT)
    if in_enforcement and loan_type == "mortgage":
        if not only_home:
            add(ENFORCE_SEVERAL)
        elif home_area_m2 >= SMALL_HOME_M2:
            add(SWAP_HOME)
        else:
            add(SMALL_HOME_NEGOTIATE)
            add(SMALL_HOME_FREEZE)

    if not produced:
        return []
    return _resolve(produced, suppressed | guarded if guarded else suppressed)
