"""A seeded generator of realistic loan facts for policies/collection.schema.yaml.

`generate_loans(n, seed)` returns `n` complete facts objects, JSON-like: ints for
days and int facts, decimal strings for money and decimal facts, strings for
enums, bools for bools. Every fact of the schema is present and inside its
min/max. The mix follows a retail book on a given day:

- most loans are current (about 70%), the payment window and the pre-due days
  come up as often as they do in a monthly schedule;
- of the overdue ones most are a few days late, with a tail to 400+ days and a
  few past the three-year limitation margin;
- a guarantor stands behind about 40% of the loans (every `guaranteed` one);
- every loan type, contact status, cause, ability and willingness occurs;
  death, disappearance, over-indebtedness, litigation and enforcement are rare;
- history facts (days since letter/visit/demand, calls in the last 7 days,
  ever-flags) are consistent with how long the loan has been overdue;
- conduct facts (docs/guards.md): decisions fall in office hours with a thin
  tail before 08:00 and after 21:00; today's dials and failed attempts grow
  when the borrower does not answer; disputes, cease requests and attorneys
  are rare, and only a debt past the three-year limitation is time-barred.

Only `random.Random(seed)` is used, so the same `(n, seed)` gives the same loans
on every machine and Python version.
"""

from __future__ import annotations

import random
from typing import Any

DEFAULT_SEED = 20261129
NEVER = 100000                       # the schema's "never happened" for days_since_* facts

_LOAN_TYPES = ("credit", "guaranteed", "mortgage", "pledge")
_LOAN_TYPE_WEIGHTS = (45, 20, 25, 10)
_CAUSES_OVERDUE = ("none", "weak_discipline", "cash_gap", "lost_ability", "disaster",
                   "business_stopped", "business_changed", "illness", "wilful_default")
_CAUSE_WEIGHTS = (40, 18, 14, 6, 4, 5, 5, 2, 6)
_LEVELS = ("good", "poor", "unknown")
_PRINCIPAL = {"credit": (3_000, 200_000), "guaranteed": (10_000, 500_000),
              "mortgage": (150_000, 3_000_000), "pledge": (10_000, 800_000)}


def _money(rng: random.Random, low: float, high: float) -> str:
    """A decimal string with two places between low and high (in yuan)."""
    cents = rng.randint(round(low * 100), round(high * 100))
    return f"{cents // 100}.{cents % 100:02d}"


def _cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int(frac or 0)


def _overdue_days(rng: random.Random) -> int:
    """Days overdue: mostly current, a few days late, a tail to 400+ (and beyond)."""
    roll = rng.random()
    if roll < 0.70:
        return 0
    if roll < 0.82:
        return rng.randint(1, 7)
    if roll < 0.89:
        return rng.randint(8, 30)
    if roll < 0.94:
        return rng.randint(31, 90)
    if roll < 0.98:
        return rng.randint(91, 400)
    if roll < 0.995:
        return rng.randint(401, 1100)
    return rng.randint(1101, 3650)


def _since(rng: random.Random, overdue: int, chance: float) -> int:
    """Days since something that, with `chance`, happened during this delinquency."""
    if overdue > 0 and rng.random() < chance:
        return rng.randint(0, overdue)
    return NEVER if rng.random() < 0.85 else rng.randint(overdue + 1, overdue + 2000)


def _loan(rng: random.Random) -> dict[str, Any]:
    loan_type = rng.choices(_LOAN_TYPES, _LOAN_TYPE_WEIGHTS)[0]
    has_guarantor = loan_type == "guaranteed" or rng.random() < 0.25
    principal = _money(rng, *_PRINCIPAL[loan_type])
    terms = rng.choice((12, 24, 36, 60, 120, 240, 360) if loan_type == "mortgage"
                       else (6, 12, 24, 36))
    instalment = _cents(principal) * 105 // (100 * terms) + 1     # cents, with interest

    overdue = _overdue_days(rng)
    current = overdue == 0
    interest_only = rng.random() < 0.08
    matured = not current and rng.random() < (0.35 if overdue > 180 else 0.06)
    periods_overdue = min(600, 0 if current else 1 + overdue // 30)
    if matured:
        due_in = 0
    elif current:
        due_in = rng.randint(0, 30) if rng.random() < 0.9 else rng.randint(31, 366)
    else:
        due_in = (30 - overdue % 30) % 30
    overdue_amount = "0.00" if current else (
        f"{instalment * periods_overdue // 100}.{instalment * periods_overdue % 100:02d}")
    next_due_final = current and not matured and rng.random() < 0.03
    never_paid = not current and periods_overdue <= 6 and rng.random() < 0.05

    # Contact gets worse the longer the loan is overdue.
    late = min(1.0, overdue / 180)
    contact_status = rng.choices(
        ("reachable", "unreachable", "changed", "lost"),
        (80 - 40 * late, 10 + 10 * late, 6 + 10 * late, 4 + 20 * late))[0]

    if current and rng.random() < 0.9:
        cause, ability, willingness = "none", "unknown", "unknown"
    else:
        cause = rng.choices(_CAUSES_OVERDUE, _CAUSE_WEIGHTS)[0]
        ability = rng.choices(_LEVELS, (40, 25, 35))[0]
        willingness = rng.choices(_LEVELS, (45, 20, 35))[0]
    business_viable = (cause in ("disaster", "lost_ability", "business_stopped")
                       and rng.random() < 0.4) or rng.random() < 0.02

    borrower_deceased = rng.random() < 0.003
    borrower_missing = rng.random() < (0.02 if overdue > 30 else 0.002)
    over_indebted = rng.random() < (0.04 if overdue > 60 else 0.005)
    in_litigation = overdue > 60 and rng.random() < (0.25 if overdue > 120 else 0.05)
    in_enforcement = overdue > 120 and rng.random() < 0.08
    if loan_type == "mortgage":
        only_home = rng.random() < 0.6
        home_area_m2 = f"{rng.randint(350, 2200) / 10:.1f}"
        home_bare_shell = rng.random() < 0.1
    else:
        only_home = rng.random() < 0.05
        home_area_m2 = "0"
        home_bare_shell = False

    history = rng.choice((3, 5, 12, 20, 45, 95, 200)) if rng.random() < 0.15 else 0
    longest_overdue = max(overdue, history)
    days_since_letter = _since(rng, max(0, overdue - 7), 0.7)
    days_since_written_demand = min(days_since_letter, _since(rng, overdue, 0.3))
    days_since_visit = _since(rng, max(0, overdue - 4), 0.6)
    days_since_acceleration = _since(rng, overdue, 0.5 if overdue >= 90 else 0.03)
    calls_last_7d = 0 if current and rng.random() < 0.95 else min(
        1000, rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 10, 14)))
    balance = rng.random()
    account_balance = (_money(rng, 0, 500) if balance < 0.4
                       else _money(rng, 0, 30_000) if balance < 0.9
                       else _money(rng, 30_000, 400_000))

    conduct = _conduct(rng, overdue, contact_status)
    facts = {
        "overdue": overdue,
        "due_in": due_in,
        "periods_overdue": periods_overdue,
        "overdue_amount": overdue_amount,
        "principal": principal,
        "loan_type": loan_type,
        "has_guarantor": has_guarantor,
        "contact_status": contact_status,
        "never_paid": never_paid,
        "matured": matured,
        "interest_overdue": interest_only and not current and rng.random() < 0.7,
        "interest_only": interest_only,
        "next_due_final": next_due_final,
        "debit_failed": current and due_in <= 1 and rng.random() < 0.15,
        "account_balance": account_balance,
        "longest_overdue": longest_overdue,
        "ability": ability,
        "willingness": willingness,
        "cause": cause,
        "business_viable": business_viable,
        "over_indebted": over_indebted,
        "borrower_deceased": borrower_deceased,
        "borrower_missing": borrower_missing,
        "in_litigation": in_litigation,
        "in_enforcement": in_enforcement,
        "only_home": only_home,
        "home_area_m2": home_area_m2,
        "home_bare_shell": home_bare_shell,
        "days_since_letter": days_since_letter,
        "days_since_written_demand": days_since_written_demand,
        "days_since_visit": days_since_visit,
        "days_since_acceleration": days_since_acceleration,
        "calls_last_7d": calls_last_7d,
        "guarantor_notified": has_guarantor and overdue > 7 and rng.random() < 0.5,
        "branch_notified": never_paid and rng.random() < 0.5,
        "referred_legal": overdue > 90 and rng.random() < 0.3,
        "blacklisted": longest_overdue >= 90 and rng.random() < 0.3,
        **conduct,
    }
    facts.update(_deadlines(facts, terms))
    return facts


def _conduct(rng: random.Random, overdue: int, contact_status: str) -> dict[str, Any]:
    """The facts the guards read: the hour, today's calls, the borrower's requests."""
    hour = rng.randint(9, 20) if rng.random() < 0.94 else rng.choice((6, 7, 8, 21, 22, 23))
    silent = contact_status == "unreachable"
    calling = overdue > 0 or rng.random() < 0.05
    unanswered = rng.choice((0, 1, 2, 3, 5, 6, 7) if silent else (0, 0, 0, 0, 1)) \
        if calling else 0
    connected = 0 if silent or not calling else rng.choice((0,) * 8 + (1, 1, 2, 3))
    failed = rng.choice((1, 2, 3, 3, 5, 8)) if silent else rng.choice((0, 0, 0, 1, 2))
    talked = calling and not silent and rng.random() < 0.6
    return {
        "local_hour": hour,
        "night_contact_consent": rng.random() < 0.01,
        "unanswered_dials_today": unanswered,
        "connected_calls_today": connected,
        "failed_attempts_in_a_row": failed,
        "days_since_conversation": rng.randint(0, min(overdue, 30)) if talked else NEVER,
        "written_dispute": overdue > 0 and rng.random() < 0.005,
        "cease_request": overdue > 30 and rng.random() < 0.003,
        "has_attorney": overdue > 60 and rng.random() < 0.01,
        "time_barred": overdue > 1095 and rng.random() < 0.5,
    }


def _deadlines(facts: dict[str, Any], terms: int) -> dict[str, Any]:
    """days_to_limitation and days_to_guarantee_end, consistent with the loan: three years
    (1096 days) from maturity, restarted by the last written demand; six months (182 days)
    after maturity for a guarantor, 100000 once demanded within it or without one. Drawn
    from their own generator, seeded by the loan, so the other facts keep their values."""
    rng = random.Random(f"deadlines {facts['principal']} {facts['overdue']} "
                        f"{facts['account_balance']}")
    if facts["matured"]:
        since_maturity = rng.randint(0, facts["overdue"])
        remaining = -since_maturity
    else:
        remaining = rng.randint(1, 30 * terms)          # days to the last due date
    restarted = min(facts["days_since_written_demand"], max(0, -remaining))
    to_limitation = max(-36500, 1096 + remaining + (max(0, -remaining) - restarted))
    demanded = facts["guarantor_notified"] and rng.random() < 0.6
    to_guarantee = (182 + remaining if facts["has_guarantor"] and not demanded
                    else 100000)
    return {"days_to_limitation": min(100000, to_limitation),
            "days_to_guarantee_end": max(-36500, min(100000, to_guarantee)),
            "limitation_years": 3, "guarantee_months": 6}


def generate_loans(n: int, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """`n` complete, valid facts objects; the same `(n, seed)` always gives the same list
    (and a longer list starts with the shorter one)."""
    rng = random.Random(seed)
    return [_loan(rng) for _ in range(n)]
