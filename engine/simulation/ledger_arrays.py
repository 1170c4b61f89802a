"""The ledger as arrays: `ledger.py`'s facts for a chunk of loans, one calendar day at
a time, all loans at once.

Stage: inside the vectorised replay (`fastreplay.py`). Input: a chunk of `LoanHistory`
records, the money scale (decimal places of exact int64 units) and the defaults of
`due_in` and `days_since_payment`. Output: per day, the ledger facts of the rows asked
for, as int64 arrays (days, counts, money in units) and bool arrays.
Must not: differ from `LoanLedger.days` on any loan-day, or touch float.

Why it is cheap: the ledger never depends on the policy's actions, so everything that
moves is known before the replay starts and is laid out as per-day schedules (sorted
by day, sliced by `bounds`):
- payments, grouped by (loan, effective day = max(date, origination)): the cumulative
  amount paid after that day, the date of its last payment and how many instalments it
  settles (one bisect per group, the ledger's "oldest first" rule);
- instalments falling due: on day due + 1, `past` (instalments due before the day)
  grows by one;
- the day each loan starts (origination) and stops (repaid, or never if it is not).
Per-loan instalment arrays (due ordinals, cumulative amounts) are flattened with one
sentinel after each loan, so `dues[offset + settled]` is always a valid gather.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import chain
from typing import Any

import numpy as np

from engine.simulation.history import LoanHistory

FAR = np.int64(2**62)                  # a due date / amount no loan reaches (sentinel)
NO_PAYMENT = np.iinfo(np.int64).min // 4


class TooBig(Exception):
    """An amount that does not fit int64 units at the chosen scale."""


def money_scale(loans: Sequence[LoanHistory]) -> int:
    """The decimal places every instalment and payment amount of `loans` fits in."""
    amounts = {i.amount_due for loan in loans for i in loan.installments}
    amounts.update(p.amount for loan in loans for p in loan.payments)
    return max(map(places, amounts), default=0)


def places(value: Decimal | int | None) -> int:
    """The decimal places of an exact value (0 for an int or None)."""
    if value is None or isinstance(value, int):
        return 0
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def units_of(scale: int) -> Callable[[Decimal], int]:
    """Exact int units of an amount at `scale` (memoised: histories repeat amounts)."""
    memo: dict[Decimal, int] = {}
    factor = 10**scale

    def units(amount: Decimal) -> int:
        found = memo.get(amount)
        if found is None:
            numerator, denominator = amount.as_integer_ratio()
            found = memo[amount] = numerator * factor // denominator
        return found
    return units


class LedgerArrays:
    """The repayment state of a chunk of loans, moved forward day by day (`advance`)."""

    def __init__(self, loans: Sequence[LoanHistory], scale: int, end: int) -> None:
        self.scale = scale
        size = len(loans)
        units = units_of(scale)
        self.origination = np.fromiter((loan.origination_date.toordinal() for loan in loans),
                                       dtype=np.int64, count=size)
        owed = _Rows([(row, i.due_date.toordinal(), units(i.amount_due))
                      for row, loan in enumerate(loans) for i in loan.installments
                      if i.amount_due > 0], size)          # nothing due: never owed
        self.count = owed.per_loan
        self.offset = owed.first + np.arange(size)         # one sentinel after each loan
        self.dues = np.full(len(owed.loan) + size, FAR, dtype=np.int64)
        self.cumulative = self.dues.copy()
        slots = np.arange(len(owed.loan)) + owed.loan
        self.dues[slots] = owed.day
        self.cumulative[slots] = owed.running
        self.total = owed.totals
        has = self.count > 0
        self.final = np.where(has, self.dues[self.offset + self.count - 1], FAR)
        start = self.origination[owed.loan]
        self.past = np.bincount(owed.loan[owed.day < start], minlength=size).astype(np.int64)
        falls = (owed.day >= start) & (owed.day < end)
        self.falls = _Schedule([owed.day[falls] + 1, owed.loan[falls]])
        self.stop, self.payments = self._payments(loans, units, owed)
        self.paid = np.zeros(size, dtype=np.int64)
        self.settled = np.zeros(size, dtype=np.int64)
        self.last_paid = np.full(size, NO_PAYMENT, dtype=np.int64)
        self.longest = np.zeros(size, dtype=np.int64)

    def _payments(self, loans: Sequence[LoanHistory], units: Callable[[Decimal], int],
                  owed: _Rows) -> tuple[np.ndarray, _Schedule]:
        """The first day each loan is not evaluated (the day its payments reach the total
        due; its origination when nothing is owed; else FAR), and the payment schedule:
        per (loan, effective day) before that, the amount paid so far, the date of the
        day's last payment and the instalments settled (oldest first)."""
        size = len(loans)
        paid = _Rows([(row, p.date.toordinal(), units(p.amount))
                      for row, loan in enumerate(loans) for p in loan.payments
                      if p.amount > 0], size)              # a zero payment is no payment
        day = np.maximum(paid.day, self.origination[paid.loan])   # never before origination
        stop = np.where(self.total > 0, FAR, self.origination)
        reached = np.flatnonzero(paid.running >= self.total[paid.loan])
        repaid, first = np.unique(paid.loan[reached], return_index=True)
        stop[repaid] = np.minimum(stop[repaid], day[reached[first]])
        keep = day < stop[paid.loan]
        loan, day, date, running = paid.loan[keep], day[keep], paid.day[keep], paid.running[keep]
        last = np.ones(len(loan), dtype=bool)       # the day's last payment of the loan
        last[:-1] = (loan[1:] != loan[:-1]) | (day[1:] != day[:-1])
        loan, day, date, running = loan[last], day[last], date[last], running[last]
        settled = _settled(owed, loan, running)
        return stop, _Schedule([day, loan, running, date, settled])

    def advance(self, day: int) -> None:
        """Apply what happens on `day` (payments dated then, instalments due the day
        before); call once per day, in order, before reading the day's facts."""
        paying = self.payments.on(day)
        if paying is not None:
            rows = paying[1]
            self.paid[rows] = paying[2]
            self.last_paid[rows] = paying[3]
            self.settled[rows] = paying[4]
        falling = self.falls.on(day)
        if falling is not None:
            np.add.at(self.past, falling[1], 1)

    def facts(self, day: int, rows: np.ndarray | None, wanted: frozenset[str],
              defaults: tuple[int, int]) -> dict[str, np.ndarray]:
        """The ledger facts of `day` for `rows` (None: all), unclamped; `longest_overdue`
        is updated for these rows, so every evaluated day must be asked once, in order.
        `wanted` limits what is built; `defaults` are (due_in, days_since_payment)."""
        take = (lambda a: a) if rows is None else (lambda a: a[rows])
        settled, past, offset = take(self.settled), take(self.past), take(self.offset)
        behind = settled < past
        overdue = np.where(behind, day - self.dues[offset + settled], 0)
        longest = np.maximum(take(self.longest), overdue)
        if rows is None:
            self.longest = longest
        else:
            self.longest[rows] = longest
        out: dict[str, Any] = {"overdue": overdue, "longest_overdue": longest}
        if wanted & {"due_in", "next_due_final"}:
            upcoming = np.maximum(settled, past)
            has_next = upcoming < take(self.count)
            next_due = self.dues[offset + upcoming]
            out["due_in"] = np.where(has_next, next_due - day, defaults[0])
            out["next_due_final"] = has_next & (next_due == take(self.final))
        if "periods_overdue" in wanted:
            out["periods_overdue"] = np.where(behind, past - settled, 0)
        paid = take(self.paid)
        if "overdue_amount" in wanted:
            owed = self.cumulative[offset + np.maximum(past - 1, 0)] - paid
            out["overdue_amount"] = np.where(behind, owed, 0)
        if "outstanding" in wanted:
            out["outstanding"] = take(self.total) - paid
        if wanted & {"never_paid", "days_since_payment"}:
            last = take(self.last_paid)
            never = last == NO_PAYMENT
            out["never_paid"] = never
            out["days_since_payment"] = np.where(never, defaults[1], day - last)
        if "matured" in wanted:
            out["matured"] = day > take(self.final)
        return out


class _Rows:
    """(loan, day, amount) rows, in loan order, as arrays, with each row's running total
    within its loan and the per-loan count, first row and total."""

    def __init__(self, rows: list[tuple[int, int, int]], size: int) -> None:
        try:
            table = np.fromiter(chain.from_iterable(rows), dtype=np.int64,
                                count=3 * len(rows)).reshape(-1, 3)
        except OverflowError:
            raise TooBig("an amount does not fit int64 units") from None
        self.loan, self.day, amount = (np.ascontiguousarray(table[:, i]) for i in range(3))
        if len(amount) and int(amount.max()) * len(amount) >= FAR and sum(
                amount.tolist()) >= FAR:
            raise TooBig("the amounts of a chunk do not fit int64 units")
        self.per_loan = np.bincount(self.loan, minlength=size).astype(np.int64)
        self.first = np.zeros(size, dtype=np.int64)
        np.cumsum(self.per_loan[:-1], out=self.first[1:])
        running = np.concatenate([[0], np.cumsum(amount)])
        self.totals = running[self.first + self.per_loan] - running[self.first]
        self.running = running[1:] - running[self.first][self.loan]


def _settled(owed: _Rows, loan: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """How many of its instalments each (loan, paid) settles: those whose cumulative due
    is <= paid. One sorted search over all loans, each loan's sums lifted by loan * lift
    (lift > any sum, so loans do not mix); a bisect per row when that would not fit."""
    lift = int(owed.totals.max(initial=0)) + 1
    if lift * (len(owed.per_loan) + 1) < FAR:
        keys = owed.loan * lift + owed.running
        return np.searchsorted(keys, loan * lift + paid, side="right") - owed.first[loan]
    sums = [owed.running[f:f + n].tolist() for f, n in zip(owed.first.tolist(),
                                                            owed.per_loan.tolist(), strict=True)]
    return np.array([bisect_right(sums[r], p) for r, p in zip(loan.tolist(), paid.tolist(),
                                                              strict=True)], dtype=np.int64)


class _Schedule:
    """Rows (day, ...) given as int64 columns, sorted by day, read one day at a time."""

    def __init__(self, columns: list[np.ndarray]) -> None:
        order = np.argsort(columns[0], kind="stable")
        self.columns = [np.ascontiguousarray(column[order]) for column in columns]
        self.days, starts = np.unique(self.columns[0], return_index=True)
        self.starts = np.append(starts, len(order))
        self.at = 0

    def on(self, day: int) -> list[np.ndarray] | None:
        """The columns of the rows dated `day` (days must be asked in increasing order)."""
        days, at = self.days, self.at
        while at < len(days) and days[at] < day:
            at += 1
        self.at = at
        if at == len(days) or days[at] != day:
            return None
        lo, hi = self.starts[at], self.starts[at + 1]
        return [column[lo:hi] for column in self.columns]
