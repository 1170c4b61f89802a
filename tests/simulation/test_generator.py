"""The portfolio generator: deterministic, valid by the simulation input contract,
realistic enough to exercise a policy (every repayment behaviour shows up in the
data), and the bundled example is exactly what its documented command writes."""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.simulation.generator import (
    DEFAULT_MIX,
    EVENT_FACTS,
    EXAMPLE_DIR,
    EXAMPLE_PARAMETERS,
    LEDGER_FACTS,
    SCHEMA_PATH,
    Behaviour,
    GeneratedPortfolio,
    add_months,
    generate_portfolio,
    is_history_fact,
    load_schema_facts,
    loan_columns,
    main,
    write_portfolio,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema_facts(SCHEMA_PATH)
FILES = ("loans.csv", "installments.csv", "payments.csv", "events.csv", "notice_data.json")
MONEY = re.compile(r"\d+\.\d{2}")
START = date(2025, 1, 1)
Rows = list[dict[str, str]]


def read(directory: Path, name: str) -> Rows:
    with (directory / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def written(portfolio: GeneratedPortfolio, directory: Path) -> dict[str, bytes]:
    write_portfolio(portfolio, directory)
    return {name: (directory / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[GeneratedPortfolio, Path]:
    portfolio = generate_portfolio(500, seed=7, start=START)
    directory = tmp_path_factory.mktemp("big")
    write_portfolio(portfolio, directory)
    return portfolio, directory


# -- validity: the contract of LANGUAGE.md "Simulation" ----------------------------------

def check_value(fact: str, text: str) -> None:
    """A loans.csv cell or event value is in the schema fact's domain, as CSV text."""
    spec = SCHEMA[fact]
    kind = spec["type"]
    if kind == "bool":
        assert text in {"true", "false"}, (fact, text)
    elif kind == "enum":
        assert text in spec["values"], (fact, text)
    elif kind == "money":
        assert MONEY.fullmatch(text), (fact, text)
    elif kind == "decimal":
        assert Decimal(text) >= spec.get("min", 0), (fact, text)
    elif kind in {"int", "days"}:       # durations of the deadlines; the conduct facts
        assert spec["min"] <= int(text) <= spec["max"], (fact, text)
    else:
        raise AssertionError(f"generator writes {fact} of type {kind}")
    if kind in {"money", "decimal"} and "max" in spec:
        assert Decimal(text) <= spec["max"], (fact, text)


def check_sorted(rows: Rows, *keys: str) -> None:
    ordered = [tuple(row[k] for k in keys) for row in rows]
    assert ordered == sorted(ordered)


def check_loans(rows: Rows) -> dict[str, date]:
    assert rows, "no loans"
    assert list(rows[0]) == ["loan_id", "origination_date", *loan_columns(SCHEMA)]
    check_sorted(rows, "loan_id")
    assert len({row["loan_id"] for row in rows}) == len(rows)
    for row in rows:
        assert row["currency"] == "CNY"
        for fact in loan_columns(SCHEMA)[1:]:
            check_value(fact, row[fact])
    return {row["loan_id"]: date.fromisoformat(row["origination_date"]) for row in rows}


def check_installments(rows: Rows, loans: Mapping[str, date],
                       lent: Mapping[str, Decimal]) -> dict[str, list[tuple[date, Decimal]]]:
    """Well-formed schedules; the principal parts of a loan add up to its principal."""
    assert list(rows[0]) == ["loan_id", "installment_no", "due_date", "amount_due",
                             "principal_due", "interest_due"]
    schedules: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    principal: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        assert MONEY.fullmatch(row["amount_due"]) and Decimal(row["amount_due"]) > 0
        assert MONEY.fullmatch(row["principal_due"]) and MONEY.fullmatch(row["interest_due"])
        assert Decimal(row["principal_due"]) >= 0 and Decimal(row["interest_due"]) > 0
        assert Decimal(row["principal_due"]) + Decimal(row["interest_due"]) == \
            Decimal(row["amount_due"])
        principal[row["loan_id"]] += Decimal(row["principal_due"])
        schedule = schedules[row["loan_id"]]
        assert int(row["installment_no"]) == len(schedule) + 1
        due = date.fromisoformat(row["due_date"])
        assert due > (schedule[-1][0] if schedule else loans[row["loan_id"]])
        schedule.append((due, Decimal(row["amount_due"])))
    assert set(schedules) == set(loans), "every loan has at least one instalment"
    assert principal == lent
    return schedules


def check_payments(rows: Rows, loans: Mapping[str, date], end: date,
                   schedules: Mapping[str, list[tuple[date, Decimal]]]) -> None:
    check_sorted(rows, "loan_id", "date")
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        day = date.fromisoformat(row["date"])
        assert loans[row["loan_id"]] <= day <= end
        assert MONEY.fullmatch(row["amount"]) and Decimal(row["amount"]) > 0
        paid[row["loan_id"]] += Decimal(row["amount"])
    for loan_id, amount in paid.items():
        assert amount <= sum(a for _, a in schedules[loan_id]), "never paid beyond the debt"


def check_events(rows: Rows, loans: Mapping[str, date], end: date) -> None:
    check_sorted(rows, "loan_id", "date")
    seen = set()
    for row in rows:
        assert loans[row["loan_id"]] <= date.fromisoformat(row["date"]) <= end
        assert row["fact"] in SCHEMA and row["fact"] in EVENT_FACTS
        check_value(row["fact"], row["value"])
        key = (row["loan_id"], row["date"], row["fact"])
        assert key not in seen, f"two values for one fact on one day: {key}"
        seen.add(key)


def check_notice_data(path: Path, loan_rows: Rows) -> None:
    """A contract and a borrower for every loan, and a guarantor exactly for the loans
    that have one: what the notices of `simulate --notices` need."""
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data["loans"]) == [r["loan_id"] for r in loan_rows]
    contracts = [entry["contract_no"] for entry in data["loans"].values()]
    assert len(set(contracts)) == len(contracts)
    for row in loan_rows:
        entry = data["loans"][row["loan_id"]]
        assert entry["borrower"]["name"] and entry["borrower"]["address"]
        assert ("guarantor" in entry) == (row["has_guarantor"] == "true")
    assert {"lender", "branch", "acceleration", "verification"} <= set(data["defaults"])


def check_directory(directory: Path, end: date) -> None:
    """Every file of the simulation input layout is well formed and consistent."""
    for name in FILES:
        assert b"\r" not in (directory / name).read_bytes(), f"{name}: LF line ends"
    loan_rows = read(directory, "loans.csv")
    loans = check_loans(loan_rows)
    schedules = check_installments(read(directory, "installments.csv"), loans,
                                   {r["loan_id"]: Decimal(r["principal"]) for r in loan_rows})
    check_notice_data(directory / "notice_data.json", loan_rows)
    check_payments(read(directory, "payments.csv"), loans, end, schedules)
    events = read(directory, "events.csv")
    assert list(events[0] if events else ["loan_id", "date", "fact", "value"]) == [
        "loan_id", "date", "fact", "value"]
    check_events(events, loans, end)


def test_every_schema_fact_is_ledger_history_or_a_loans_column() -> None:
    columns = set(loan_columns(SCHEMA))
    for name, spec in SCHEMA.items():
        assert (name in LEDGER_FACTS) + is_history_fact(spec) + (name in columns) == 1, name
    assert columns >= EVENT_FACTS


def test_loans_columns_are_the_static_facts() -> None:
    assert loan_columns(SCHEMA) == (
        "currency", "principal", "loan_type", "has_guarantor", "contact_status",
        "interest_overdue", "interest_only", "debit_failed", "account_balance",
        "limitation_years", "guarantee_months", "ability", "willingness", "cause",
        "business_viable", "over_indebted", "borrower_deceased",
        "borrower_missing", "in_litigation", "in_enforcement", "only_home", "home_area_m2",
        "home_bare_shell",
        # the conduct facts of the guards: not modelled, written at their defaults
        "local_hour", "night_contact_consent", "unanswered_dials_today",
        "connected_calls_today", "failed_attempts_in_a_row", "days_since_conversation",
        "written_dispute", "cease_request", "has_attorney", "time_barred")


def test_a_500_loan_portfolio_is_valid(big: tuple[GeneratedPortfolio, Path]) -> None:
    portfolio, directory = big
    check_directory(directory, portfolio.end)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 12), months=st.integers(1, 24),
       start=st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_any_seed_and_size_gives_valid_files(seed: int, n: int, months: int,
                                             start: date) -> None:
    end = add_months(start, months) - timedelta(days=1)
    portfolio = generate_portfolio(n, seed=seed, start=start, end=end)
    assert len(portfolio.loans) == n
    with tempfile.TemporaryDirectory() as temp:
        write_portfolio(portfolio, Path(temp))
        check_directory(Path(temp), end)


# -- determinism ---------------------------------------------------------------------

def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = written(generate_portfolio(60, seed=3, start=START), tmp_path / "a")
    second = written(generate_portfolio(60, seed=3, start=START), tmp_path / "b")
    other = written(generate_portfolio(60, seed=4, start=START), tmp_path / "c")
    assert first == second
    assert first["payments.csv"] != other["payments.csv"]


def test_a_loan_does_not_depend_on_how_many_follow_it() -> None:
    end = date(2026, 2, 28)
    small = generate_portfolio(20, seed=5, start=START, end=end, origination_days=180)
    large = generate_portfolio(40, seed=5, start=START, end=end, origination_days=180)
    assert large.loans[:20] == small.loans
    assert large.installments[:len(small.installments)] == small.installments


def example_command() -> str:
    args = EXAMPLE_PARAMETERS
    return (f"python -m engine.simulation.generator --loans {args['loans']} "
            f"--seed {args['seed']} --start {args['start'].isoformat()} "
            f"--months {args['months']} --out engine/simulation/example")


def test_the_bundled_example_is_what_its_command_writes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*example_command().split()[3:-1], str(tmp_path)]
    assert main(argv) == 0
    for name in FILES:
        assert (EXAMPLE_DIR / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"{name} drifted: rerun the command in {EXAMPLE_DIR / 'README.md'}")
    assert sum((EXAMPLE_DIR / name).stat().st_size for name in FILES) < 1_000_000
    summary = capsys.readouterr().out.replace(str(tmp_path), "engine/simulation/example")
    page = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")
    assert f"$ {example_command()}\n{summary}" in page, "docs show the command and its output"
    assert f"$ {example_command()}\n" in (EXAMPLE_DIR / "README.md").read_text(encoding="utf-8")


def test_the_docs_describe_every_behaviour() -> None:
    page = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")
    for behaviour in Behaviour:
        assert f"| `{behaviour.value}` | {DEFAULT_MIX[behaviour]} |" in page, behaviour


# -- realism: the behaviours show in the data ------------------------------------------

def outcomes(schedule: Sequence[tuple[date, Decimal]], payments: Sequence[tuple[date, Decimal]],
             end: date) -> set[str]:
    """What a loan's rows show, by the replay's own rule (oldest instalment first)."""
    found: set[str] = set()
    cumulative = [sum(a for _, a in schedule[:i + 1]) for i in range(len(schedule))]
    paid, paid_on = Decimal(0), [None] * len(schedule)
    for day, amount in payments:
        before = sum(1 for c in cumulative if c <= paid)
        paid += amount
        covered = sum(1 for c in cumulative if c <= paid)
        for i in range(before, covered):
            paid_on[i] = day
        if covered == before:
            found.add("partial")
        elif paid not in cumulative:
            found.add("overpay")
    if not payments and schedule[0][0] <= end - timedelta(days=60):
        found.add("never_paid")
    if paid == cumulative[-1] and len(schedule) > 1 and payments[-1][0] < schedule[-2][0]:
        found.add("repaid_early")
    late = [i for i, (due, _) in enumerate(schedule) if paid_on[i] is None or paid_on[i] > due]
    if any(paid_on[i] is not None for i in late):
        found.add("cured")
    if any(paid_on[i] is None and schedule[i][0] <= end - timedelta(days=90) for i in late):
        found.add("default_90")
    return found


def test_a_500_loan_portfolio_shows_every_behaviour(big: tuple[GeneratedPortfolio, Path]) -> None:
    portfolio, _ = big
    schedules: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    payments: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for i in portfolio.installments:
        schedules[i.loan_id].append((i.due_date, i.amount_due))
    for p in portfolio.payments:
        payments[p.loan_id].append((p.date, p.amount))
    seen: dict[str, int] = defaultdict(int)
    for loan in portfolio.loans:
        for outcome in outcomes(schedules[loan.loan_id], payments[loan.loan_id], portfolio.end):
            seen[outcome] += 1
    for outcome in ("cured", "default_90", "partial", "overpay", "repaid_early", "never_paid"):
        assert seen[outcome] >= 5, (outcome, dict(seen))
    assert {loan.behaviour for loan in portfolio.loans} == set(Behaviour)


def final_values(portfolio: GeneratedPortfolio) -> dict[str, dict[str, str]]:
    """Each loan's facts after all its events."""
    facts = {loan.loan_id: dict(loan.facts) for loan in portfolio.loans}
    for event in portfolio.events:
        facts[event.loan_id][event.fact] = event.value
    return facts


def test_findings_agree_with_behaviour(big: tuple[GeneratedPortfolio, Path]) -> None:
    portfolio, _ = big
    final = final_values(portfolio)
    troubled = {Behaviour.DEFAULT, Behaviour.FIRST_PAYMENT_DEFAULT}
    for loan in portfolio.loans:
        facts = final[loan.loan_id]
        if facts["cause"] == "wilful_default":
            assert (facts["ability"], facts["willingness"]) == ("good", "poor")
        if facts["cause"] == "cash_gap":
            assert facts["willingness"] == "good"
        if loan.behaviour in {Behaviour.ON_TIME, Behaviour.EARLY, Behaviour.OVERPAY}:
            assert facts["cause"] == "none" and facts["ability"] == "unknown"
        for grave in ("borrower_deceased", "borrower_missing", "in_litigation",
                      "in_enforcement"):
            assert facts[grave] == "false" or loan.behaviour in troubled, (loan, grave)
    assert sum(f["in_enforcement"] == "true" for f in final.values()) >= 3
    assert sum(f["borrower_deceased"] == "true" for f in final.values()) >= 1
    assert sum(f["borrower_missing"] == "true" for f in final.values()) >= 1


def test_enforcement_follows_litigation(big: tuple[GeneratedPortfolio, Path]) -> None:
    portfolio, _ = big
    sued: dict[str, date] = {}
    for event in portfolio.events:
        if event.fact == "in_litigation" and event.value == "true":
            sued.setdefault(event.loan_id, event.date)
        if event.fact == "in_enforcement" and event.value == "true":
            assert sued[event.loan_id] < event.date


def test_loan_types_carry_their_security(big: tuple[GeneratedPortfolio, Path]) -> None:
    portfolio, _ = big
    for loan in portfolio.loans:
        facts: Mapping[str, Any] = loan.facts
        if facts["loan_type"] == "guaranteed":
            assert facts["has_guarantor"] == "true"
        if facts["loan_type"] == "mortgage":
            assert Decimal(facts["home_area_m2"]) >= 45
            assert not (facts["only_home"] == "true" and facts["home_bare_shell"] == "true")
        else:
            assert (facts["only_home"], facts["home_area_m2"], facts["home_bare_shell"]) == (
                "false", "0.0", "false")
    types = {loan.facts["loan_type"] for loan in portfolio.loans}
    assert types == set(SCHEMA["loan_type"]["values"])
    assert any(loan.facts["has_guarantor"] == "true" and loan.facts["loan_type"] != "guaranteed"
               for loan in portfolio.loans)


def test_instalments_are_equal_but_the_last(big: tuple[GeneratedPortfolio, Path]) -> None:
    portfolio, _ = big
    amounts: dict[str, list[Decimal]] = defaultdict(list)
    for i in portfolio.installments:
        amounts[i.loan_id].append(i.amount_due)
    for loan in portfolio.loans:
        dues = amounts[loan.loan_id]
        assert len(set(dues[:-1])) <= 1
        principal = Decimal(loan.facts["principal"])
        if loan.facts["interest_only"] == "true":
            assert len(dues) >= 6 and dues[-1] == principal + dues[0]
        elif len(dues) > 1:
            assert abs(dues[-1] - dues[0]) < len(dues) * Decimal("0.01")
            assert principal < sum(dues) < principal * 2
    assert {len(a) for a in amounts.values()} >= {1, 3, 36}


def test_a_mix_of_one_behaviour_gives_only_that() -> None:
    portfolio = generate_portfolio(60, seed=1, start=START,
                                   mix={Behaviour.FIRST_PAYMENT_DEFAULT: 1})
    assert {loan.behaviour for loan in portfolio.loans} == {Behaviour.FIRST_PAYMENT_DEFAULT}
    enforced = {e.loan_id: e.date for e in portfolio.events
                if e.fact == "in_enforcement" and e.value == "true"}
    # the only money ever seen is what enforcing the security recovers
    assert all(p.date > enforced[p.loan_id] for p in portfolio.payments)
