"""The vectorised replay (engine/simulation/fastreplay.py) gives exactly the row engine's
ReplayResult: the same loan-days (loan, date, overdue) with the same ordered actions
(verb, target, template, stage, rules), loans in portfolio order, then date. On (a) the
bundled example with policies/retail.policy, (b) generated portfolios, read back from
CSV, with random retail param overrides, windows and chunk sizes, (c) hand-made
histories: worked cases (partial and over-payments, events and repayment on the
origination day, a window starting after origination) and random ones over a schema
whose policy reads every ledger fact and all three kinds of history fact, with
domains small enough that clamping and capping happen."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import CompiledPolicy, load_policy, load_policy_text
from engine.simulation import fastreplay
from engine.simulation.fastreplay import (
    ACTION_COLUMNS,
    action_rows,
    replay_compact,
    replay_vectorised,
    write_actions_csv,
)
from engine.simulation.generator import EXAMPLE_DIR, generate_portfolio, write_portfolio
from engine.simulation.history import (
    Event,
    Installment,
    LoanHistory,
    Payment,
    Portfolio,
    read_history,
)
from engine.simulation.replay import ALL_DAYS, LoanDay, ReplayResult, Window, replay_rows

POLICIES = Path(__file__).resolve().parents[2] / "policies"
START = date(2025, 1, 1)


@cache
def retail() -> CompiledPolicy:
    return load_policy(POLICIES / "retail.policy")


def assert_same(row: ReplayResult, fast: ReplayResult) -> None:
    """Equal results; on a difference, the first loan-day that differs."""
    assert fast.engine == "columnar"
    assert (row.end, row.loans, row.window) == (fast.end, fast.loans, fast.window)
    for index, (a, b) in enumerate(zip(row.days, fast.days, strict=False)):
        assert a == b, f"loan-day {index}: row {a} != vectorised {b}"
    assert len(row.days) == len(fast.days)


def replay_both(policy: CompiledPolicy, portfolio: Portfolio, window: Window = ALL_DAYS,
                params: Mapping[str, Any] | None = None, chunk: int = 20000) -> ReplayResult:
    row = replay_rows(policy, portfolio, window, params)
    assert_same(row, replay_vectorised(policy, portfolio, window, params, chunk=chunk))
    return row


# -- (a) the bundled example --------------------------------------------------------------

def test_the_vectorised_replay_equals_the_row_engine_on_the_bundled_example() -> None:
    read = read_history(EXAMPLE_DIR, retail().schema)
    assert read.can_simulate
    result = replay_both(retail(), read.portfolio)
    produced = {(a.verb, a.target, a.using) for day in result.days for a in day.actions}
    assert {("notify", "borrower", "overdue_notice"), ("visit", "borrower", "business_review"),
            ("refer", "legal", None)} <= produced


def test_compact_chunks_write_the_actions_csv_rows_of_the_loan_days(tmp_path: Path) -> None:
    read = read_history(EXAMPLE_DIR, retail().schema)
    result = replay_rows(retail(), read.portfolio, Window(start=date(2025, 6, 1)))
    expected = [(d.loan_id, d.day.isoformat(), d.overdue, a.verb, a.target, a.using or "",
                 ";".join(a.rules)) for d in result.days for a in d.actions]
    parts = list(replay_compact(retail(), read.portfolio, Window(start=date(2025, 6, 1)),
                                chunk=37))
    assert [row for part in parts for row in action_rows(part)] == expected
    written = write_actions_csv(iter(parts), tmp_path / "actions.csv")
    lines = (tmp_path / "actions.csv").read_text(encoding="utf-8").splitlines()
    assert written == len(expected) == len(lines) - 1 and lines[0] == ",".join(ACTION_COLUMNS)


# -- (b) generated portfolios, random params, windows and chunks -----------------------------

DAY_PARAMS = ("reminder_lead", "visit_day", "letter_day", "revisit_days", "letter_interval",
              "wilful_legal_day", "acceleration_grace", "legal_day", "long_delinquency")


@st.composite
def retail_params(draw: st.DrawFn) -> dict[str, str]:
    """Overrides of a few of the retail policy's params, as --param gives them (text)."""
    names = draw(st.lists(st.sampled_from((*DAY_PARAMS, "call_cap")), max_size=4, unique=True))
    return {name: str(draw(st.integers(0, 8))) if name == "call_cap"
            else f"{draw(st.integers(0, 60))} days" for name in names}


def _day(offsets: st.SearchStrategy[int]) -> st.SearchStrategy[date | None]:
    return st.one_of(st.none(), offsets.map(lambda days: START + timedelta(days=days)))


WINDOWS = st.builds(Window, _day(st.integers(0, 200)), _day(st.integers(0, 260)))


def read_generated(loans: int, seed: int, days: int) -> Portfolio:
    generated = generate_portfolio(loans, seed=seed, start=START,
                                   end=START + timedelta(days=days - 1),
                                   origination_days=days // 3)
    with tempfile.TemporaryDirectory() as folder:
        write_portfolio(generated, Path(folder))
        read = read_history(Path(folder), retail().schema)
    assert read.can_simulate and not read.problems, read.report()
    return read.portfolio


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), loans=st.integers(1, 12), days=st.integers(30, 240),
       params=retail_params(), window=WINDOWS, chunk=st.integers(1, 8))
def test_the_vectorised_replay_equals_the_row_engine_on_generated_portfolios(
        *, seed: int, loans: int, days: int, params: dict[str, str], window: Window,
        chunk: int) -> None:
    replay_both(retail(), read_generated(loans, seed, days), window, params, chunk)


# -- (c) hand-made histories ---------------------------------------------------------------

SCHEMA = """\
facts:
  overdue:            {type: days, min: 0, max: 40}
  due_in:             {type: days, min: 0, max: 20}
  periods_overdue:    {type: int, min: 0, max: 2}
  overdue_amount:     {type: money, currency: CNY, min: 0, max: 250.5}
  outstanding:        {type: money, currency: CNY, min: 0}
  never_paid:         {type: bool, default: false}
  days_since_payment: {type: days, min: 0, max: 30}
  matured:            {type: bool, default: false}
  longest_overdue:    {type: days, min: 0, max: 25, default: 0}
  next_due_final:     {type: bool, default: false}
  balance:            {type: money, currency: CNY, min: 0, default: 0}
  rate:               {type: decimal, min: 0, max: 100, default: 1.5}
  contact:            {type: enum, values: [reachable, lost], default: reachable}
  deceased:           {type: bool, default: false}
  region:             {type: int, min: 0, max: 9}
  days_since_letter:  {type: days, min: 0, max: 12, default: 11,
                       history: {days_since: "notify borrower using overdue_notice"}}
  days_since_visit:   {type: days, min: 0, max: 100000, default: 100000,
                       history: {days_since: "visit borrower"}}
  calls_last_3d:      {type: int, min: 0, max: 2, default: 0,
                       history: {count: "call borrower", within: 3 days}}
  sms_today:          {type: int, min: 0, max: 5, default: 0,
                       history: {count: "sms", within: 1 day}}
  referred:           {type: bool, default: false, history: {ever: "refer legal"}}
actions:
  call:      {targets: [borrower], stage: 1, templates: [collect_now]}
  sms:       {targets: [borrower], stage: 1, templates: [thanks]}
  visit:     {targets: [borrower], stage: 2}
  notify:    {targets: [borrower, heir], stage: 3, templates: [overdue_notice, demand]}
  refer:     {targets: [legal], stage: 5}
  blacklist: {targets: [borrower], stage: 4}
"""

POLICY = """\
policy fast version "1"
schema "fast.schema.yaml"
param cap = 2
param letter_gap = 10 days
rule early: overdue between 1 day and 3 days -> call borrower
rule visit: overdue >= 4 days and days_since_visit >= 3 days -> visit borrower
rule letter: overdue >= 7 days and days_since_letter > letter_gap
  -> notify borrower using overdue_notice, call borrower
rule cap priority 100: calls_last_3d >= cap -> suppress call borrower
rule remind: due_in == 2 days and sms_today == 0 -> sms borrower
rule remind_again: due_in <= 1 day and sms_today >= 1 -> sms borrower
rule demand: periods_overdue >= 2 and overdue_amount > 150 CNY
  -> notify borrower using demand
rule thanks: outstanding < 50.5 CNY and not never_paid -> sms borrower using thanks
rule legal: days_since_payment >= 20 days and matured and not referred -> refer legal
rule black: longest_overdue >= 25 days and referred -> blacklist borrower
rule final_due: next_due_final and contact == lost -> visit borrower
rule collect: balance >= overdue_amount * 2 and overdue >= 1 day and rate < 5
  -> call borrower using collect_now
rule region: region in {3, 7} and overdue_amount >= outstanding / 4 -> sms borrower
rule heir priority 50 final: deceased -> notify heir
"""


@cache
def hand() -> CompiledPolicy:
    return load_policy_text(POLICY, schema_text=SCHEMA)


BASE = date(2026, 1, 1)


def loan(name: str, origination: int, dues: list[tuple[int, str]],
         payments: list[tuple[int, str]] = (), events: list[tuple[int, str, Any]] = (),  # type: ignore[assignment]
         **static: Any) -> LoanHistory:
    """A loan from day offsets (from BASE) and amount texts; `region` 1 unless given."""
    def day(offset: int) -> date:
        return BASE + timedelta(days=offset)
    facts = {"region": 1, **static}
    return LoanHistory(
        loan_id=name, origination_date=day(origination), static=MappingProxyType(facts),
        installments=tuple(sorted((Installment(n, day(d), Decimal(a))
                                   for n, (d, a) in enumerate(dues, 1)),
                                  key=lambda i: (i.due_date, i.number))),
        payments=tuple(sorted((Payment(day(d), Decimal(a)) for d, a in payments),
                              key=lambda p: p.date)),
        events=tuple(sorted((Event(day(d), f, v) for d, f, v in events),
                            key=lambda e: e.date)),
        line=2)


WORKED = Portfolio((
    loan("partial", 0, [(5, "100.00"), (20, "100.00"), (35, "100.00")],
         [(8, "60.00"), (12, "40.00"), (30, "30.00"), (30, "20.00")]),
    loan("over", 0, [(5, "100.00"), (20, "100.00"), (35, "100.00")],
         [(6, "250.00"), (36, "60.00")]),
    loan("origination_events", 3, [(10, "80.00"), (40, "80.00")], [],
         [(3, "contact", "lost"), (3, "contact", "reachable"), (3, "contact", "lost"),
          (1, "balance", Decimal("500.25")), (15, "deceased", True)]),
    loan("repaid_at_once", 2, [(10, "80.00")], [(2, "80.00")]),
    loan("nothing_owed", 2, [(10, "0.00")]),
    loan("zero_payment", 0, [(3, "10.00"), (50, "10.00")], [(4, "0"), (60, "0.001")]),
    loan("before_origination", 4, [(4, "10.00"), (9, "90.00")], [(1, "5.00")],
         [(0, "rate", Decimal("7.25")), (30, "rate", Decimal("0.125"))], region=3),
))


def test_the_worked_histories_replay_identically() -> None:
    result = replay_both(hand(), WORKED)
    by_loan = dict(result.by_loan())
    assert "repaid_at_once" not in by_loan and "nothing_owed" not in by_loan
    assert by_loan["over"][-1].day == BASE + timedelta(days=35)    # repaid on day 36
    assert max(d.overdue for d in by_loan["partial"]) > 0
    actions = {str(a) for d in result.days for a in d.actions}
    assert {"call borrower", "visit borrower", "notify borrower using overdue_notice",
            "sms borrower", "notify heir"} <= actions


def test_a_window_starting_after_origination_keeps_the_earlier_history() -> None:
    window = Window(start=BASE + timedelta(days=25), end=BASE + timedelta(days=70))
    result = replay_both(hand(), WORKED, window, {"cap": "1"})
    assert result.days and all(d.day >= window.start for d in result.days)   # type: ignore[operator]
    replay_both(hand(), WORKED, Window(start=BASE + timedelta(days=400)))


AMOUNTS = ("0", "0.01", "10", "33.333", "50", "99.99", "100.00", "150.005", "400")


@st.composite
def random_loan(draw: st.DrawFn, name: str) -> LoanHistory:
    offsets = st.integers(0, 80)
    origination = draw(st.integers(0, 15))
    dues = draw(st.lists(st.tuples(st.integers(origination, 90), st.sampled_from(AMOUNTS)),
                         max_size=4))
    payments = draw(st.lists(st.tuples(st.integers(origination - 2, 95),
                                       st.sampled_from(AMOUNTS)), max_size=5))
    events = draw(st.lists(st.one_of(
        st.tuples(offsets, st.just("contact"), st.sampled_from(("reachable", "lost"))),
        st.tuples(offsets, st.just("deceased"), st.booleans()),
        st.tuples(offsets, st.just("balance"), st.sampled_from(AMOUNTS).map(Decimal)),
        st.tuples(offsets, st.just("rate"), st.sampled_from(("0", "4.99", "5.0001",
                                                              "12.5")).map(Decimal)),
        st.tuples(offsets, st.just("region"), st.integers(0, 9))), max_size=4))
    return loan(name, origination, dues, payments, events, region=draw(st.integers(0, 9)))


@st.composite
def portfolios(draw: st.DrawFn) -> Portfolio:
    count = draw(st.integers(1, 6))
    return Portfolio(tuple(draw(random_loan(f"R{i}")) for i in range(count)))


HAND_WINDOWS = st.builds(Window, st.one_of(st.none(), st.integers(0, 60).map(
    lambda d: BASE + timedelta(days=d))), st.one_of(st.none(), st.integers(0, 100).map(
        lambda d: BASE + timedelta(days=d))))


@settings(max_examples=60, deadline=None)
@given(portfolio=portfolios(), window=HAND_WINDOWS, chunk=st.integers(1, 4),
       params=st.fixed_dictionaries({}, optional={"cap": st.sampled_from(("0", "1", "3")),
                                                  "letter_gap": st.sampled_from(
                                                      ("0 days", "3 days", "20 days"))}))
def test_random_hand_made_histories_replay_identically(
        portfolio: Portfolio, window: Window, chunk: int, params: dict[str, str]) -> None:
    replay_both(hand(), portfolio, window, params, chunk)


def test_loan_days_are_built_slot_by_slot() -> None:
    """`loan_days` sets LoanDay's slots column by column (twice as fast as its __init__);
    a new LoanDay field must be added to its setters, or the fast path is lost silently."""
    assert fastreplay._SLOTS is not None
    assert len(fastreplay._SLOTS) == len(attrs.fields(LoanDay))
