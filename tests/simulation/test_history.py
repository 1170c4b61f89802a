"""Reading historic loans: the files become immutable, converted loan histories,
or every problem is named with its file, line and loan; `--on-error skip` sets
bad loans aside. Ends with a read of the real SuperLender data when it is there."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.simulation.history import (
    MAX_PROBLEMS,
    Event,
    HistoryRead,
    Installment,
    Payment,
    RowProblem,
    read_history,
)
from engine.simulation.ledger import LoanLedger
from policylang.schema import parse_schema
from policylang.schema_model import Schema

SCHEMA = """\
facts:
  overdue:        {type: days, min: 0, max: 3650}
  due_in:         {type: days, min: 0, max: 366, default: 366}
  overdue_amount: {type: money, currency: NGN, min: 0}
  outstanding:    {type: money, currency: NGN, min: 0}
  principal:      {type: money, currency: NGN, min: 0}
  term_days:      {type: days, min: 1, max: 366}
  loan_type:      {type: enum, values: [cash, salary]}
  has_guarantor:  {type: bool, default: false}
  contact_status: {type: enum, values: [reachable, unreachable, lost], default: reachable}
  in_litigation:  {type: bool, default: false}
  fee_rate:       {type: decimal, min: 0, max: 1, default: 0.2}
  calls_last_7d:  {type: int, min: 0, default: 0,
                   history: {count: "call borrower", within: 7 days}}
actions:
  call: {targets: [borrower], stage: 1}
"""

FILES = {
    "loans.csv": """\
loan_id,customer_id,origination_date,principal,currency,term_days,loan_type,has_guarantor
L1,c9,2026-01-01,1000.00,NGN,30,cash,true
L2,c9,2026-01-05,500,NGN,60,salary,0
""",
    "installments.csv": """\
loan_id,installment_no,due_date,amount_due,status
L2,2,2026-03-06,275.50,open
L1,1,2026-01-31,1150.00,open
L2,1,2026-02-04,275.50,open
""",
    "payments.csv": """\
loan_id,date,amount
L1,2026-02-03,600
L2,2026-02-04,275.50
L1,2026-01-20,550
L1,2026-01-20,0.00
""",
    "events.csv": """\
loan_id,date,fact,value
L1,2026-02-10,contact_status,unreachable
L1,2026-02-01,in_litigation,true
L1,2026-02-01,contact_status,lost
""",
}


def schema_of(text: str = SCHEMA) -> Schema:
    loaded = parse_schema(text, "ng.schema.yaml")
    assert loaded.schema is not None, loaded.diagnostics
    return loaded.schema


def read(tmp_path: Path, files: dict[str, str | None] | None = None, *, on_error: str = "stop",
         schema: str = SCHEMA) -> HistoryRead:
    """Read FILES, with `files` replacing (or, as None, removing) some of them."""
    chosen = {**FILES, **(files or {})}
    for name, text in chosen.items():
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    return read_history(tmp_path, schema_of(schema), on_error=on_error)


def edited(name: str, old: str, new: str) -> dict[str, str | None]:
    assert old in FILES[name]
    return {name: FILES[name].replace(old, new, 1)}


def problems(tmp_path: Path, files: dict[str, str | None], **options: str) -> list[str]:
    return [str(p) for p in read(tmp_path, files, **options).problems]


# -- what a good history becomes ------------------------------------------------------

def test_a_good_history_becomes_sorted_converted_loan_histories(tmp_path: Path) -> None:
    result = read(tmp_path)
    assert result.problems == [] and result.can_simulate and result.notes == ()
    first, second = result.portfolio.loans
    assert (first.loan_id, first.line, first.origination_date) == ("L1", 2, date(2026, 1, 1))
    assert dict(first.static) == {
        "principal": Decimal("1000.00"), "term_days": 30, "loan_type": "cash",
        "has_guarantor": True, "contact_status": "reachable", "in_litigation": False,
        "fee_rate": Decimal("0.2")}                     # customer_id and status are ignored
    assert second.static["has_guarantor"] is False      # "0" is false
    assert second.installments == (                     # by due date, not file order
        Installment(1, date(2026, 2, 4), Decimal("275.50")),
        Installment(2, date(2026, 3, 6), Decimal("275.50")))
    assert first.payments == (Payment(date(2026, 1, 20), Decimal(550)),
                              Payment(date(2026, 1, 20), Decimal("0.00")),
                              Payment(date(2026, 2, 3), Decimal(600)))
    assert first.events == (Event(date(2026, 2, 1), "in_litigation", True),   # file order
                            Event(date(2026, 2, 1), "contact_status", "lost"),  # within a day
                            Event(date(2026, 2, 10), "contact_status", "unreachable"))


def test_records_are_immutable(tmp_path: Path) -> None:
    loan = read(tmp_path).portfolio.loans[0]
    with pytest.raises(AttributeError):
        loan.loan_id = "L7"                                     # type: ignore[misc]
    with pytest.raises(TypeError):
        loan.static["loan_type"] = "salary"                     # type: ignore[index]


def test_payments_recorded_per_instalment_are_applied_oldest_first(tmp_path: Path) -> None:
    installments = """\
loan_id,installment_no,due_date,amount_due,paid_date,amount_paid
L1,1,2026-01-31,1150.00,2026-02-03,1150.00
L2,2,2026-03-06,275.50,2026-02-20,275.50
L2,1,2026-02-04,275.50,,
"""
    result = read(tmp_path, {"installments.csv": installments, "payments.csv": None})
    assert result.problems == []
    l1, l2 = result.portfolio.loans
    assert l1.payments == (Payment(date(2026, 2, 3), Decimal("1150.00")),)
    assert l2.installments[1].paid_date == date(2026, 2, 20)
    # recorded against instalment 2, the payment still pays instalment 1 first
    ledger = LoanLedger(l2, due_in_default=366, days_since_payment_default=100000)
    facts = dict(ledger.days(date(2026, 2, 20), date(2026, 2, 20)))[date(2026, 2, 20)]
    assert (facts["overdue"], facts["overdue_amount"], facts["due_in"]) == (0, 0, 14)


def test_a_defaulted_column_may_be_left_blank_and_columns_may_be_quoted(tmp_path: Path) -> None:
    loans = ('\ufeffloan_id,origination_date,principal,term_days,loan_type,contact_status\r\n'
             'L1,2026-01-01,"1,000",30,cash,\r\n'
             'L2,2026-01-05,500,60,salary,lost\r\n')
    result = read(tmp_path, {"loans.csv": loans})
    assert [str(p) for p in result.problems] == [
        'loans.csv:2: loan L1: fact principal: expected an amount in NGN of at least 0 '
        '(a JSON number or a decimal string such as "1062.67"), got "1,000"']
    result = read(tmp_path, {"loans.csv": loans.replace('"1,000"', "1000")})
    assert [loan.static["contact_status"] for loan in result.portfolio] == ["reachable", "lost"]


def test_line_numbers_are_physical_lines_even_after_a_multiline_field(tmp_path: Path) -> None:
    payments = 'loan_id,date,amount,note\nL1,2026-01-20,550,"two\nlines"\n\nL1,2026-02-03,x,\n'
    assert problems(tmp_path, {"payments.csv": payments}) == [
        'payments.csv:5: loan L1: amount "x" is not a decimal amount']


def test_columns_named_after_derived_facts_are_ignored_with_a_note(tmp_path: Path) -> None:
    loans = FILES["loans.csv"].replace("has_guarantor\n", "has_guarantor,overdue,calls_last_7d\n")
    loans = loans.replace("true\n", "true,4,2\n").replace(",0\n", ",0,0,0\n")
    result = read(tmp_path, {"loans.csv": loans})
    assert result.problems == [] and "overdue" not in result.portfolio.loans[0].static
    assert result.notes == (
        "loans.csv: column overdue is ignored: overdue is a ledger fact, derived from the "
        "instalments and payments",
        "loans.csv: column calls_last_7d is ignored: calls_last_7d is a history fact, derived "
        "from the simulation's own actions (count)")


# -- problems: each named with its file, line and loan ----------------------------------

BAD_ROWS = [
    pytest.param(edited("installments.csv", "1150.00", '"1150,00"'),
                 'installments.csv:3: loan L1: amount_due "1150,00" is not a decimal amount',
                 id="amount"),
    pytest.param(edited("loans.csv", "2026-01-01", "2026/01/01"),
                 'loans.csv:2: loan L1: origination_date "2026/01/01" is not a date (YYYY-MM-DD)',
                 id="date-format"),
    pytest.param(edited("installments.csv", "2026-03-06", "2026-02-30"),
                 'installments.csv:2: loan L2: due_date "2026-02-30" is not a date (YYYY-MM-DD)',
                 id="impossible-date"),
    pytest.param(edited("payments.csv", "L1,2026-02-03", "L9,2026-02-03"),
                 "payments.csv:2: loan L9: no such loan in the loans file", id="unknown-loan"),
    pytest.param(edited("payments.csv", "L1,2026-02-03", ",2026-02-03"),
                 "payments.csv:2: loan_id is empty", id="no-loan-id"),
    pytest.param(edited("loans.csv", "0\n", "0\nL1,c1,2026-01-02,10,NGN,30,cash,false\n"),
                 "loans.csv:4: loan L1: loan id is already on line 2", id="duplicate-loan"),
    pytest.param(edited("installments.csv", "L2,1,", "L2,2,"),
                 "installments.csv:4: loan L2: instalment 2 is already on line 2",
                 id="duplicate-instalment"),
    pytest.param(edited("payments.csv", "600", "-600"),
                 "payments.csv:2: loan L1: amount -600 is negative", id="negative"),
    pytest.param(edited("installments.csv", "L2,1,2026-02-04", "L2,1,2026-01-04"),
                 "installments.csv:4: loan L2: instalment due 2026-01-04 is before the "
                 "origination date 2026-01-05", id="due-before-origination"),
    pytest.param(edited("payments.csv", "L2,2026-02-04", "L2,2026-01-04"),
                 "payments.csv:3: loan L2: payment dated 2026-01-04 is before the origination "
                 "date 2026-01-05", id="paid-before-origination"),
    pytest.param(edited("loans.csv", "salary", "payday"),
                 'loans.csv:3: loan L2: fact loan_type: expected one of cash, salary, '
                 'got "payday"', id="enum"),
    pytest.param(edited("loans.csv", ",60,", ",400,"),
                 "loans.csv:3: loan L2: fact term_days: expected a whole number of days "
                 "between 1 and 366, got 400", id="out-of-domain"),
    pytest.param(edited("loans.csv", ",60,", ",7.5,"),
                 "loans.csv:3: loan L2: fact term_days: expected a whole number of days "
                 "between 1 and 366, got 7.5", id="not-whole"),
    pytest.param(edited("loans.csv", "true", "yes"),
                 'loans.csv:2: loan L1: fact has_guarantor: expected true or false, got "yes"',
                 id="bool"),
    pytest.param(edited("loans.csv", ",30,cash", ",,cash"),
                 "loans.csv:2: loan L1: fact term_days: expected a whole number of days between "
                 "1 and 366, got nothing (the fact is missing and has no default)",
                 id="blank-without-default"),
    pytest.param(edited("loans.csv", "500,NGN", "500,CNY"),
                 "loans.csv:3: loan L2: currency CNY differs from the schema's (principal in "
                 "NGN, overdue_amount in NGN, outstanding in NGN)", id="currency"),
    pytest.param(edited("events.csv", "10,contact_status", "10,contact_stat"),
                 "events.csv:2: loan L1: fact contact_stat is not in the schema "
                 "(did you mean contact_status?)", id="unknown-fact"),
    pytest.param(edited("events.csv", "10,contact_status,unreachable", "10,overdue,3"),
                 "events.csv:2: loan L1: fact overdue cannot be given by events: it is a "
                 "ledger fact, derived from the instalments and payments", id="ledger-fact"),
    pytest.param(edited("events.csv", "10,contact_status,unreachable", "10,calls_last_7d,3"),
                 "events.csv:2: loan L1: fact calls_last_7d cannot be given by events: it is a "
                 "history fact, derived from the simulation's own actions (count)",
                 id="history-fact"),
    pytest.param(edited("events.csv", "unreachable", "gone"),
                 'events.csv:2: loan L1: fact contact_status: expected one of reachable, '
                 'unreachable, lost, got "gone"', id="event-value"),
    pytest.param(edited("events.csv", "unreachable", ""),
                 "events.csv:2: loan L1: the value of contact_status is empty",
                 id="event-blank"),
    pytest.param(edited("payments.csv", "L1,2026-02-03,600", "L1,2026-02-03,600,9"),
                 "payments.csv:2: loan L1: has 4 fields, the header has 3", id="fields"),
]


@pytest.mark.parametrize(("files", "expected"), BAD_ROWS)
def test_a_bad_row_is_named_with_its_file_line_and_loan(
        tmp_path: Path, files: dict[str, str | None], expected: str) -> None:
    result = read(tmp_path, files)
    assert [str(p) for p in result.problems] == [expected]
    assert not result.can_simulate and result.portfolio.loans == ()


BAD_FILES = [
    pytest.param(edited("installments.csv", ",due_date,", ",duedate,"),
                 ["installments.csv:1: has no column due_date (did you mean duedate?)"],
                 id="column"),
    pytest.param(edited("loans.csv", ",term_days,", ",term,"),
                 ["loans.csv:1: has no column for fact term_days, which has no default"],
                 id="fact-column"),
    pytest.param({"installments.csv": None},
                 ["installments.csv: not found in {dir} (nor installments.parquet)"],
                 id="file"),
    pytest.param(edited("installments.csv", ",amount_due,status", ",amount_due,paid_date"),
                 ["installments.csv:1: has a paid_date column but not the other of paid_date, "
                  "amount_paid; give both or neither"], id="half-paid-columns"),
    pytest.param({"payments.csv": ""}, ["payments.csv:1: has no header line naming its columns"],
                 id="empty"),
    pytest.param(edited("events.csv", "fact,value", "fact,fact"),
                 ["events.csv:1: names column fact more than once"], id="twice"),
    pytest.param({"loans.parquet": "not parquet"},
                 ["loans.csv: both loans.csv and loans.parquet exist; keep one"],
                 id="csv-and-parquet"),
]


@pytest.mark.parametrize(("files", "expected"), BAD_FILES)
def test_a_file_level_problem_stops_even_when_skipping(
        tmp_path: Path, files: dict[str, str | None], expected: list[str]) -> None:
    result = read(tmp_path, files, on_error="skip")
    assert [str(p) for p in result.problems] == [e.format(dir=tmp_path) for e in expected]
    assert all(p.loan_id is None for p in result.problems)
    assert not result.can_simulate and result.portfolio.loans == ()


def test_a_missing_directory_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    result = read_history(tmp_path / "nowhere", schema_of())
    assert [str(p) for p in result.problems] == [f"{tmp_path / 'nowhere'}: is not a directory"]


def test_a_file_that_is_not_utf8_is_named_at_its_line(tmp_path: Path) -> None:
    read(tmp_path)
    bad = FILES["events.csv"].encode() + b"L1,2026-02-11,x,\xff\n"    # byte 148 of the file
    (tmp_path / "events.csv").write_bytes(bad)
    assert problems(tmp_path, {"events.csv": None}) == [
        "events.csv:5: byte 148 is not UTF-8 text; save the file as UTF-8"]


def test_a_problem_reads_like_the_contracts_example() -> None:
    reason = 'amount_due "12,5" is not a decimal amount'
    assert str(RowProblem("installments.csv", 14, "L0003", reason)) == \
        'installments.csv:14: loan L0003: amount_due "12,5" is not a decimal amount'


def test_a_fact_given_only_by_events_needs_a_value_by_the_origination_date(tmp_path: Path) -> None:
    loans = FILES["loans.csv"].replace(",loan_type", "").replace(",cash", "").replace(",salary", "")
    events = FILES["events.csv"] + "L1,2026-01-01,loan_type,cash\nL2,2026-01-06,loan_type,salary\n"
    result = read(tmp_path, {"loans.csv": loans, "events.csv": events})
    assert [str(p) for p in result.problems] == [
        "loans.csv:3: loan L2: fact loan_type has no value on the origination date 2026-01-05: "
        "no column in loans.csv, no default, and no event in events.csv sets it by then"]
    result = read(tmp_path, {"loans.csv": loans,
                             "events.csv": events.replace("2026-01-06", "2026-01-05")})
    assert result.problems == []
    assert "loan_type" not in result.portfolio.loans[0].static   # it lives in the events
    assert result.portfolio.loans[0].events[0] == Event(date(2026, 1, 1), "loan_type", "cash")


def test_payments_recorded_in_two_places_are_refused(tmp_path: Path) -> None:
    installments = FILES["installments.csv"].replace("status", "paid_date,amount_paid")
    installments = installments.replace("1150.00,open", "1150.00,2026-02-03,1150.00")
    installments = installments.replace(",open", ",,")
    assert problems(tmp_path, {"installments.csv": installments}) == [
        "payments.csv:2: loan L1: payments are recorded twice: installments line 3 has "
        "paid_date and amount_paid for this loan too; keep one"]


def test_a_loan_without_instalments_is_a_problem(tmp_path: Path) -> None:
    installments = "".join(line for line in FILES["installments.csv"].splitlines(keepends=True)
                           if not line.startswith("L1,"))
    assert problems(tmp_path, {"installments.csv": installments}) == [
        "loans.csv:2: loan L1: has no instalments in installments.csv"]


def test_paid_date_and_amount_paid_go_together(tmp_path: Path) -> None:
    installments = FILES["installments.csv"].replace("status", "paid_date,amount_paid")
    installments = installments.replace("1150.00,open", "1150.00,2026-02-03,")
    installments = installments.replace(",open", ",,")
    assert problems(tmp_path, {"installments.csv": installments, "payments.csv": None}) == [
        "installments.csv:3: loan L1: paid_date is given without amount_paid"]


def test_an_instalment_may_be_split_into_principal_and_interest(tmp_path: Path) -> None:
    installments = """\
loan_id,installment_no,due_date,amount_due,principal_due,interest_due
L1,1,2026-01-31,1150.00,1000.00,150.00
L2,2,2026-03-06,275.50,250.00,25.50
L2,1,2026-02-04,275.50,,
"""
    result = read(tmp_path, {"installments.csv": installments})
    assert result.problems == []
    l1, l2 = result.portfolio.loans
    assert (l1.installments[0].principal_due, l1.installments[0].interest_due) == (
        Decimal("1000.00"), Decimal("150.00"))
    assert l2.installments[0].principal_due is None          # blank: this one is not split
    assert l2.installments[1].interest_due == Decimal("25.50")


def test_the_split_must_add_up_and_come_in_pairs(tmp_path: Path) -> None:
    header = "loan_id,installment_no,due_date,amount_due,principal_due,interest_due\n"
    rows = FILES["installments.csv"].split("\n", 1)[1].replace(",open", ",100.00,50.00")
    assert problems(tmp_path, {"installments.csv": header + rows})[0] == (
        "installments.csv:2: loan L2: principal_due 100.00 + interest_due 50.00 is not "
        "amount_due 275.50")
    one = FILES["installments.csv"].replace("status", "principal_due")
    assert problems(tmp_path, {"installments.csv": one}) == [
        "installments.csv:1: has a principal_due column but not the other of principal_due, "
        "interest_due; give both or neither"]


# -- stop or skip -------------------------------------------------------------------------

def test_skipping_sets_aside_each_loan_with_a_problem_and_keeps_the_rest(
        tmp_path: Path) -> None:
    files = {**edited("loans.csv", "salary", "payday"),
             **edited("payments.csv", "L1,2026-02-03", "L9,2026-02-03")}
    stopped = read(tmp_path, files)
    assert len(stopped.problems) == 2 and not stopped.can_simulate
    assert stopped.skipped_loans == () and stopped.portfolio.loans == ()
    skipped = read(tmp_path, files, on_error="skip")
    assert skipped.can_simulate and skipped.skipped_loans == ("L2",)
    assert [loan.loan_id for loan in skipped.portfolio] == ["L1"]
    assert [str(p) for p in skipped.problems] == [str(p) for p in stopped.problems]


def test_problems_are_listed_up_to_a_limit_then_counted(tmp_path: Path) -> None:
    extra = "".join(f"L1,2026-02-{day % 28 + 1:02d},oops\n" for day in range(MAX_PROBLEMS + 20))
    result = read(tmp_path, {"payments.csv": FILES["payments.csv"] + extra}, on_error="skip")
    assert len(result.problems) == MAX_PROBLEMS and result.more_problems == 20
    assert result.report()[-1] == "and 20 more problems"
    assert result.skipped_loans == ("L1",)
    assert [loan.loan_id for loan in result.portfolio] == ["L2"]


def test_on_error_must_be_stop_or_skip(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="on_error"):
        read_history(tmp_path, schema_of(), on_error="ignore")


# -- Parquet ----------------------------------------------------------------------------

def test_parquet_files_with_the_same_columns_read_the_same(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    csv_dir, parquet_dir = tmp_path / "csv", tmp_path / "parquet"
    csv_dir.mkdir()
    parquet_dir.mkdir()
    expected = read(csv_dir)
    pq.write_table(pa.table({
        "loan_id": ["L1", "L2"], "origination_date": [date(2026, 1, 1), date(2026, 1, 5)],
        "principal": pa.array([Decimal("1000.00"), Decimal(500)], pa.decimal128(12, 2)),
        "currency": ["NGN", "NGN"], "term_days": [30, 60], "loan_type": ["cash", "salary"],
        "has_guarantor": [True, False]}), parquet_dir / "loans.parquet")
    pq.write_table(pa.table({
        "loan_id": ["L2", "L1", "L2"], "installment_no": [2, 1, 1],
        "due_date": ["2026-03-06", "2026-01-31", "2026-02-04"],         # text dates work too
        "amount_due": ["275.50", "1150.00", "275.50"]}), parquet_dir / "installments.parquet")
    for name in ("payments.csv", "events.csv"):
        (parquet_dir / name).write_text(FILES[name], encoding="utf-8")
    result = read_history(parquet_dir, schema_of())
    assert result.problems == []
    assert result.portfolio == expected.portfolio


def test_a_parquet_row_problem_names_the_row_as_a_line(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({
        "loan_id": ["L1", "L2"], "installment_no": [1, 1],
        "due_date": [date(2026, 1, 31), date(2026, 2, 4)],
        "amount_due": [1150.0, -3.0]}), tmp_path / "installments.parquet")
    result = read(tmp_path, {"installments.csv": None})
    assert [str(p) for p in result.problems] == [
        "installments.parquet:3: loan L2: amount_due -3.0 is negative"]


# -- the real SuperLender data (internal; never copied into the repo) --------------------

SUPERLENDER = Path("/work/shared/data/superlender_ng")
NG_SCHEMA = """\
facts:
  overdue:            {type: days, min: 0, max: 3650}
  due_in:             {type: days, min: 0, max: 366, default: 366}
  periods_overdue:    {type: int, min: 0, max: 600}
  overdue_amount:     {type: money, currency: NGN, min: 0}
  outstanding:        {type: money, currency: NGN, min: 0}
  never_paid:         {type: bool, default: false}
  days_since_payment: {type: days, min: 0, max: 100000, default: 100000}
  principal:          {type: money, currency: NGN, min: 0}
  term_days:          {type: days, min: 1, max: 366}
  n_installments:     {type: int, min: 1, max: 12}
actions:
  call: {targets: [borrower], stage: 1}
"""


@pytest.fixture(scope="module")
def superlender() -> HistoryRead:
    if not (SUPERLENDER / "loans.csv").is_file():
        pytest.skip("the SuperLender data is not on this machine")
    return read_history(SUPERLENDER, schema_of(NG_SCHEMA))


def test_the_superlender_history_reads_without_problems(superlender: HistoryRead) -> None:
    stats = json.loads((SUPERLENDER / "stats.json").read_text(encoding="utf-8"))
    assert superlender.report() == [] and superlender.can_simulate
    assert len(superlender.portfolio) == stats["loans_csv_rows"]
    assert sum(len(loan.installments) for loan in superlender.portfolio) == \
        stats["installments_csv_rows"]
    for loan in superlender.portfolio:
        assert len(loan.installments) == loan.static["n_installments"]
        assert loan.payments                          # every loan closed: paid per instalment


def test_every_superlender_ledger_is_sane_and_stops_when_repaid(
        superlender: HistoryRead) -> None:
    longest: list[int] = []
    for loan in superlender.portfolio:
        ledger = LoanLedger(loan, due_in_default=366, days_since_payment_default=100000)
        repaid = ledger.repaid_on
        assert repaid is not None                     # every previous loan is closed
        last, worst = None, 0
        for day, facts in ledger.days(date(2016, 1, 1), date(2018, 1, 1)):
            assert facts["overdue"] >= 0 and facts["periods_overdue"] >= 0
            assert 0 <= facts["overdue_amount"] <= facts["outstanding"]
            assert (facts["overdue"] == 0) == (facts["periods_overdue"] == 0)
            last, worst = day, facts["longest_overdue"]
        assert last is None or (repaid - last).days == 1
        longest.append(worst)
    # stats.json counts a loan N days late when a payment came N days after a due date.
    # The payment is part of that day's state, so the ledger last sees N - 1 days overdue.
    stats = json.loads((SUPERLENDER / "stats.json").read_text(encoding="utf-8"))
    late = stats["lateness_any_installment_until_paid_in_full"]
    for days in (7, 30, 90):
        assert sum(worst >= days - 1 for worst in longest) == \
            late[f"ever_{days}plus_days_late"]["loans"]
