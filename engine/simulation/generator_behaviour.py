"""Borrower behaviour for the portfolio generator: who pays what when, and which facts
change over a loan's life.

Stage: inside `generator.py`, after a loan's terms are drawn and before its rows are
built. Input: a seeded `random.Random`, the instalment schedule, the loan type.
Output: the payments (`plan_payments`) and the fact changes (`draw_changes`), each
consistent with the other: events follow from when the loan actually fell behind.
Must not: use global random state or floats for money, or know about files or columns.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import TypeVar

import attrs

CENT = Decimal("0.01")
DAY = timedelta(days=1)
T = TypeVar("T")
Schedule = tuple[tuple[date, Decimal], ...]   # (due date, amount due), in order
Cash = list[tuple[date, Decimal]]             # (payment date, amount)
Changes = dict[str, list[tuple[date, str]]]   # fact -> (date, new value as CSV text)


class Behaviour(StrEnum):
    """How a borrower repays; drawn once per loan and kept out of the CSV files."""

    ON_TIME = "on_time"
    EARLY = "early"
    LATE_CURE = "late_cure"
    CHRONIC_LATE = "chronic_late"
    PARTIAL = "partial"
    CATCH_UP = "catch_up"
    OVERPAY = "overpay"
    EARLY_REPAYMENT = "early_repayment"
    DEFAULT = "default"
    FIRST_PAYMENT_DEFAULT = "first_payment_default"


B = Behaviour
DEFAULT_MIX: Mapping[Behaviour, int] = {
    B.ON_TIME: 34, B.EARLY: 8, B.LATE_CURE: 12, B.CHRONIC_LATE: 6, B.PARTIAL: 8,
    B.CATCH_UP: 6, B.OVERPAY: 5, B.EARLY_REPAYMENT: 6, B.DEFAULT: 11,
    B.FIRST_PAYMENT_DEFAULT: 4}
_MIN_INSTALMENTS = {B.CATCH_UP: 2, B.OVERPAY: 2, B.EARLY_REPAYMENT: 2, B.DEFAULT: 2}
DELINQUENT = frozenset({B.LATE_CURE, B.CHRONIC_LATE, B.PARTIAL, B.CATCH_UP})
DEFAULTING = frozenset({B.DEFAULT, B.FIRST_PAYMENT_DEFAULT})


@attrs.frozen
class Profile:
    """What collection finds out at its first visit (day 4 overdue); hidden before."""

    cause: str = "none"
    ability: str = "good"
    willingness: str = "good"
    business_viable: bool = False
    over_indebted: bool = False
    fate: str = "none"   # none, deceased or missing


P = Profile
_PROFILES: Mapping[Behaviour, tuple[tuple[int, Profile], ...]] = {
    B.LATE_CURE: ((6, P("weak_discipline")), (4, P("cash_gap"))),
    B.CHRONIC_LATE: ((1, P("weak_discipline")),),
    B.PARTIAL: ((5, P("cash_gap", "poor")), (3, P("lost_ability", "poor", business_viable=True)),
                (2, P("illness", "poor"))),
    B.CATCH_UP: ((7, P("cash_gap", "poor")), (3, P("disaster", "poor", business_viable=True))),
    B.DEFAULT: (
        (20, P("wilful_default", "good", "poor")),
        (15, P("lost_ability", "poor")),
        (6, P("lost_ability", "poor", business_viable=True)),
        (12, P("business_stopped", "poor", "unknown")),
        (8, P("business_changed", "unknown", "poor")),
        (6, P("disaster", "poor")),
        (4, P("disaster", "poor", business_viable=True)),
        (8, P("illness", "poor")),
        (10, P("none", "poor", "unknown", fate="deceased")),
        (7, P("lost_ability", "poor", "unknown", over_indebted=True)),
        (8, P("none", "unknown", "poor", fate="missing"))),
    B.FIRST_PAYMENT_DEFAULT: (
        (4, P("none", "unknown", "poor", fate="missing")),
        (3, P("wilful_default", "good", "poor")),
        (3, P("none", "poor", "unknown", over_indebted=True))),
}


def draw_profile(rng: random.Random, behaviour: Behaviour) -> Profile:
    """The hidden truth about a borrower, consistent with how they repay."""
    return pick(rng, _PROFILES.get(behaviour, ((1, Profile()),)))


def cell_text(value: object) -> str:
    """A value as CSV cell text: bools as true/false, Decimals as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pick(rng: random.Random, table: Sequence[tuple[int, T]]) -> T:
    """A weighted choice with integer weights, so no float rounding decides it."""
    ticket = rng.randrange(sum(weight for weight, _ in table))
    for weight, item in table:
        ticket -= weight
        if ticket < 0:
            return item
    raise AssertionError("unreachable: ticket below the total weight")


def _share(amount: Decimal, low_pct: int, high_pct: int, rng: random.Random) -> Decimal:
    """A whole-yuan part of `amount` (at least 1.00), for partial and token payments."""
    part = (amount * rng.randint(low_pct, high_pct) / 100).quantize(Decimal(1), ROUND_DOWN)
    return max(part, Decimal(1)).quantize(CENT)


def paid_dates(schedule: Schedule, cash: Sequence[tuple[date, Decimal]]) -> list[date | None]:
    """The day each instalment is fully paid, payments going to the oldest unpaid first."""
    payments, result = sorted(cash), []
    taken, paid, owed = 0, Decimal(0), Decimal(0)
    for _, amount in schedule:
        owed += amount
        while paid < owed and taken < len(payments):
            paid += payments[taken][1]
            taken += 1
        result.append(payments[taken - 1][0] if taken and paid >= owed else None)
    return result


# ---- behaviour: the payments ---------------------------------------------------------

def draw_behaviour(rng: random.Random, mix: Mapping[Behaviour, int], n: int) -> Behaviour:
    """A behaviour from `mix`, among those that fit a loan of n instalments."""
    table = [(mix.get(b, 0), b) for b in Behaviour if n >= _MIN_INSTALMENTS.get(b, 1)]
    return pick(rng, [(w, b) for w, b in table if w > 0] or [(1, B.ON_TIME)])


def plan_payments(rng: random.Random, behaviour: Behaviour, schedule: Schedule,
                  profile: Profile) -> Cash:
    """The payments a borrower of this behaviour makes, before any cut at the window."""
    n = len(schedule)
    if behaviour is B.ON_TIME:
        return [(due - rng.choice((0, 0, 0, 1, 2)) * DAY, amt) for due, amt in schedule]
    if behaviour is B.EARLY:
        return [(due - (rng.randint(3, 15) if rng.random() < 0.5 else 0) * DAY, amt)
                for due, amt in schedule]
    if behaviour is B.LATE_CURE:
        late = {rng.randrange(n)} | {i for i in range(n) if rng.random() < 0.25}
        return [(due + (rng.randint(1, 12) if i in late else 0) * DAY, amt)
                for i, (due, amt) in enumerate(schedule)]
    if behaviour is B.CHRONIC_LATE:
        return _chronic(rng, schedule)
    if behaviour is B.PARTIAL:
        return _partial(rng, schedule)
    if behaviour is B.CATCH_UP:
        return _catch_up(rng, schedule)
    if behaviour is B.OVERPAY:
        return _overpay(rng, schedule)
    if behaviour is B.EARLY_REPAYMENT:
        k = rng.randint(1, n - 1)
        rest = sum((amt for _, amt in schedule[k:]), Decimal(0))
        return [*schedule[:k], (schedule[k - 1][0] + rng.randint(5, 25) * DAY, rest)]
    if behaviour is B.DEFAULT:
        return _default(rng, schedule, profile)
    return []   # first-payment default: never a payment


def _chronic(rng: random.Random, schedule: Schedule) -> Cash:
    """Every instalment 5-45 days late, never paying in an order it could not."""
    cash: Cash = []
    for due, amount in schedule:
        day = due + rng.randint(5, 45) * DAY
        cash.append((max(day, cash[-1][0]) if cash else day, amount))
    return cash


def _partial(rng: random.Random, schedule: Schedule) -> Cash:
    """Some instalments paid 30-90% on the due date, the rest 5-25 days later."""
    short = {rng.randrange(len(schedule))} | {
        i for i in range(len(schedule)) if rng.random() < 0.3}
    cash: Cash = []
    for i, (due, amount) in enumerate(schedule):
        part = _share(amount, 30, 90, rng) if i in short else amount
        cash.append((due, part))
        if part < amount:
            cash.append((due + rng.randint(5, 25) * DAY, amount - part))
    return cash


def _catch_up(rng: random.Random, schedule: Schedule) -> Cash:
    """Two to four instalments missed, then one lump sum 3-20 days after the last."""
    first = rng.randrange(len(schedule) - 1)
    last = first + rng.randint(2, min(4, len(schedule) - first)) - 1
    lump = sum((amt for _, amt in schedule[first:last + 1]), Decimal(0))
    return [*schedule[:first], (schedule[last][0] + rng.randint(3, 20) * DAY, lump),
            *schedule[last + 1:]]


def _overpay(rng: random.Random, schedule: Schedule) -> Cash:
    """A round sum above the instalment each month; the surplus carries forward."""
    amount = schedule[0][1]
    step = Decimal(100 if amount < 2_000 else 500 if amount < 20_000 else 1_000)
    habit = ((amount // step + rng.randint(1, 2)) * step).quantize(CENT)
    total = sum((amt for _, amt in schedule), Decimal(0))
    cash: Cash = []
    paid = owed = Decimal(0)
    for due, amt in schedule:
        owed += amt
        if paid < owed:
            pay = min(max(habit, owed - paid), total - paid)
            cash.append((due, pay))
            paid += pay
    return cash


def _default(rng: random.Random, schedule: Schedule, profile: Profile) -> Cash:
    """On time for 1-8 instalments (early defaults likelier: the smaller of two
    draws), then nothing but, sometimes, one token payment."""
    most = min(len(schedule) - 1, 8)
    k = min(rng.randint(1, most), rng.randint(1, most))
    cash: Cash = list(schedule[:k])
    if profile.fate == "none" and rng.random() < 0.25:
        due, amount = schedule[k]
        cash.append((due + rng.randint(15, 60) * DAY, _share(amount, 10, 50, rng)))
    return cash


# ---- events ------------------------------------------------------------------------

@attrs.frozen
class History:
    """One loan's contract and repayments, which its events must agree with."""

    origination: date
    loan_type: str
    interest_only: bool
    schedule: Schedule
    behaviour: Behaviour
    profile: Profile
    cash: Cash
    paid: list[date | None]   # the day each instalment was fully paid (`paid_dates`)

    def first_late(self) -> int | None:
        """The first instalment not paid by its due date."""
        return self._first(0)

    def overdue_since(self, days: int) -> date | None:
        """The first day the loan is at least `days` days overdue."""
        i = self._first(days)
        return None if i is None else self.schedule[i][0] + days * DAY

    def _first(self, grace: int) -> int | None:
        pairs = zip(self.schedule, self.paid, strict=True)
        return next((i for i, ((due, _), day) in enumerate(pairs)
                     if day is None or day > due + grace * DAY), None)


def draw_changes(rng: random.Random, hist: History) -> tuple[Changes, date | None]:
    """Every fact change of the loan's life, and the day enforcement began (or None)."""
    changes: Changes = defaultdict(list)
    first = hist.first_late()
    _contact(rng, hist, first, changes)
    changes["debit_failed"] = _spans(_debit_spans(rng, hist))
    if hist.interest_only:
        changes["interest_overdue"] = _spans(
            [(due + DAY, day) for (due, _), day in zip(hist.schedule[:-1], hist.paid[:-1],
                                                      strict=True)
             if day is None or day > due])
    if first is None:
        return changes, None
    _assessment(rng, hist, changes)
    _fate(rng, hist, hist.schedule[first][0], changes)
    if hist.profile.cause == "cash_gap":
        _balance(rng, hist, changes)
    return changes, _court(rng, hist, hist.schedule[first][0], changes)


def _contact(rng: random.Random, hist: History, first: int | None, changes: Changes) -> None:
    """Defaulters drift to unreachable or lost; some late payers go quiet until they pay;
    some good payers change their number and give the new one a few weeks later."""
    status = changes["contact_status"]
    if first is not None and hist.behaviour in DEFAULTING:
        anchor = hist.schedule[first][0]
        if hist.profile.fate == "missing":
            status.append((anchor + rng.randint(1, 7) * DAY, "lost"))
        elif rng.random() < 0.6:
            gone = anchor + rng.randint(1, 10) * DAY
            status.append((gone, "unreachable"))
            if rng.random() < 0.4:
                status.append((gone + rng.randint(20, 60) * DAY, "lost"))
    elif first is not None and hist.behaviour in DELINQUENT:
        cured, quiet = hist.paid[first], hist.schedule[first][0] + rng.randint(1, 3) * DAY
        if rng.random() < 0.25 and (cured is None or quiet < cured):
            status.append((quiet, "unreachable"))
            status.extend([(cured, "reachable")] if cured else [])
    elif rng.random() < 0.06:
        changed = hist.origination + rng.randint(10, 300) * DAY
        status.extend([(changed, "changed"), (changed + rng.randint(5, 40) * DAY, "reachable")])


def _debit_spans(rng: random.Random, hist: History) -> list[tuple[date, date | None]]:
    """The debit tried the day before a due date fails for every late instalment, and
    now and then for one paid in cash on the due date itself."""
    spans: list[tuple[date, date | None]] = []
    for (due, _), day in zip(hist.schedule, hist.paid, strict=True):
        if day is None or day > due or (day == due and rng.random() < 0.05):
            spans.append((due - DAY, day))
    return spans


def _spans(spans: Iterable[tuple[date, date | None]]) -> list[tuple[date, str]]:
    """Merge [on, off) spans of a bool fact into true/false changes."""
    merged: list[list[date | None]] = []
    for on, off in sorted(spans, key=lambda s: (s[0], s[1] or date.max)):
        if off is not None and off <= on:
            continue
        last = merged[-1] if merged else None
        if last and (last[1] is None or on <= last[1]):
            last[1] = None if last[1] is None or off is None else max(last[1], off)
        else:
            merged.append([on, off])
    out: list[tuple[date, str]] = []
    for on, off in merged:
        assert on is not None   # spans always start somewhere
        out.extend([(on, "true"), *([(off, "false")] if off else [])])
    return out


def _assessment(rng: random.Random, hist: History, changes: Changes) -> None:
    """At the first visit (4 days overdue) collection learns the profile."""
    visit = hist.overdue_since(4)
    if visit is None:
        return
    day, found = visit + rng.randint(0, 3) * DAY, hist.profile
    for fact, value in (("cause", found.cause), ("ability", found.ability),
                        ("willingness", found.willingness),
                        ("business_viable", found.business_viable),
                        ("over_indebted", found.over_indebted)):
        changes[fact].append((day, cell_text(value)))


def _fate(rng: random.Random, hist: History, anchor: date, changes: Changes) -> None:
    """A death shortly before the first missed due date, learnt 5-20 days later; a
    disappearance noticed 10-40 days after it."""
    if hist.profile.fate == "deceased":
        death = max(hist.origination + DAY, anchor - rng.randint(1, 25) * DAY)
        changes["borrower_deceased"].append((death + rng.randint(5, 20) * DAY, "true"))
    elif hist.profile.fate == "missing":
        changes["borrower_missing"].append((anchor + rng.randint(10, 40) * DAY, "true"))


def _balance(rng: random.Random, hist: History, changes: Changes) -> None:
    """Cash-gap borrowers: funds reach the account 1-4 days before a late payment."""
    spare, floor = Decimal(rng.randint(0, 500)).quantize(CENT), hist.origination
    late_paid = {day for (due, _), day in zip(hist.schedule, hist.paid, strict=True)
                 if day is not None and day > due}
    for day, amount in sorted(hist.cash):
        if day in late_paid:
            arrived = max(day - rng.randint(1, 4) * DAY, floor + DAY)
            if arrived < day:
                changes["account_balance"].append((arrived, cell_text(amount + spare)))
            changes["account_balance"].append((day, cell_text(spare)))
            floor = day


def _court(rng: random.Random, hist: History, anchor: date, changes: Changes) -> date | None:
    """Most defaulters are sued (wilful ones sooner); half the suits reach enforcement."""
    if hist.behaviour not in DEFAULTING or rng.random() >= 0.65:
        return None
    wilful = hist.profile.cause == "wilful_default"
    filed = anchor + (rng.randint(35, 60) if wilful else rng.randint(95, 150)) * DAY
    changes["in_litigation"].append((filed, "true"))
    if rng.random() >= 0.5:
        return None
    judged = filed + rng.randint(60, 150) * DAY
    changes["in_litigation"].append((judged, "false"))
    changes["in_enforcement"].append((judged, "true"))
    return judged


def normalise(initial: str, changes: Iterable[tuple[date, str]], low: date,
              high: date) -> list[tuple[date, str]]:
    """Changes inside [low, high], one per day (the last wins), none repeating the value."""
    by_day: dict[date, str] = {}
    for day, value in sorted(changes, key=lambda change: change[0]):
        by_day[day] = value
    out, current = [], initial
    for day in sorted(by_day):
        if low <= day <= high and by_day[day] != current:
            out.append((day, by_day[day]))
            current = by_day[day]
    return out


def recovery_payment(rng: random.Random, hist: History,
                     enforced: date | None) -> tuple[date, Decimal] | None:
    """Enforcing a home or pledge recovers everything owed, half the time, 1-4 months on."""
    if enforced is None or hist.loan_type not in {"mortgage", "pledge"} or rng.random() < 0.5:
        return None
    owed = sum((amt for _, amt in hist.schedule), Decimal(0)) - sum(
        (amt for _, amt in hist.cash), Decimal(0))
    return (enforced + rng.randint(30, 120) * DAY, owed) if owed > 0 else None
