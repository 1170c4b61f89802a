"""The account a simulated notice states (engine/notices/statement.py): worked out by
hand on a small loan, then held to the replay's ledger on random loans, every day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.notices.statement import statement_on
from engine.simulation.history import Installment, LoanHistory, Payment
from engine.simulation.ledger import LoanLedger

D = Decimal
START = date(2026, 1, 1)


def split_loan(dues: list[tuple[date, str, str]], payments: list[tuple[date, str]] = (),
               static: dict[str, object] | None = None) -> LoanHistory:
    """Instalments (due, principal, interest) and payments (date, amount)."""
    return LoanHistory(
        loan_id="L1", origination_date=START, static=MappingProxyType(static or {}),
        installments=tuple(Installment(n, due, D(p) + D(i), principal_due=D(p),
                                       interest_due=D(i))
                           for n, (due, p, i) in enumerate(dues, start=1)),
        payments=tuple(Payment(day, D(amount)) for day, amount in payments),
        events=(), line=2)


def jan(day: int) -> date:
    return date(2026, 1, day)


def test_a_partial_payment_pays_the_interest_first() -> None:
    loan = split_loan([(jan(5), "100.00", "10.00"), (jan(20), "100.00", "8.00")],
                      [(jan(7), "15.00")])
    on_9th = statement_on(loan, jan(9))
    # 15.00 paid: the first instalment's 10.00 interest, then 5.00 of its principal
    assert on_9th["overdue_amount"] == D("95.00")
    assert on_9th["overdue_interest"] == D("0.00")
    assert on_9th["overdue_principal"] == D("95.00")
    assert on_9th["outstanding_principal"] == D("195.00")
    assert on_9th["interest_due"] == D("8.00")            # of the next instalment
    assert on_9th["settlement_date"] == jan(20)
    assert on_9th["maturity_date"] == jan(20)
    assert on_9th["principal"] == D("200.00")             # the parts, with no principal fact
    assert (on_9th["as_of"], on_9th["issue_date"], on_9th["loan_date"]) == (jan(9), jan(9), START)


def test_the_due_date_itself_is_not_overdue_and_payments_of_the_day_count() -> None:
    loan = split_loan([(jan(5), "100.00", "10.00")], [(jan(6), "30.00")])
    assert statement_on(loan, jan(5))["overdue_amount"] == D(0)
    assert statement_on(loan, jan(6))["overdue_amount"] == D("80.00")
    assert statement_on(loan, jan(6))["overdue_interest"] == D(0)


def test_after_maturity_there_is_no_next_settlement() -> None:
    loan = split_loan([(jan(5), "100.00", "10.00")])
    later = statement_on(loan, jan(25))
    assert later["overdue_interest"] == D("10.00")
    assert "settlement_date" not in later and "interest_due" not in later


def test_without_the_split_the_split_fields_are_left_out_not_guessed() -> None:
    loan = LoanHistory(loan_id="L1", origination_date=START,
                       static=MappingProxyType({"principal": D("1000.00")}),
                       installments=(Installment(1, jan(5), D("110.00")),), payments=(),
                       events=(), line=2)
    account = statement_on(loan, jan(9))
    assert account["overdue_amount"] == D("110.00")
    assert account["principal"] == D("1000.00")          # the loans file's principal fact
    for field in ("overdue_principal", "overdue_interest", "outstanding_principal",
                  "interest_due"):
        assert field not in account


parts = st.tuples(st.integers(0, 40), st.decimals(min_value=0, max_value=300, places=2),
                  st.decimals(min_value=0, max_value=50, places=2))


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(parts, min_size=1, max_size=5),
       st.lists(st.tuples(st.integers(0, 70), st.decimals(min_value=0, max_value=400,
                                                            places=2)), max_size=6))
def test_the_statement_agrees_with_the_ledger_every_day(
        dues: list[tuple[int, Decimal, Decimal]], payments: list[tuple[int, Decimal]]) -> None:
    ordered = sorted((START + timedelta(offset), str(p), str(i)) for offset, p, i in dues)
    loan = split_loan(ordered, sorted((START + timedelta(offset), str(a))
                                      for offset, a in payments))
    ledger = LoanLedger(loan, due_in_default=30, days_since_payment_default=999)
    for day, facts in ledger.days(START, START + timedelta(80)):
        account = statement_on(loan, day)
        assert account["overdue_amount"] == facts["overdue_amount"], day
        assert account["overdue_principal"] + account["overdue_interest"] == \
            account["overdue_amount"]
        assert D(0) <= account["overdue_principal"] <= account["outstanding_principal"]
        owed = [i for i in loan.installments if i.amount_due > 0]
        assert account["outstanding_principal"] <= sum(i.principal_due for i in owed)
        if facts["overdue_amount"] == 0:
            assert account["overdue_interest"] == 0
