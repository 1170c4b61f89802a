"""Figures: summary.json's figures from hand-built replays, counted by hand."""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest

from engine.api import CompiledPolicy, load_policy
from engine.decision import Action
from engine.simulation.figures import Figures, band_of, quantiles
from engine.simulation.replay import LoanDay, ReplayResult, Window
from engine.simulation.report import render_report

CALL = Action("call", "borrower", None, 1, ("early_calls",))
REMIND = Action("call", "borrower", "repayment_reminder", 1, ("remind",))
LETTER = Action("notify", "borrower", "overdue_notice", 3, ("overdue_letter",))
VISIT = Action("visit", "borrower", None, 2, ("site_visits",))
LEGAL = Action("refer", "legal", None, 5, ("sue",))


@cache
def retail() -> CompiledPolicy:
    return load_policy("policies/retail.policy")


def day(loan: str, iso: str, overdue: int, *actions: Action) -> LoanDay:
    return LoanDay(loan, date.fromisoformat(iso), overdue, actions)


def result(days: list[LoanDay], loans: int) -> ReplayResult:
    return ReplayResult(retail(), "row", Window(), date(2025, 2, 28), loans, tuple(days))


# L1: a reminder on its due date, then called and written to when 2 days overdue.
# L2: evaluated twice, never acted on. L3: visited at 30 and 31, referred at 95.
DAYS = [
    day("L1", "2025-01-31", 0, REMIND),
    day("L1", "2025-02-02", 2, CALL, LETTER),
    day("L2", "2025-01-31", 0),
    day("L2", "2025-02-01", 0),
    day("L3", "2025-01-31", 30, VISIT),
    day("L3", "2025-02-01", 31, VISIT),
    day("L3", "2025-02-10", 95, LEGAL, VISIT),
]


def figures_of(chunks: list[list[LoanDay]], loans: list[int], **kw: object) -> Figures:
    figures = Figures(retail(), engine="row", window_start=None, end=date(2025, 2, 28),
                      params={"letter_day": "5 days"}, skipped=["L9"], **kw)  # type: ignore[arg-type]
    for days, count in zip(chunks, loans, strict=True):
        figures.add(result(days, count))
    return figures


def test_contract_keys_hold_the_hand_counted_figures() -> None:
    summary = figures_of([DAYS], [3]).summary()
    assert summary["loans"] == 3 and summary["loan_days"] == 7 and summary["actions"] == 7
    assert summary["loans_skipped"] == ["L9"]
    assert summary["by_action"] == {"visit borrower": 3, "call borrower": 1,
                                    "call borrower using repayment_reminder": 1,
                                    "notify borrower using overdue_notice": 1, "refer legal": 1}
    assert summary["by_rule"]["site_visits"] == 3
    assert summary["by_month"] == {"2025-01": 2, "2025-02": 5}
    assert summary["loans_by_highest_stage"] == {"0": 1, "3": 1, "5": 1}


def test_bands_first_fire_and_per_loan_counts() -> None:
    summary = figures_of([DAYS], [3]).summary()
    assert summary["by_overdue_band"]["visit borrower"] == {
        "0": 0, "1-3": 0, "4-6": 0, "7-29": 0, "30-89": 2, "90+": 1}
    # visit first fires for L3 only, at 30 days overdue
    assert summary["first_fire_overdue"]["visit borrower"]["median"] == 30
    assert summary["first_fire_overdue"]["visit borrower"]["loans"] == 1
    assert summary["per_loan"] == {"letters": {"0": 2, "1": 1}, "visits": {"0": 2, "3": 1},
                                   "legal referrals": {"0": 2, "1": 1}}


def test_workload_by_channel_and_cost_from_the_catalogue() -> None:
    summary = figures_of([DAYS], [3]).summary()
    assert summary["by_day"]["2025-02-10"] == {"in_person": 1, "internal": 1}
    assert summary["by_day"]["2025-02-02"] == {"letter": 1, "phone": 1}
    cost = summary["cost"]
    # 2 calls at 2.00, a letter at 25.00, 3 visits at 80.00, a referral at 1500.00
    assert cost["total"] == "1769.00"
    assert cost["by_action"]["visit borrower"] == {"count": 3, "unit": "80.00",
                                                   "total": "240.00"}
    assert summary["currency"] == "CNY"


def test_the_same_loans_in_chunks_give_the_same_figures() -> None:
    whole = figures_of([DAYS], [3]).summary()
    split = figures_of([DAYS[:2], DAYS[2:4], DAYS[4:]], [1, 1, 1]).summary()
    assert whole == split


def test_against_counts_divergence_deltas_and_keeps_examples() -> None:
    theirs = [
        day("L1", "2025-01-31", 0, REMIND),
        day("L1", "2025-02-02", 2, CALL),                # no letter: differs here
        day("L2", "2025-01-31", 0), day("L2", "2025-02-01", 0),
        day("L3", "2025-01-31", 30, VISIT), day("L3", "2025-02-01", 31, VISIT),
        day("L3", "2025-02-10", 95, VISIT),              # no referral: differs here
    ]
    figures = Figures(retail(), engine="row", window_start=None, end=date(2025, 2, 28),
                      params={}, skipped=[], against_policy=retail())
    figures.add(result(DAYS, 3), result(theirs, 3))
    against = figures.summary()["against"]
    assert against["loan_days_differing"] == 2 and against["loans_differing"] == 2
    assert against["actions"] == 5
    assert against["first_divergence_overdue"] == {"2": 1, "95": 1}
    assert against["by_action_delta"]["refer legal"] == {"against": 0, "policy": 1, "delta": 1}
    first = against["examples"][0]
    assert first["loan_id"] == "L1" and first["first_divergence"] == "2025-02-02"
    assert [d["differs"] for d in first["days"]] == [False, True]
    assert first["days"][1]["policy"][1] == {"action": "notify borrower using overdue_notice",
                                             "rules": ["overdue_letter"]}


@pytest.mark.parametrize(("overdue", "band"), [
    (0, "0"), (1, "1-3"), (3, "1-3"), (4, "4-6"), (6, "4-6"), (7, "7-29"), (29, "7-29"),
    (30, "30-89"), (89, "30-89"), (90, "90+"), (3650, "90+")])
def test_band_edges(overdue: int, band: str) -> None:
    assert band_of(overdue) == band


def test_quantiles_are_values_that_occur() -> None:
    # ten loans: 0 (x4), 5 (x4), 50 (x2)
    assert quantiles({0: 4, 5: 4, 50: 2}) == {"min": 0, "p25": 0, "median": 5, "p75": 5,
                                               "p90": 50, "max": 50}


def test_report_is_stable_and_has_every_section_and_no_script() -> None:
    figures = figures_of([DAYS], [3])
    page = render_report(figures)
    assert page == render_report(figures)
    assert "<script" not in page and "<metadata" not in page
    assert "src=" not in page and 'href="http' not in page
    for section in ("overview", "actions", "bands", "first", "per-loan", "stages",
                    "workload", "cost", "compliance", "rules"):
        assert f'<section id="{section}">' in page
    assert page.count('<svg class="chart"') == 7
    assert "1,769.00 CNY" in page
