"""A loan's account on one day, as a notice states it: what is overdue, split into
principal and interest, what is still owed, what falls due next.

Stage: `policylang simulate --notices`, for each notice a replay sends. Input: one
`LoanHistory` (its instalments, optionally split into `principal_due` and
`interest_due`, and its payments) and the day. Output: the loan-file fields a notice
reads (docs/notices.md), in the same form a loan file gives them.
Must not: round or use float; disagree with the replay's ledger: the payments of day D
and earlier count, an instalment is overdue from the day after its due date, and
payments go to the oldest instalment first (engine/simulation/ledger.py), so
`overdue_amount` here is the ledger's, which tests/simulation/test_statement.py
checks day by day.

Within one instalment a payment pays the interest first, then the principal (the
order loan contracts usually agree; docs/notices.md says so). Without the split, the
fields that need it (`overdue_principal`, `overdue_interest`, `outstanding_principal`,
`interest_due`) are left out, so a notice that shows them fails naming the field,
instead of printing a guess.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.simulation.history import LoanHistory

_ZERO = Decimal(0)


def statement_on(loan: LoanHistory, day: date) -> dict[str, Any]:
    """The account of `loan` at the end of `day` (its payments included)."""
    owed = [i for i in loan.installments if i.amount_due > 0]      # as the ledger
    split = bool(owed) and all(i.principal_due is not None for i in owed)
    pool = sum((p.amount for p in loan.payments if p.date <= day), _ZERO)
    fields: dict[str, Any] = {"loan_date": loan.origination_date, "as_of": day,
                              "issue_date": day}
    if owed:
        fields["maturity_date"] = owed[-1].due_date
    overdue = _ZERO
    overdue_principal = overdue_interest = outstanding_principal = _ZERO
    upcoming = None
    for instalment in owed:
        paid = min(pool, instalment.amount_due)
        pool -= paid
        unpaid = instalment.amount_due - paid
        unpaid_interest = unpaid_principal = _ZERO
        if split:                               # the interest is paid first
            interest = instalment.interest_due or _ZERO
            unpaid_interest = interest - min(paid, interest)
            unpaid_principal = unpaid - unpaid_interest
        outstanding_principal += unpaid_principal
        if instalment.due_date < day:
            overdue += unpaid
            overdue_principal += unpaid_principal
            overdue_interest += unpaid_interest
        elif upcoming is None and unpaid:
            upcoming = (instalment, unpaid_interest)
    fields["overdue_amount"] = overdue
    principal = loan.static.get("principal")
    if isinstance(principal, Decimal):
        fields["principal"] = principal
    elif split:
        fields["principal"] = sum((i.principal_due for i in owed), _ZERO)  # type: ignore[misc]
    if upcoming is not None:
        fields["settlement_date"] = upcoming[0].due_date
    if split:
        fields.update(overdue_principal=overdue_principal, overdue_interest=overdue_interest,
                      outstanding_principal=outstanding_principal)
        if upcoming is not None:
            fields["interest_due"] = upcoming[1]
    return fields
