"""The replay, day by day, on a tiny hand-written history: four loans, a three-rule
ladder (calls on days 1-3 overdue, a letter from day 7 when none in 30 days, a visit
every 3 days from day 4) plus a call cap. Every row of actions.csv is worked out by
hand below, for both local engines. Also the loan-day facts (LoanCursor: static
facts, events, ledger, history; FactPlan; last_date) and ReplayResult.by_loan.

The history, for every loan: instalment 1 of 100.00 due 2026-01-05, instalment 2 of
100.00 due 2026-02-05, so a loan that has not paid is `overdue` d-5 on January d.
- ladder:  originated 2026-01-01, never pays.
- cured:   originated 2025-12-20 (before the others), pays instalment 1 on 01-10.
- repaid:  originated 2026-01-01, pays everything (200.00) on 01-08.
- lost:    originated 2026-01-02, contact_status blank (the default, reachable)
           until an event makes it lost on 01-07.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest

from engine.api import CompiledPolicy, load_policy
from engine.simulation.engines import replay_columnar
from engine.simulation.history import (
    Event,
    Installment,
    LoanHistory,
    Payment,
    Portfolio,
    read_history,
)
from engine.simulation.loanday import FactPlan, LoanCursor, last_date
from engine.simulation.replay import LoanDay, ReplayResult, Window, replay_rows
from policylang.cli import main
from policylang.schema import parse_schema

SCHEMA = """\
facts:
  overdue:           {type: days, min: 0, max: 3650}
  due_in:            {type: days, min: 0, max: 40, default: 35}
  contact_status:    {type: enum, values: [reachable, lost], default: reachable}
  days_since_letter: {type: days, min: 0, max: 100000, default: 100000,
                      history: {days_since: "notify borrower using overdue_notice"}}
  days_since_visit:  {type: days, min: 0, max: 100000, default: 100000,
                      history: {days_since: "visit borrower"}}
  calls_last_7d:     {type: int, min: 0, max: 1000, default: 0,
                      history: {count: "call borrower", within: 7 days}}
actions:
  call:   {targets: [borrower], stage: 1}
  visit:  {targets: [borrower], stage: 2}
  notify: {targets: [borrower], stage: 3, templates: [overdue_notice]}
"""

POLICY = """\
policy ladder version "1"
schema "ladder.schema.yaml"

param letter_day = 7 days
param letter_interval = 30 days
param revisit = 3 days
param call_cap = 7

rule calls: overdue between 1 day and 3 days and contact_status == reachable -> call borrower
rule first_call: overdue == 1 day -> call borrower
rule letter:
  overdue >= letter_day and days_since_letter >= letter_interval
    -> notify borrower using overdue_notice
rule visit: overdue >= 4 days and days_since_visit >= revisit -> visit borrower
rule cap priority 100: calls_last_7d >= call_cap -> suppress call borrower
"""

LOANS = {
    "ladder": "ladder,2026-01-01,reachable",
    "cured": "cured,2025-12-20,reachable",
    "repaid": "repaid,2026-01-01,reachable",
    "lost": "lost,2026-01-02,",
}
PAYMENTS = {"cured": ["cured,2026-01-10,100.00"], "repaid": ["repaid,2026-01-08,200.00"]}
EVENTS = {"lost": ["lost,2026-01-07,contact_status,lost"]}
HEADER = "loan_id,date,overdue,verb,target,using,rules\n"
Replay = Callable[..., ReplayResult]


def write_policy(folder: Path, text: str = POLICY, name: str = "ladder.policy") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ladder.schema.yaml").write_text(SCHEMA, encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def write_history(folder: Path, loans: tuple[str, ...] = tuple(LOANS)) -> Path:
    """The history above for `loans`, in that order, as the four CSV files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "loans.csv").write_text(
        "loan_id,origination_date,contact_status\n"
        + "".join(LOANS[name] + "\n" for name in loans), encoding="utf-8")
    (folder / "installments.csv").write_text(
        "loan_id,installment_no,due_date,amount_due\n"
        + "".join(f"{name},1,2026-01-05,100.00\n{name},2,2026-02-05,100.00\n"
                  for name in loans), encoding="utf-8")
    (folder / "payments.csv").write_text(
        "loan_id,date,amount\n"
        + "".join(row + "\n" for name in loans for row in PAYMENTS.get(name, ())),
        encoding="utf-8")
    (folder / "events.csv").write_text(
        "loan_id,date,fact,value\n"
        + "".join(row + "\n" for name in loans for row in EVENTS.get(name, ())),
        encoding="utf-8")
    return folder


def simulate_csv(tmp_path: Path, *options: str, loans: tuple[str, ...] = tuple(LOANS)) -> str:
    """actions.csv of `policylang simulate` on the history above."""
    policy = write_policy(tmp_path / "policy")
    data = write_history(tmp_path / "data", loans)
    out = tmp_path / "out"
    assert main(["simulate", str(policy), "--data", str(data), "--out", str(out),
                 *options]) == 0
    return (out / "actions.csv").read_text(encoding="utf-8")


def ladder_policy(tmp_path: Path) -> CompiledPolicy:
    return load_policy(write_policy(tmp_path / "policy"))


def portfolio(tmp_path: Path, loans: tuple[str, ...] = tuple(LOANS)) -> Portfolio:
    policy = ladder_policy(tmp_path)
    read = read_history(write_history(tmp_path / "data", loans), policy.schema)
    assert read.can_simulate, read.report()
    return read.portfolio


def jan(day: int) -> date:
    return date(2026, 1, day)


# -- actions.csv, every row by hand -----------------------------------------------------------

EVERY_ROW = HEADER + """\
ladder,2026-01-06,1,call,borrower,,calls;first_call
ladder,2026-01-07,2,call,borrower,,calls
ladder,2026-01-08,3,call,borrower,,calls
ladder,2026-01-09,4,visit,borrower,,visit
ladder,2026-01-12,7,visit,borrower,,visit
ladder,2026-01-12,7,notify,borrower,overdue_notice,letter
ladder,2026-01-15,10,visit,borrower,,visit
cured,2026-01-06,1,call,borrower,,calls;first_call
cured,2026-01-07,2,call,borrower,,calls
cured,2026-01-08,3,call,borrower,,calls
cured,2026-01-09,4,visit,borrower,,visit
repaid,2026-01-06,1,call,borrower,,calls;first_call
repaid,2026-01-07,2,call,borrower,,calls
lost,2026-01-06,1,call,borrower,,calls;first_call
lost,2026-01-09,4,visit,borrower,,visit
lost,2026-01-12,7,visit,borrower,,visit
lost,2026-01-12,7,notify,borrower,overdue_notice,letter
lost,2026-01-15,10,visit,borrower,,visit
"""
# ladder: visits on days 4, 7 and 10 overdue (3 days apart), one letter on day 7 (then
#   days_since_letter is 1, 2, ... < 30); on 01-12 the visit (stage 2) comes before the
#   letter (stage 3) although the letter rule is written first.
# cured: the payment on 01-10 pays instalment 1, so it is overdue 0 from that day on.
# repaid: fully repaid on 01-08, so 01-08 and later are not evaluated.
# lost: reachable on 01-06 (the event is dated 01-07), no call from 01-07 on.
# Loans in the loans file's order although `cured` was originated first.


@pytest.mark.parametrize("engine", ["row", "columnar"])
def test_every_row_of_actions_csv_is_as_worked_out_by_hand(tmp_path: Path, engine: str) -> None:
    assert simulate_csv(tmp_path, "--to", "2026-01-16", "--engine", engine) == EVERY_ROW


def test_a_payment_cures_the_loan_and_repayment_ends_its_replay(tmp_path: Path) -> None:
    result = replay_rows(ladder_policy(tmp_path), portfolio(tmp_path, ("cured", "repaid")),
                         Window(end=jan(16)))
    days = dict(result.by_loan())
    cured = [(d.day, d.overdue) for d in days["cured"]]
    assert cured == ([(date(2025, 12, d), 0) for d in range(20, 32)]
                     + [(jan(d), 0) for d in range(1, 6)]
                     + [(jan(6), 1), (jan(7), 2), (jan(8), 3), (jan(9), 4)]
                     + [(jan(d), 0) for d in range(10, 17)])
    assert [(d.day, d.overdue) for d in days["repaid"]] == (
        [(jan(d), 0) for d in range(1, 6)] + [(jan(6), 1), (jan(7), 2)])


@pytest.mark.parametrize("engine", ["row", "columnar"])
def test_params_override_the_policys_values(tmp_path: Path, engine: str) -> None:
    # letter every 2 days from day 7; calls capped at 2 in 7 days. The call on 01-06
    # (from two rules) counts once, so 01-07 still calls and 01-08 is capped.
    assert simulate_csv(tmp_path, "--to", "2026-01-16", "--engine", engine,
                        "--param", "letter_interval=2days", "--param", "call_cap=2",
                        loans=("ladder",)) == HEADER + """\
ladder,2026-01-06,1,call,borrower,,calls;first_call
ladder,2026-01-07,2,call,borrower,,calls
ladder,2026-01-09,4,visit,borrower,,visit
ladder,2026-01-12,7,visit,borrower,,visit
ladder,2026-01-12,7,notify,borrower,overdue_notice,letter
ladder,2026-01-14,9,notify,borrower,overdue_notice,letter
ladder,2026-01-15,10,visit,borrower,,visit
ladder,2026-01-16,11,notify,borrower,overdue_notice,letter
"""


@pytest.mark.parametrize("engine", ["row", "columnar"])
def test_from_reports_later_days_but_the_history_before_it_counts(
        tmp_path: Path, engine: str) -> None:
    # The visit and the letter of 01-12 are not reported, yet they keep 01-13 and 01-14
    # quiet: without them 01-13 would have had a visit and a letter.
    assert simulate_csv(tmp_path, "--from", "2026-01-13", "--to", "2026-01-16",
                        "--engine", engine, loans=("ladder",)) == HEADER + """\
ladder,2026-01-15,10,visit,borrower,,visit
"""


def test_from_reports_each_loan_day_from_that_date_only(tmp_path: Path) -> None:
    loans = portfolio(tmp_path, ("ladder", "repaid"))
    result = replay_columnar(ladder_policy(tmp_path), loans, Window(jan(13), jan(16)))
    assert [(d.loan_id, d.day) for d in result.days] == [
        ("ladder", jan(13)), ("ladder", jan(14)), ("ladder", jan(15)), ("ladder", jan(16))]


@pytest.mark.parametrize("engine", ["row", "columnar"])
def test_to_is_the_last_day_replayed(tmp_path: Path, engine: str) -> None:
    assert simulate_csv(tmp_path, "--to", "2026-01-09", "--engine", engine,
                        loans=("ladder", "lost")) == HEADER + """\
ladder,2026-01-06,1,call,borrower,,calls;first_call
ladder,2026-01-07,2,call,borrower,,calls
ladder,2026-01-08,3,call,borrower,,calls
ladder,2026-01-09,4,visit,borrower,,visit
lost,2026-01-06,1,call,borrower,,calls;first_call
lost,2026-01-09,4,visit,borrower,,visit
"""


@pytest.mark.parametrize("replay", [replay_rows, replay_columnar])
def test_without_to_the_replay_ends_on_the_last_payment_or_event(tmp_path: Path,
                                                                 replay: Replay) -> None:
    result = replay(ladder_policy(tmp_path), portfolio(tmp_path))
    # the last payment is cured's on 01-10 (repaid's 01-08, the event 01-07)
    assert result.end == jan(10)
    last = {loan_id: days[-1].day for loan_id, days in result.by_loan()}
    assert last == {"ladder": jan(10), "cured": jan(10), "repaid": jan(7), "lost": jan(10)}
    # 01-01 to 01-10, 12-20 to 01-10, 01-01 to 01-07, 01-02 to 01-10
    assert len(result.days) == 10 + 22 + 7 + 9
    assert result.loans == 4


@pytest.mark.parametrize("replay", [replay_rows, replay_columnar])
def test_a_loan_originated_after_the_last_day_is_counted_but_never_evaluated(
        tmp_path: Path, replay: Replay) -> None:
    loans = portfolio(tmp_path, ("ladder", "lost"))
    result = replay(ladder_policy(tmp_path), loans, Window(end=jan(1)))
    assert [(d.loan_id, d.day) for d in result.days] == [("ladder", jan(1))]
    assert result.loans == 2


def test_by_loan_groups_the_days_in_output_order(tmp_path: Path) -> None:
    result = replay_rows(ladder_policy(tmp_path), portfolio(tmp_path, ("repaid", "ladder")),
                         Window(jan(6), jan(7)))
    groups = [(loan_id, [d.day for d in days]) for loan_id, days in result.by_loan()]
    assert groups == [("repaid", [jan(6), jan(7)]), ("ladder", [jan(6), jan(7)])]
    assert result.days[0] == LoanDay("repaid", jan(6), 1, result.days[0].actions)


# -- the facts of a loan-day ------------------------------------------------------------------

def cursor_of(tmp_path: Path, loan: str, end: date) -> LoanCursor:
    policy = ladder_policy(tmp_path)
    (history,) = portfolio(tmp_path, (loan,))
    return LoanCursor(history, FactPlan.of(policy.schema), end)


def test_a_day_has_static_facts_events_to_date_ledger_and_history(tmp_path: Path) -> None:
    cursor = cursor_of(tmp_path, "lost", jan(8))
    days = {}
    for day, facts in cursor:
        days[day] = facts
        if day == jan(6):
            cursor.record(day, [("notify", "borrower", "overdue_notice")])
    assert list(days) == [jan(d) for d in range(2, 9)]
    assert days[jan(6)] == {"contact_status": "reachable", "overdue": 1, "due_in": 30,
                            "days_since_letter": 100000, "days_since_visit": 100000,
                            "calls_last_7d": 0}
    assert days[jan(7)] == {"contact_status": "lost", "overdue": 2, "due_in": 29,
                            "days_since_letter": 1, "days_since_visit": 100000,
                            "calls_last_7d": 0}
    assert days[jan(8)]["contact_status"] == "lost"
    assert days[jan(8)]["days_since_letter"] == 2


def test_due_in_runs_to_the_next_unpaid_due_date_then_is_the_schema_default(tmp_path: Path) -> None:
    # due_in counts to the next due date of an unpaid instalment; once 02-05 passes
    # unpaid there is none to come and due_in is the schema's default, 35.
    cursor = cursor_of(tmp_path, "cured", date(2026, 2, 7))
    due_in = {day: facts["due_in"] for day, facts in cursor}
    assert due_in[date(2025, 12, 20)] == 16
    assert due_in[jan(5)] == 0
    assert due_in[jan(6)] == 30          # instalment 1 is overdue; 2 is due 02-05
    assert due_in[jan(10)] == 26         # instalment 1 is paid on 01-10
    assert due_in[date(2026, 2, 5)] == 0
    assert due_in[date(2026, 2, 6)] == 35
    ladder = {day: facts["due_in"] for day, facts in cursor_of(tmp_path, "ladder", jan(1))}
    assert ladder == {jan(1): 4}


def test_a_due_in_beyond_the_facts_maximum_is_clamped(tmp_path: Path) -> None:
    loan = LoanHistory(loan_id="far", origination_date=jan(1),
                       static=MappingProxyType({"contact_status": "reachable"}),
                       installments=(Installment(1, date(2026, 3, 1), Decimal(10)),),
                       payments=(), events=(), line=2)
    plan = FactPlan.of(ladder_policy(tmp_path).schema)
    due_in = {day: facts["due_in"] for day, facts in LoanCursor(loan, plan, jan(22))}
    # 2026-03-01 is 59 days after 01-01, 40 days after 01-20
    assert due_in[jan(1)] == 40
    assert due_in[jan(20)] == 40
    assert due_in[jan(21)] == 39


@pytest.mark.parametrize(("facts", "due_in", "since_payment"), [
    ("  due_in: {type: days, min: 0, max: 40, default: 35}\n"
     "  days_since_payment: {type: days, min: 0, max: 500, default: 9}\n", 35, 9),
    ("  due_in: {type: days, min: 0, max: 40}\n"
     "  days_since_payment: {type: days, min: 0, max: 500}\n", 40, 500),
    ("  due_in: {type: days, min: 0}\n", 100000, 100000),
])
def test_nothing_to_count_is_the_default_else_the_maximum_else_100000(
        facts: str, due_in: int, since_payment: int) -> None:
    schema = parse_schema("facts:\n  overdue: {type: days, min: 0}\n" + facts
                          + "actions:\n  call: {targets: [borrower], stage: 1}\n", "s.yaml")
    assert schema.schema is not None
    plan = FactPlan.of(schema.schema)
    assert (plan.due_in_default, plan.days_since_payment_default) == (due_in, since_payment)
    assert [name for name, _, _ in plan.ledger] == [
        name for name in ("overdue", "due_in", "days_since_payment") if name in schema.schema.facts]


def _loan(loan_id: str, origination: date, dues: Sequence[date], *,
          payments: Sequence[date] = (), events: Sequence[date] = (),
          paid: Sequence[date] = ()) -> LoanHistory:
    """A loan of 1.00 instalments; `paid` gives the first instalments a paid_date."""
    installments = tuple(Installment(n, due, Decimal(1), paid[n - 1] if n <= len(paid) else None,
                                     Decimal(1) if n <= len(paid) else None)
                         for n, due in enumerate(dues, 1))
    return LoanHistory(loan_id=loan_id, origination_date=origination,
                       static=MappingProxyType({}), installments=installments,
                       payments=tuple(Payment(d, Decimal(1)) for d in payments),
                       events=tuple(Event(d, "contact_status", "lost") for d in events), line=2)


def test_last_date_is_the_latest_payment_or_event_of_any_loan() -> None:
    loans = [_loan("a", jan(1), [jan(5), date(2026, 6, 5)], payments=[jan(3), jan(9)]),
             _loan("b", jan(2), [jan(6)], events=[jan(4), jan(12)]),
             _loan("c", jan(3), [jan(7)], paid=[jan(11)])]
    assert last_date(loans) == jan(12)
    assert last_date(loans[:1]) == jan(9)
    assert last_date([loans[2]]) == jan(11)        # a per-instalment paid_date counts too


def test_last_date_without_payments_or_events_is_the_last_due_date() -> None:
    loans = [_loan("a", jan(1), [jan(5), jan(20)]), _loan("b", jan(2), [jan(15)])]
    assert last_date(loans) == jan(20)
    assert last_date([]) is None
