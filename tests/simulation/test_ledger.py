"""The ledger: each day's repayment facts of one loan, checked against histories
worked out by hand (every day written out), then against a naive per-day
recomputation on random schedules and payments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.simulation.history import Installment, LoanHistory, Payment, read_history
from engine.simulation.ledger import LEDGER_FACTS, LoanLedger
from policylang.schema import parse_schema

DUE_IN_DEFAULT = 30
NO_PAYMENT = 999                     # days_since_payment when nothing was ever paid
START, END = date(2026, 1, 1), date(2026, 1, 31)
COLUMNS = ("overdue", "due_in", "periods_overdue", "overdue_amount", "outstanding",
           "never_paid", "days_since_payment", "matured", "longest_overdue", "next_due_final")


def jan(day: int) -> date:
    return date(2026, 1, day)


def loan_of(dues: Sequence[tuple[date, str]], payments: Sequence[tuple[date, str]] = (),
            origination: date = START) -> LoanHistory:
    """A loan with instalments (due date, amount) and payments (date, amount)."""
    return LoanHistory(
        loan_id="L1", origination_date=origination, static=MappingProxyType({}),
        installments=tuple(Installment(n, due, Decimal(amount))
                           for n, (due, amount) in enumerate(dues, start=1)),
        payments=tuple(Payment(day, Decimal(amount)) for day, amount in payments),
        events=(), line=2)


def ledger_of(loan: LoanHistory) -> LoanLedger:
    return LoanLedger(loan, due_in_default=DUE_IN_DEFAULT, days_since_payment_default=NO_PAYMENT)


def table(loan: LoanHistory, start: date = START, end: date = END) -> list[tuple[Any, ...]]:
    """(day of January, then COLUMNS) for every day the ledger yields."""
    days = ledger_of(loan).days(start, end)
    return [(day.day, *(facts[c] for c in COLUMNS)) for day, facts in days]


D = Decimal
T, F = True, False


def test_the_ledger_facts_are_the_contracts_eight_and_two_extensions() -> None:
    assert LEDGER_FACTS == COLUMNS
    _, facts = next(iter(ledger_of(loan_of([(jan(5), "1")])).days(START, START)))
    assert tuple(facts) == COLUMNS


def test_a_partial_payment_lowers_the_amounts_but_not_the_days_overdue() -> None:
    loan = loan_of([(jan(5), "100")], [(jan(7), "40"), (jan(9), "60")])
    assert table(loan, jan(4)) == [
        # day od due_in po  overdue_amount outstanding never days  matured longest final
        (4, 0, 1, 0, D(0), D(100), T, NO_PAYMENT, F, 0, T),
        (5, 0, 0, 0, D(0), D(100), T, NO_PAYMENT, F, 0, T),     # the due date: not yet overdue
        (6, 1, DUE_IN_DEFAULT, 1, D(100), D(100), T, NO_PAYMENT, T, 1, F),
        (7, 2, DUE_IN_DEFAULT, 1, D(60), D(60), F, 0, T, 2, F),
        (8, 3, DUE_IN_DEFAULT, 1, D(60), D(60), F, 1, T, 3, F),
    ]                                                           # 9th: repaid, not evaluated


def test_an_overpayment_before_the_due_date_carries_forward() -> None:
    loan = loan_of([(jan(3), "100"), (jan(5), "100"), (jan(7), "100")],
                   [(jan(2), "150"), (jan(6), "20"), (jan(8), "130")])
    assert table(loan) == [
        (1, 0, 2, 0, D(0), D(300), T, NO_PAYMENT, F, 0, F),
        (2, 0, 3, 0, D(0), D(150), F, 0, F, 0, F),     # instalment 1 paid early, 50 of 2
        (3, 0, 2, 0, D(0), D(150), F, 1, F, 0, F),     # so its due date passes quietly
        (4, 0, 1, 0, D(0), D(150), F, 2, F, 0, F),
        (5, 0, 0, 0, D(0), D(150), F, 3, F, 0, F),
        (6, 1, 1, 1, D(30), D(130), F, 0, F, 1, T),     # 170 paid: 30 of instalment 2 owed
        (7, 2, 0, 1, D(30), D(130), F, 1, F, 2, T),
    ]


def test_a_loan_that_never_pays_has_several_instalments_overdue_at_once() -> None:
    loan = loan_of([(jan(2), "50"), (jan(4), "50"), (jan(6), "50")])
    assert table(loan, end=jan(8)) == [
        (1, 0, 1, 0, D(0), D(150), T, NO_PAYMENT, F, 0, F),
        (2, 0, 0, 0, D(0), D(150), T, NO_PAYMENT, F, 0, F),
        (3, 1, 1, 1, D(50), D(150), T, NO_PAYMENT, F, 1, F),
        (4, 2, 0, 1, D(50), D(150), T, NO_PAYMENT, F, 2, F),
        (5, 3, 1, 2, D(100), D(150), T, NO_PAYMENT, F, 3, T),
        (6, 4, 0, 2, D(100), D(150), T, NO_PAYMENT, F, 4, T),
        (7, 5, DUE_IN_DEFAULT, 3, D(150), D(150), T, NO_PAYMENT, T, 5, F),
        (8, 6, DUE_IN_DEFAULT, 3, D(150), D(150), T, NO_PAYMENT, T, 6, F),
    ]


def test_paying_on_the_due_date_is_never_overdue() -> None:
    loan = loan_of([(jan(3), "100"), (jan(5), "100")], [(jan(3), "100"), (jan(5), "100")])
    assert table(loan) == [
        (1, 0, 2, 0, D(0), D(200), T, NO_PAYMENT, F, 0, F),
        (2, 0, 1, 0, D(0), D(200), T, NO_PAYMENT, F, 0, F),
        (3, 0, 2, 0, D(0), D(100), F, 0, F, 0, T),
        (4, 0, 1, 0, D(0), D(100), F, 1, F, 0, T),
    ]


def test_a_loan_repaid_early_stops_on_the_day_it_is_repaid() -> None:
    loan = loan_of([(jan(10), "100"), (jan(20), "100.50")], [(jan(3), "200.50")])
    assert [day.day for day, _ in ledger_of(loan).days(START, END)] == [1, 2]
    assert ledger_of(loan).repaid_on == jan(3)


def test_a_loan_repaid_on_its_origination_day_is_never_evaluated() -> None:
    loan = loan_of([(jan(10), "100")], [(jan(1), "100")])
    assert list(ledger_of(loan).days(START, END)) == []
    assert ledger_of(loan).repaid_on == START


def test_the_window_clips_the_days_but_longest_overdue_remembers_before_it() -> None:
    loan = loan_of([(jan(2), "100"), (jan(10), "100")], [(jan(5), "100")])
    assert table(loan, jan(6), jan(7)) == [
        (6, 0, 4, 0, D(0), D(100), F, 1, F, 2, T),     # overdue 2 on the 4th, cured on the 5th
        (7, 0, 3, 0, D(0), D(100), F, 2, F, 2, T),
    ]
    assert table(loan, jan(1), date(2025, 12, 31)) == []
    assert list(ledger_of(loan_of([(jan(5), "1")], origination=jan(3))).days(START, jan(2))) == []


def test_overdue_counts_from_the_oldest_unpaid_instalment_after_a_partial_cure() -> None:
    loan = loan_of([(jan(2), "100"), (jan(4), "100")], [(jan(6), "120")])
    assert table(loan, jan(5), jan(7)) == [
        (5, 3, DUE_IN_DEFAULT, 2, D(200), D(200), T, NO_PAYMENT, T, 3, F),
        (6, 2, DUE_IN_DEFAULT, 1, D(80), D(80), F, 0, T, 3, F),   # now the 4th is the oldest
        (7, 3, DUE_IN_DEFAULT, 1, D(80), D(80), F, 1, T, 3, F),
    ]


def test_instalments_with_nothing_due_and_zero_payments_are_ignored() -> None:
    loan = loan_of([(jan(2), "0"), (jan(3), "10")], [(jan(1), "0")])
    assert table(loan, end=jan(4)) == [
        (1, 0, 2, 0, D(0), D(10), T, NO_PAYMENT, F, 0, T),
        (2, 0, 1, 0, D(0), D(10), T, NO_PAYMENT, F, 0, T),
        (3, 0, 0, 0, D(0), D(10), T, NO_PAYMENT, F, 0, T),
        (4, 1, DUE_IN_DEFAULT, 1, D(10), D(10), T, NO_PAYMENT, T, 1, F),
    ]
    assert list(ledger_of(loan_of([(jan(2), "0")])).days(START, jan(9))) == []


# -- properties: the incremental ledger agrees with a naive recomputation ---------------

def reference(loan: LoanHistory, day: date, longest: int) -> dict[str, Any] | None:
    """The ledger facts of `day` computed from scratch (None once repaid): every payment
    dated `day` or earlier is allocated to the oldest unpaid instalment, one by one."""
    owed = [i for i in loan.installments if i.amount_due > 0]
    remaining = [i.amount_due for i in owed]
    paid = [p for p in loan.payments if p.date <= day and p.amount > 0]
    for payment in paid:
        left = payment.amount
        for index, due in enumerate(remaining):
            taken = min(left, due)
            remaining[index] -= taken
            left -= taken
    if not any(remaining):
        return None
    unpaid = [i for i, r in enumerate(remaining) if r > 0]
    past = [i for i in unpaid if owed[i].due_date < day]
    coming = [owed[i].due_date for i in unpaid if owed[i].due_date >= day]
    overdue = (day - owed[past[0]].due_date).days if past else 0
    last_due = max(i.due_date for i in owed)
    return {
        "overdue": overdue,
        "due_in": (min(coming) - day).days if coming else DUE_IN_DEFAULT,
        "periods_overdue": len(past),
        "overdue_amount": sum((remaining[i] for i in past), Decimal(0)),
        "outstanding": sum(remaining, Decimal(0)),
        "never_paid": not paid,
        "days_since_payment": (day - max(p.date for p in paid)).days if paid else NO_PAYMENT,
        "matured": day > last_due,
        "longest_overdue": max(longest, overdue),
        "next_due_final": bool(coming) and min(coming) == last_due,
    }


amounts = st.decimals(min_value=0, max_value=300, places=2)
schedules = st.lists(st.tuples(st.integers(0, 40), amounts), min_size=1, max_size=5)
payment_lists = st.lists(st.tuples(st.integers(0, 70), amounts), max_size=6)
HORIZON = 80


def random_loan(dues: list[tuple[int, Decimal]], payments: list[tuple[int, Decimal]]
                ) -> LoanHistory:
    installments = sorted(((START + timedelta(offset), amount) for offset, amount in dues),
                          key=lambda pair: pair[0])
    paid = sorted(((START + timedelta(offset), amount) for offset, amount in payments),
                  key=lambda pair: pair[0])
    return loan_of([(day, str(a)) for day, a in installments], [(d, str(a)) for d, a in paid])


@settings(max_examples=150, deadline=None, database=None)
@given(schedules, payment_lists)
@example([(5, Decimal(100))], [(5, Decimal(100))])                     # paid on the due date
@example([(3, Decimal(10)), (3, Decimal(20))], [(9, Decimal(15))])     # two due the same day
@example([(0, Decimal(0))], [])                                       # nothing ever owed
@example([(2, Decimal(50)), (4, Decimal(50))], [(1, Decimal(500))])    # overpaid at once
def test_the_ledger_matches_a_naive_recomputation_every_day(
        dues: list[tuple[int, Decimal]], payments: list[tuple[int, Decimal]]) -> None:
    loan = random_loan(dues, payments)
    ledger = ledger_of(loan)
    end = START + timedelta(HORIZON)
    yielded = dict(ledger.days(START, end))
    longest, day = 0, START
    while day <= end:
        expected = reference(loan, day, longest)
        if expected is None:
            break
        longest = expected["longest_overdue"]
        assert yielded.pop(day) == expected, day
        day += timedelta(1)
    assert not yielded                               # nothing after the repaid day
    if day <= end:
        assert ledger.repaid_on == day


@settings(max_examples=100, deadline=None, database=None)
@given(schedules, payment_lists)
def test_ledger_invariants_hold_on_every_day(
        dues: list[tuple[int, Decimal]], payments: list[tuple[int, Decimal]]) -> None:
    loan = random_loan(dues, payments)
    total = sum((i.amount_due for i in loan.installments), Decimal(0))
    for day, facts in ledger_of(loan).days(START, START + timedelta(HORIZON)):
        applied = sum((p.amount for p in loan.payments if p.date <= day), Decimal(0))
        assert applied < total                       # not repaid, so not all was paid
        assert Decimal(0) <= facts["overdue_amount"] <= facts["outstanding"] <= total
        assert facts["outstanding"] == total - applied
        assert (facts["overdue"] == 0) == (facts["periods_overdue"] == 0)
        assert (facts["overdue_amount"] == 0) == (facts["periods_overdue"] == 0)
        assert 0 <= facts["overdue"] <= facts["longest_overdue"]


# -- the worked example of the docs runs as written ---------------------------------------

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"<!-- worked example: ledger.*?-->(.*?)<!-- end worked example -->",
                     re.DOTALL)
CSV_BLOCK = re.compile(r"^```csv (\S+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXAMPLE_SCHEMA = """\
facts:
  overdue: {type: days, min: 0}
actions:
  call: {targets: [borrower], stage: 1}
"""


def cell(text: str) -> Any:
    """A table cell as the ledger gives it: a bool, an int or an exact amount."""
    if text in ("true", "false"):
        return text == "true"
    return Decimal(text) if "." in text else int(text)


def test_the_worked_example_in_the_docs_is_what_the_ledger_gives(tmp_path: Path) -> None:
    pages = [m.group(1) for page in sorted((ROOT / "docs").glob("*.md"))
             if (m := EXAMPLE.search(page.read_text(encoding="utf-8")))]
    assert len(pages) == 1, "the docs should hold the ledger's worked example once"
    for name, text in CSV_BLOCK.findall(pages[0]):
        (tmp_path / name).write_text(text, encoding="utf-8")
    schema = parse_schema(EXAMPLE_SCHEMA, "example.schema.yaml").schema
    assert schema is not None
    read = read_history(tmp_path, schema)
    assert read.problems == []
    rows = [line.strip("|").split("|") for line in pages[0].splitlines()
            if line.startswith("| 20")]
    expected = [(date.fromisoformat(day.strip()),
                 {name: cell(value.strip()) for name, value in zip(COLUMNS, values, strict=True)})
                for day, *values in rows]
    ledger = LoanLedger(read.portfolio.loans[0], due_in_default=366,
                        days_since_payment_default=100000)
    assert list(ledger.days(date(2000, 1, 1), date(2100, 1, 1))) == expected
