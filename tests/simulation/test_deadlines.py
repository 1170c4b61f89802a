"""The deadline facts on hand-computed histories (docs/deadlines.md), the schema's
`signed_demand` marks, and the report's deadline section against an independent
recount over generated histories in which deadlines lapse."""

from __future__ import annotations

import calendar
import csv
import json
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from engine.api import load_policy_text
from engine.facts import convert
from engine.simulation.deadlines import DEADLINE_FACTS
from engine.simulation.generator import Behaviour, generate_portfolio, write_portfolio
from engine.simulation.history import DERIVED_FACTS, Installment, LoanHistory, Payment
from engine.simulation.loanday import FactPlan, LoanCursor
from policylang.cli import main
from policylang.schema import load_schema
from policylang.schema_model import Schema

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
NOTICE = ("notify", "borrower", "overdue_notice")          # a signed written demand
REMINDER = ("notify", "borrower", "interest_reminder")     # a notice, but no demand
GUARANTOR = ("notify", "guarantor", "guarantor_demand")
NONE = 100000                                               # "nothing pending"


@cache
def schema() -> Schema:
    loaded = load_schema(POLICIES / "collection.schema.yaml")
    return loaded.schema if hasattr(loaded, "schema") else loaded[0]


def loan(dues: Iterable[tuple[date, str]], *, guarantor: bool = True,
         payments: Iterable[tuple[date, str]] = (), **static: Any) -> LoanHistory:
    facts = schema().facts
    given = {"principal": "1000", "loan_type": "credit", "has_guarantor": guarantor,
             "contact_status": "reachable", **static}
    values = {name: convert(facts[name], value) for name, value in given.items()}
    return LoanHistory(
        loan_id="L1", origination_date=date(2020, 1, 1), static=MappingProxyType(values),
        installments=tuple(Installment(n, due, Decimal(amount))
                           for n, (due, amount) in enumerate(dues, 1)),
        payments=tuple(Payment(day, Decimal(amount)) for day, amount in payments),
        events=(), line=2)


def deadlines(history: LoanHistory, sent: dict[date, list[tuple[str, str, str | None]]],
              end: date = date(2024, 12, 31)) -> dict[date, tuple[int, int]]:
    """(days_to_limitation, days_to_guarantee_end) per day, the `sent` actions recorded
    on their day as a replay records a decision's actions."""
    cursor = LoanCursor(history, FactPlan.of(schema()), end)
    out = {}
    for day, facts in cursor:
        out[day] = (facts["days_to_limitation"], facts["days_to_guarantee_end"])
        cursor.record(day, sent.get(day, []))
    return out


ONE = [(date(2020, 2, 1), "100")]          # one instalment, due 2020-02-01, never paid


def test_a_loan_that_never_pays_counts_three_years_and_six_months_from_its_due_date() -> None:
    days = deadlines(loan(ONE), {})
    assert days[date(2020, 2, 2)] == (1095, 181)        # to 2023-02-01 and 2020-08-01
    assert days[date(2020, 8, 1)][1] == 0               # the guarantee's last day
    assert days[date(2020, 8, 2)][1] == -1              # lapsed: the guarantor is released
    assert days[date(2023, 2, 1)][0] == 0
    assert days[date(2023, 2, 2)][0] == -1
    assert days[date(2024, 12, 31)][0] == -699


def test_a_signed_notice_restarts_limitation_from_the_day_it_is_sent() -> None:
    days = deadlines(loan(ONE), {date(2021, 6, 1): [NOTICE]})
    assert days[date(2021, 6, 1)][0] == (date(2023, 2, 1) - date(2021, 6, 1)).days  # not yet
    assert days[date(2021, 6, 2)][0] == (date(2024, 6, 1) - date(2021, 6, 2)).days


def test_a_notice_that_is_no_demand_restarts_nothing() -> None:
    assert deadlines(loan(ONE), {date(2021, 6, 1): [REMINDER]}) == deadlines(loan(ONE), {})


def test_a_notice_after_the_lapse_does_not_revive_the_period() -> None:
    days = deadlines(loan(ONE), {date(2023, 3, 1): [NOTICE]})
    assert days[date(2023, 3, 2)][0] == (date(2023, 2, 1) - date(2023, 3, 2)).days


def test_a_guarantor_demanded_within_the_period_is_no_longer_a_deadline() -> None:
    days = deadlines(loan(ONE), {date(2020, 3, 1): [GUARANTOR]})
    assert days[date(2020, 3, 1)][1] == (date(2020, 8, 1) - date(2020, 3, 1)).days
    assert days[date(2020, 3, 2)][1] == NONE
    assert days[date(2020, 12, 1)][1] == NONE


def test_a_guarantor_demanded_too_late_or_before_maturity_stays_released() -> None:
    late = deadlines(loan(ONE), {date(2020, 8, 2): [GUARANTOR]})
    assert late[date(2020, 8, 3)][1] == -2
    early = deadlines(loan(ONE), {date(2020, 1, 15): [GUARANTOR]})
    assert early == deadlines(loan(ONE), {})
    on_the_last_day = deadlines(loan(ONE), {date(2020, 8, 1): [GUARANTOR]})
    assert on_the_last_day[date(2020, 8, 2)][1] == NONE


def test_a_contract_guarantee_period_replaces_the_six_month_default() -> None:
    days = deadlines(loan(ONE, guarantee_months=2), {})
    assert days[date(2020, 4, 1)][1] == 0
    assert deadlines(loan(ONE, limitation_years=1), {})[date(2021, 2, 1)][0] == 0


def test_month_ends_clip_to_the_last_day_of_the_month() -> None:
    days = deadlines(loan([(date(2020, 8, 31), "100")], guarantee_months=6), {})
    assert days[date(2021, 2, 28)][1] == 0                # 31 August + 6 months


def test_without_a_guarantor_there_is_no_guarantee_deadline() -> None:
    days = deadlines(loan(ONE, guarantor=False), {})
    assert {value[1] for value in days.values()} == {NONE}


def test_an_instalment_loan_counts_from_its_last_due_date() -> None:
    dues = [(date(2020, 2, 1), "100"), (date(2020, 3, 1), "100"), (date(2020, 4, 1), "100"),
            (date(2020, 5, 1), "0")]                  # nothing due: not an instalment owed
    days = deadlines(loan(dues), {})
    assert days[date(2020, 2, 2)] == ((date(2023, 4, 1) - date(2020, 2, 2)).days,
                                      (date(2020, 10, 1) - date(2020, 2, 2)).days)


def test_a_repaid_loan_is_not_evaluated_so_no_deadline_runs() -> None:
    days = deadlines(loan(ONE, payments=[(date(2020, 3, 1), "100")]), {})
    assert max(days) == date(2020, 2, 29)


def test_the_reader_knows_the_deadline_facts_are_derived() -> None:
    assert set(DEADLINE_FACTS) <= set(DERIVED_FACTS)


# -- the schema marks -----------------------------------------------------------------------

def test_the_catalogue_marks_the_signed_demands() -> None:
    notify = schema().actions["notify"]
    assert notify.signed_demand == {
        "borrower": ("overdue_notice", "interest_demand", "overdue_demand", "matured_demand",
                     "acceleration_notice"),
        "guarantor": ("guarantor_demand",)}


@pytest.mark.parametrize(("value", "message"), [
    ("true", "signed_demand of action \"notify\" must map targets to lists of its templates"),
    ("{branch: [letter]}", "names \"branch\", which is not one of its targets"),
    ("{borrower: [letterr]}", "names template \"letterr\", which is not one of its templates"),
    ("{borrower: []}", "must be a non-empty list of names"),
])
def test_a_malformed_signed_demand_is_e410(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "s.schema.yaml"
    path.write_text("facts:\n  overdue: {type: days, min: 0, max: 10}\nactions:\n"
                    "  notify: {targets: [borrower], stage: 3, templates: [letter],\n"
                    f"           signed_demand: {value}}}\n", encoding="utf-8")
    loaded = load_schema(path)
    diagnostics = loaded.diagnostics if hasattr(loaded, "diagnostics") else loaded[1]
    assert [d.code for d in diagnostics] == ["E410"]
    assert message in diagnostics[0].message


# -- the report lists exactly the loans whose deadlines lapse --------------------------------

# No demand to the borrower; one late look at the guarantor, sometimes within the period.
QUIET = """policy quiet version "1"
schema "collection.schema.yaml"
rule calls: overdue >= 1 day -> call borrower
rule reminder: overdue == 40 days -> notify borrower using interest_reminder
rule guarantor: has_guarantor and matured and overdue == 200 days
  -> notify guarantor using guarantor_demand
"""
QUALIFYING = {"borrower": {"overdue_notice", "interest_demand", "overdue_demand",
                           "matured_demand", "acceleration_notice"},
              "guarantor": {"guarantor_demand"}}


def _plus_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1,
                min(day.day, calendar.monthrange(day.year + year, month + 1)[1]))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def recount(data: Path, out: Path, end: date, margin: int) -> set[tuple[str, str, str]]:
    """(loan, period, status) from the input files and actions.csv, by hand."""
    due: dict[str, list[tuple[date, Decimal]]] = {}
    for row in _rows(data / "installments.csv"):
        due.setdefault(row["loan_id"], []).append((date.fromisoformat(row["due_date"]),
                                                   Decimal(row["amount_due"])))
    paid: dict[str, list[tuple[date, Decimal]]] = {}
    for row in _rows(data / "payments.csv"):
        paid.setdefault(row["loan_id"], []).append((date.fromisoformat(row["date"]),
                                                    Decimal(row["amount"])))
    sent: dict[tuple[str, str], list[date]] = {}
    for row in _rows(out / "actions.csv"):
        if row["verb"] == "notify" and row["using"] in QUALIFYING.get(row["target"], ()):
            kind = "guarantee" if row["target"] == "guarantor" else "limitation"
            sent.setdefault((row["loan_id"], kind), []).append(date.fromisoformat(row["date"]))
    found = set()
    for row in _rows(data / "loans.csv"):
        loan_id = row["loan_id"]
        total = sum(amount for _, amount in due[loan_id])
        running, last = Decimal(0), end
        for day, amount in sorted(paid.get(loan_id, [])):
            running += amount
            if running >= total:
                last = min(end, day - timedelta(days=1))
                break
        maturity = max(day for day, amount in due[loan_id] if amount > 0)
        limit = _plus_months(maturity, 12 * int(row["limitation_years"]))
        for day in sorted(sent.get((loan_id, "limitation"), [])):
            if day <= limit:
                limit = max(limit, _plus_months(day, 12 * int(row["limitation_years"])))
        periods = {"limitation": limit}
        if row["has_guarantor"] == "true":
            ends = _plus_months(maturity, int(row["guarantee_months"]))
            met = any(maturity <= day <= ends for day in sent.get((loan_id, "guarantee"), []))
            if not met:
                periods["guarantee"] = ends
        for period, ends in periods.items():
            if ends < last:
                found.add((loan_id, period, "lapsed"))
            elif last == end and 0 <= (ends - last).days <= margin:
                found.add((loan_id, period, "within_margin"))
    return found


def test_the_report_lists_exactly_the_loans_whose_deadlines_lapse(tmp_path: Path) -> None:
    start, end = date(2019, 1, 1), date(2023, 6, 30)
    data, out = tmp_path / "data", tmp_path / "out"
    mix = {Behaviour.DEFAULT: 3, Behaviour.FIRST_PAYMENT_DEFAULT: 1, Behaviour.LATE_CURE: 1,
           Behaviour.ON_TIME: 1}
    write_portfolio(generate_portfolio(30, seed=6, start=start, end=end, origination_days=120,
                                       mix=mix), data)
    policy = tmp_path / "quiet.policy"
    policy.write_text(QUIET, encoding="utf-8")
    (tmp_path / "collection.schema.yaml").write_text(
        (POLICIES / "collection.schema.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["simulate", str(policy), "--data", str(data), "--to", end.isoformat(),
                 "--out", str(out), "--deadline-margin", "400days"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["deadlines"]
    listed = {(f["loan_id"], f["period"], f["status"]) for f in summary["loans"]}
    assert listed == recount(data, out, end, 400)
    statuses = {(period, status) for _, period, status in listed}
    assert {("limitation", "lapsed"), ("guarantee", "lapsed")} <= statuses
    assert summary["limitation"]["lapsed"] == sum(
        1 for _, period, status in listed if (period, status) == ("limitation", "lapsed"))
    assert "Deadlines and guard suppressions" in (out / "report.html").read_text("utf-8")


def test_the_retail_policy_keeps_the_bundled_example_clear_of_lapses(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["simulate", str(POLICIES / "retail.policy"), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["deadlines"]
    assert summary["limitation"]["lapsed"] == summary["guarantee"]["lapsed"] == 0
    assert summary["margin_days"] == 90


def test_guard_suppressions_are_counted_by_reason() -> None:
    from engine.simulation.deadline_figures import DeadlineTally
    from engine.simulation.replay import LoanDay
    text = ('policy p version "1"\nschema "collection.schema.yaml"\n'
            "rule a: overdue >= 1 day -> call borrower\n"
            "rule b priority 5: overdue >= 3 days -> suppress call borrower\n")
    policy = load_policy_text(text, base_dir=POLICIES)
    decision = policy.evaluate({"overdue": 4, "due_in": 0, "periods_overdue": 1,
                                "overdue_amount": "1", "principal": "1", "loan_type": "credit",
                                "has_guarantor": False, "contact_status": "reachable"})
    renamed = tuple(type(s)(s.verb, s.target, s.using, s.stage, "guard g: " + s.by, s.rules)
                    for s in decision.suppressed)
    tally = DeadlineTally(None, None)
    tally.add_loan([LoanDay("L1", date(2020, 1, 1), 4, (), renamed),
                    LoanDay("L1", date(2020, 1, 2), 5, (), decision.suppressed)])
    assert tally.summary()["guard_suppressions"] == {"guard g: b": 1}

