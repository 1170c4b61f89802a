"""The ledger: one loan's repayment facts, day by day, derived from its history.

Stage: inside `policylang simulate`, after the history is read (`history.py`)
and before the policy is evaluated for a loan-day. Input: one `LoanHistory`
and the values `due_in` and `days_since_payment` take when there is nothing to
count. Output: for each day from the origination (or a later start) to an end
date, the ledger facts of that day, until the day the loan is fully repaid.
Must not: evaluate rules, read files, or touch float. Pointers into the
instalments and payments only move forward, so a day costs O(1) amortised,
however long the schedule: portfolios of 10^4 loans x 10^3 days are replayed.

Allocation: every payment (from payments.csv, or a per-instalment
`paid_date, amount_paid`) goes to the oldest unpaid instalment first, in the
order (due date, number), and what is left over carries forward. So instalment
i is fully paid exactly when the payments so far reach the cumulative amount
due through i, and one comparison per instalment settles it. An instalment
with nothing due is ignored (it could never be unpaid).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.simulation.history import LoanHistory

# The contract's eight ledger facts, then two extensions documented with the ledger
# in docs/: longest_overdue and next_due_final.
LEDGER_FACTS = ("overdue", "due_in", "periods_overdue", "overdue_amount", "outstanding",
                "never_paid", "days_since_payment", "matured",
                "longest_overdue", "next_due_final")

_ZERO = Decimal(0)
_ONE_DAY = timedelta(days=1)


class LoanLedger:
    """The repayment state of one loan, replayed forward one day at a time."""

    __slots__ = ("_cumulative", "_days_since_payment_default", "_due_in_default", "_dues",
                 "_payments", "loan")

    def __init__(self, loan: LoanHistory, *, due_in_default: int,
                 days_since_payment_default: int) -> None:
        self.loan = loan
        self._due_in_default = due_in_default
        self._days_since_payment_default = days_since_payment_default
        owed = [i for i in loan.installments if i.amount_due > 0]   # nothing due: never owed
        self._dues = [i.due_date for i in owed]
        self._cumulative = list(accumulate(i.amount_due for i in owed))
        # A zero payment is no payment: it neither pays anything nor ends `never_paid`.
        self._payments = [(p.date, p.amount) for p in loan.payments if p.amount > 0]

    @property
    def total_due(self) -> Decimal:
        """The sum of every instalment's amount due."""
        return self._cumulative[-1] if self._cumulative else _ZERO

    @property
    def repaid_on(self) -> date | None:
        """The first day the payments reach the total due (never before the
        origination), or None when the history never repays the loan."""
        total, paid = self.total_due, _ZERO
        if paid >= total:
            return self.loan.origination_date
        for day, amount in self._payments:
            paid += amount
            if paid >= total:
                return max(day, self.loan.origination_date)
        return None

    def days(self, start: date, end: date) -> Iterator[tuple[date, dict[str, Any]]]:
        """Each day from max(start, origination) to `end` inclusive with its ledger facts,
        stopping before the day the loan is repaid: a repaid loan is not evaluated."""
        row: list[Any] = [None] * len(LEDGER_FACTS)
        for day in self.fill(start, end, row, range(len(LEDGER_FACTS))):
            yield day, dict(zip(LEDGER_FACTS, row, strict=True))

    def fill(self, start: date, end: date, out: list[Any], slots: Sequence[int]
             ) -> Iterator[date]:
        """`days` without a dict a day: before yielding each day, write its ledger facts
        into `out`, the k-th of LEDGER_FACTS at `out[slots[k]]` (a replay's value list).
        Day arithmetic is on ordinals; only the yielded day is a date."""
        dues = [due.toordinal() for due in self._dues]
        cumulative = self._cumulative
        payments = [(paid.toordinal(), amount) for paid, amount in self._payments]
        count, received, total = len(dues), len(payments), self.total_due
        due_in_default, unpaid_default = self._due_in_default, self._days_since_payment_default
        final = dues[-1] if dues else None
        (s_overdue, s_due_in, s_periods, s_amount, s_outstanding, s_never_paid, s_since_paid,
         s_matured, s_longest, s_next_final) = slots
        first = max(start, self.loan.origination_date).toordinal()
        day = self.loan.origination_date          # from origination: longest_overdue needs it
        today, last = day.toordinal(), end.toordinal()
        paid, last_paid, longest = _ZERO, None, 0
        settled = past = taken = 0        # instalments fully paid / due before `day` / payments
        out[s_outstanding], out[s_never_paid] = total, True
        while today <= last:
            if taken < received and payments[taken][0] <= today:
                while taken < received and payments[taken][0] <= today:
                    last_paid, amount = payments[taken]
                    paid += amount
                    taken += 1
                if paid >= total:
                    return
                out[s_outstanding], out[s_never_paid] = total - paid, False
                while cumulative[settled] <= paid:    # stops: the last one exceeds `paid`
                    settled += 1
            elif paid >= total:                       # nothing was ever owed
                return
            while past < count and dues[past] < today:
                past += 1
            overdue = today - dues[settled] if settled < past else 0
            longest = max(longest, overdue)
            if today >= first:
                upcoming = max(settled, past)     # the next unpaid instalment due on or after day
                out[s_overdue] = overdue
                out[s_due_in] = dues[upcoming] - today if upcoming < count else due_in_default
                if settled < past:
                    out[s_periods], out[s_amount] = past - settled, cumulative[past - 1] - paid
                else:
                    out[s_periods], out[s_amount] = 0, _ZERO
                out[s_since_paid] = today - last_paid if last_paid is not None else unpaid_default
                out[s_matured] = today > final       # type: ignore[operator]
                out[s_longest] = longest
                out[s_next_final] = upcoming < count and dues[upcoming] == final
                yield day
            day += _ONE_DAY
            today += 1
