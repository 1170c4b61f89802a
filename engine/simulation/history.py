"""Historic loans for a simulation: the input files, read and checked row by row.

Stage: the first step of `policylang simulate`, before any day is replayed.
Input: a directory holding `loans`, `installments` and optionally `payments`
and `events` (each `.csv`, or `.parquet` with the same columns) and the
policy's `Schema`. Output: `HistoryRead`, a `Portfolio` of immutable
`LoanHistory` records whose fact values are already in their run-time form
(through `engine.facts.convert`, so domains are checked as for `eval`), and
every problem found, each with its file and line (the header is line 1).
Must not: raise on bad data, derive ledger facts (`ledger.py` does), or read
money through float: CSV cells are parsed from their text.
"""

from __future__ import annotations

import csv
import functools
import importlib
import io
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from engine.facts import (
    INVALID,
    MISSING,
    Value,
    convert,
    expected_words,
    given_words,
    to_decimal,
    to_whole,
)
from engine.simulation.ledger import LEDGER_FACTS
from policylang.schema_model import FactDef, FactType, Schema
from policylang.suggest import closest

# The deadline facts (deadlines.py) are derived like the ledger's; its module imports
# this one, so the names are repeated here (tests/simulation/test_deadlines.py checks).
DERIVED_FACTS = (*LEDGER_FACTS, "days_to_limitation", "days_to_guarantee_end")
MAX_PROBLEMS = 100          # problems listed; the rest are counted ("and N more")
STEMS = ("loans", "installments", "payments", "events")
SPLIT_COLUMNS = ("principal_due", "interest_due")    # optional: amount_due split in two
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSEEN: Any = object()
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


@attrs.frozen(slots=True)
class Installment:
    """One scheduled instalment; `paid_date, amount_paid` when payments are recorded
    per instalment (the ledger still applies them oldest instalment first);
    `principal_due, interest_due` when the file splits `amount_due` (notices show
    overdue principal and interest apart: engine/notices/statement.py)."""

    number: int
    due_date: date
    amount_due: Decimal
    paid_date: date | None = None
    amount_paid: Decimal | None = None
    principal_due: Decimal | None = None
    interest_due: Decimal | None = None


@attrs.frozen(slots=True)
class Payment:
    """Money received on a day; applied to the oldest unpaid instalment first."""

    date: date
    amount: Decimal


@attrs.frozen(slots=True)
class Event:
    """A fact that takes a new value from `date` on; `value` is in run-time form."""

    date: date
    fact: str
    value: Value


@attrs.frozen(slots=True)
class LoanHistory:
    """One loan as the files tell it. `static` holds every fact given by a loans
    column or a default; events override it from their date on. Instalments are
    sorted by (due date, number); payments and events by date, file order within a day."""

    loan_id: str
    origination_date: date
    static: Mapping[str, Value]
    installments: tuple[Installment, ...]
    payments: tuple[Payment, ...]
    events: tuple[Event, ...]
    line: int                                   # its line in the loans file


@attrs.frozen(slots=True)
class Portfolio:
    """The loans to replay, in the loans file's order."""

    loans: tuple[LoanHistory, ...]

    def __len__(self) -> int:
        return len(self.loans)

    def __iter__(self) -> Iterator[LoanHistory]:
        return iter(self.loans)


@attrs.frozen(slots=True)
class RowProblem:
    """One thing wrong with the input. `line` 1 is the header, 0 the file as a whole;
    `loan_id` is None when the problem belongs to no single loan (it cannot be skipped)."""

    file: str
    line: int
    loan_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        loan = f" loan {self.loan_id}:" if self.loan_id is not None else ""
        return f"{where}:{loan} {self.reason}"


@attrs.frozen
class HistoryRead:
    """What reading gave. `can_simulate` is False when the caller must stop: any
    problem under on_error="stop", a file-level one under "skip" (then the portfolio
    is empty). `problems` lists the first MAX_PROBLEMS, `more_problems` counts the rest."""

    portfolio: Portfolio
    problems: list[RowProblem]
    more_problems: int
    skipped_loans: tuple[str, ...]              # loans set aside, in file order
    notes: tuple[str, ...]                      # things ignored on purpose, for the log
    can_simulate: bool

    def report(self) -> list[str]:
        """The problems as lines of text, ending `and N more problems` when some were cut."""
        lines = [str(p) for p in self.problems]
        if self.more_problems:
            lines.append(f"and {self.more_problems} more problem{'s' * (self.more_problems > 1)}")
        return lines


def read_history(directory: Path, schema: Schema, *, on_error: str = "stop") -> HistoryRead:
    """Read and check the history in `directory` against `schema`. Under on_error="skip"
    a loan with any problem is set aside and the rest are kept; bad data never raises."""
    if on_error not in ("stop", "skip"):
        raise ValueError(f'on_error must be "stop" or "skip", not {on_error!r}')
    reader = _Reader(Path(directory), schema)
    reader.read_all()
    return reader.result(skip=on_error == "skip")


# -- tables: CSV or Parquet rows as (line, {column: cell}) ---------------------------------

@attrs.frozen
class _Table:
    file: str
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, Any]]]


@attrs.define(slots=True)
class _Draft:
    """A loan while its rows are being read."""

    loan_id: str
    line: int
    origination: date | None = None
    currency: str | None = None
    static: dict[str, Value] = attrs.field(factory=dict)
    installments: list[Installment] = attrs.field(factory=list)
    payments: list[Payment] = attrs.field(factory=list)
    events: list[Event] = attrs.field(factory=list)
    instalment_rows: int = 0            # rows in the installments file, good or bad
    paid_line: int = 0                  # first installments line with paid_date/amount_paid
    payments_line: int = 0              # first payments line


class _Reader:
    """Reads the four files in order, collecting problems; one instance per read."""

    def __init__(self, directory: Path, schema: Schema) -> None:
        self.directory = directory
        self.schema = schema
        self.given = {n: f for n, f in schema.facts.items()
                      if n not in DERIVED_FACTS and f.history is None}
        self.derived_money = [f for n, f in schema.facts.items()
                              if n in LEDGER_FACTS and f.type is FactType.MONEY]
        self.problems: list[RowProblem] = []
        self.notes: list[str] = []
        self.drafts: dict[str, _Draft] = {}
        self.event_facts: set[str] = set()
        self.loan_columns: tuple[str, ...] = ()
        self.memo: dict[tuple[str, str], Any] = {}

    def problem(self, file: str, line: int, loan_id: str | None, reason: str) -> None:
        self.problems.append(RowProblem(file, line, loan_id, reason))

    def read_all(self) -> None:
        if not self.directory.is_dir():
            self.problem(str(self.directory), 0, None, "is not a directory")
            return
        loans = self.open_table("loans", required=True)
        if loans is None or not self.read_loans(loans):
            return                              # nothing else can be checked against it
        installments = self.open_table("installments", required=True)
        if installments is not None and self.read_installments(installments):
            for draft in self.drafts.values():
                if not draft.instalment_rows:
                    self.problem(loans.file, draft.line, draft.loan_id,
                                 f"has no instalments in {installments.file}")
        payments = self.open_table("payments", required=False)
        if payments is not None:
            self.read_payments(payments)
        events = self.open_table("events", required=False)
        if events is not None:
            self.read_events(events)
        elif any((self.directory / f"events.{kind}").exists() for kind in ("csv", "parquet")):
            return                              # unreadable: which facts it sets is unknown
        self.check_required_facts(loans.file, events.file if events else "events.csv")

    # -- files -------------------------------------------------------------------------

    def open_table(self, stem: str, *, required: bool) -> _Table | None:
        csv_path, parquet_path = self.directory / f"{stem}.csv", self.directory / f"{stem}.parquet"
        if csv_path.is_file() and parquet_path.is_file():
            self.problem(csv_path.name, 0, None,
                         f"both {csv_path.name} and {parquet_path.name} exist; keep one")
            return None
        if parquet_path.is_file():
            return self.read_parquet(parquet_path)
        if csv_path.is_file():
            return self.read_csv(csv_path)
        if required:
            self.problem(csv_path.name, 0, None,
                         f"not found in {self.directory} (nor {parquet_path.name})")
        return None

    def read_csv(self, path: Path) -> _Table | None:
        try:
            data = path.read_bytes()
            text = data.decode("utf-8-sig")
        except OSError as exc:
            self.problem(path.name, 0, None, f"cannot be read: {exc.strerror or exc}")
            return None
        except UnicodeDecodeError as exc:
            self.problem(path.name, data.count(b"\n", 0, exc.start) + 1, None,
                         f"byte {exc.start} is not UTF-8 text; save the file as UTF-8")
            return None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = tuple(cell.strip() for cell in next(reader, []))
            rows: list[tuple[int, dict[str, Any]]] = []
            start = reader.line_num + 1
            for cells in reader:
                line, start = start, reader.line_num + 1
                if any(cell.strip() for cell in cells):
                    rows.append((line, dict(zip(header, cells, strict=False))))
                    if len(cells) != len(header):
                        self.problem(path.name, line, _text(rows[-1][1].get("loan_id")) or None,
                                     f"has {len(cells)} fields, the header has {len(header)}")
        except csv.Error as exc:
            self.problem(path.name, reader.line_num, None, f"is not valid CSV: {exc}")
            return None
        return self.checked_header(_Table(path.name, header, rows))

    def read_parquet(self, path: Path) -> _Table | None:
        try:
            table = importlib.import_module("pyarrow.parquet").read_table(path)
        except (ImportError, OSError, ValueError, NotImplementedError) as exc:
            self.problem(path.name, 0, None, f"cannot be read as Parquet: {exc}")
            return None
        names = tuple(table.column_names)
        columns = [table.column(name).to_pylist() for name in names]
        rows = [(index + 2, dict(zip(names, values, strict=True)))   # as if line 1 were a header
                for index, values in enumerate(zip(*columns, strict=True))]
        return self.checked_header(_Table(path.name, names, rows))

    def checked_header(self, table: _Table) -> _Table | None:
        if not table.columns or not any(table.columns):
            self.problem(table.file, 1, None, "has no header line naming its columns")
            return None
        twice = sorted({c for c in table.columns if table.columns.count(c) > 1})
        if twice:
            self.problem(table.file, 1, None, f"names column {', '.join(twice)} more than once")
            return None
        return table

    def has_columns(self, table: _Table, required: tuple[str, ...]) -> bool:
        missing = [c for c in required if c not in table.columns]
        for column in missing:
            near = closest(column, table.columns)
            hint = f" (did you mean {near}?)" if near else ""
            self.problem(table.file, 1, None, f"has no column {column}{hint}")
        return not missing

    # -- loans -------------------------------------------------------------------------

    def read_loans(self, table: _Table) -> bool:
        if not self.has_columns(table, ("loan_id", "origination_date")):
            return False
        self.loan_columns = table.columns
        for name in table.columns:
            fact = self.schema.facts.get(name)
            if fact is not None and name not in self.given:
                self.notes.append(f"{table.file}: column {name} is ignored: "
                                  f"{name} is {_derived_words(fact)}")
        columns = [f for f in self.given.values() if f.name in table.columns]
        defaults = {f.name: f.default for f in self.given.values()
                    if f.name not in table.columns and f.default is not None}
        money = [f for f in columns if f.type is FactType.MONEY] + self.derived_money
        for line, cells in table.rows:
            row = self.row(table, line, cells)
            if not row.loan_id or row.loan_id in self.drafts:
                row.bad(f"loan id is already on line {self.drafts[row.loan_id].line}"
                        if row.loan_id else "loan_id is empty")
                continue
            draft = self.drafts[row.loan_id] = _Draft(row.loan_id, line)
            draft.origination = row.day("origination_date")
            draft.currency = row.text("currency") or None
            _check_currency(row, draft.currency, money)
            draft.static.update(defaults)
            for fact in columns:
                value = row.value(fact, fact.name)
                if value is not INVALID:
                    draft.static[fact.name] = value
        return True

    def row(self, table: _Table, line: int, cells: Mapping[str, Any]) -> _Row:
        return _Row(table.file, line, cells, self.problems, _text(cells.get("loan_id")) or None,
                    self.memo)

    def rows_of_loans(self, table: _Table) -> Iterator[tuple[_Row, _Draft]]:
        """The rows of a file that refers to loans, each with its loan (others reported)."""
        for line, cells in table.rows:
            row = self.row(table, line, cells)
            draft = self.drafts.get(row.loan_id or "")
            if draft is not None:
                yield row, draft
            elif row.loan_id:
                row.bad("no such loan in the loans file")
            else:                               # unattributable: it cannot be skipped
                row.bad("loan_id is empty")

    # -- installments, payments, events --------------------------------------------------

    def read_installments(self, table: _Table) -> bool:
        if not self.has_columns(table, ("loan_id", "installment_no", "due_date", "amount_due")):
            return False
        for pair in (("paid_date", "amount_paid"), SPLIT_COLUMNS):
            present = [c for c in pair if c in table.columns]
            if len(present) == 1:
                self.problem(table.file, 1, None, f"has a {present[0]} column but not the "
                             f"other of {', '.join(pair)}; give both or neither")
                return False
        split = SPLIT_COLUMNS[0] in table.columns
        seen: dict[tuple[str, int], int] = {}
        for row, draft in self.rows_of_loans(table):
            draft.instalment_rows += 1
            before = len(self.problems)
            number, due = row.whole("installment_no"), row.day("due_date")
            amount, (paid_date, amount_paid) = row.amount("amount_due"), _paid_cells(row, draft)
            principal, interest = _split_cells(row, amount) if split else (None, None)
            if number is not None and (draft.loan_id, number) in seen:
                row.bad(f"instalment {number} is already on line {seen[draft.loan_id, number]}")
            if due is not None and draft.origination is not None and due < draft.origination:
                row.bad(f"instalment due {due} is before the origination date "
                        f"{draft.origination}")
            if len(self.problems) > before or number is None or due is None or amount is None:
                continue
            seen[draft.loan_id, number] = row.line
            draft.installments.append(Installment(number, due, amount, paid_date, amount_paid,
                                                  principal, interest))
            if paid_date is not None:
                draft.paid_line = draft.paid_line or row.line
        return True

    def read_payments(self, table: _Table) -> None:
        if not self.has_columns(table, ("loan_id", "date", "amount")):
            return
        for row, draft in self.rows_of_loans(table):
            day, amount = row.day("date"), row.amount("amount")
            _check_after_origination(row, draft, day)
            if draft.paid_line and not draft.payments_line:
                row.bad(f"payments are recorded twice: installments line {draft.paid_line} "
                        "has paid_date and amount_paid for this loan too; keep one")
            draft.payments_line = draft.payments_line or row.line
            if day is not None and amount is not None:
                draft.payments.append(Payment(day, amount))

    def read_events(self, table: _Table) -> None:
        if not self.has_columns(table, ("loan_id", "date", "fact", "value")):
            return
        for row, draft in self.rows_of_loans(table):
            day, fact = row.day("date"), self.event_fact(row)
            if fact is None:
                continue
            self.event_facts.add(fact.name)
            if fact.type is FactType.MONEY:
                _check_currency(row, draft.currency, [fact])
            if _blank(row.cells.get("value")):
                row.bad(f"the value of {fact.name} is empty")
                continue
            value = row.value(fact, "value")
            if day is not None and value is not INVALID:
                draft.events.append(Event(day, fact.name, value))

    def event_fact(self, row: _Row) -> FactDef | None:
        """The schema fact an events row sets, or None (reported) when it may not set it."""
        name = row.text("fact")
        fact = self.schema.facts.get(name)
        if fact is not None and name in self.given:
            return fact
        if not name:
            row.bad("fact is empty")
        elif fact is not None or name in DERIVED_FACTS:
            row.bad(f"fact {name} cannot be given by events: it is {_derived_words(fact)}")
        else:
            near = closest(name, self.schema.facts)
            row.bad(f"fact {name} is not in the schema"
                    + (f" (did you mean {near}?)" if near else ""))
        return None

    def check_required_facts(self, loans_file: str, events_file: str) -> None:
        """A fact with no column and no default must come from events, by origination."""
        for fact in self.given.values():
            if fact.name in self.loan_columns or fact.has_default:
                continue
            if fact.name not in self.event_facts:
                self.problem(loans_file, 1, None,
                             f"has no column for fact {fact.name}, which has no default")
                continue
            for draft in self.drafts.values():
                first = min((e.date for e in draft.events if e.fact == fact.name), default=None)
                if draft.origination is not None and (first is None or first > draft.origination):
                    self.problem(loans_file, draft.line, draft.loan_id,
                                 f"fact {fact.name} has no value on the origination date "
                                 f"{draft.origination}: no column in {loans_file}, no default, "
                                 f"and no event in {events_file} sets it by then")

    # -- the result --------------------------------------------------------------------

    def result(self, *, skip: bool) -> HistoryRead:
        rank = {stem: index for index, stem in enumerate(STEMS)}
        problems = sorted(self.problems,
                          key=lambda p: (rank.get(p.file.rpartition(".")[0], -1), p.line))
        fatal = any(p.loan_id is None for p in problems)
        bad = {p.loan_id for p in problems}
        skipped = tuple(loan_id for loan_id in self.drafts if loan_id in bad) if skip else ()
        can_simulate = not fatal and (skip or not problems)
        loans = (tuple(_history(d) for d in self.drafts.values() if d.loan_id not in bad)
                 if can_simulate else ())
        return HistoryRead(Portfolio(loans), problems[:MAX_PROBLEMS],
                           max(0, len(problems) - MAX_PROBLEMS), skipped,
                           tuple(self.notes), can_simulate)


def _history(draft: _Draft) -> LoanHistory:
    """The immutable record of a loan that had no problem."""
    assert draft.origination is not None            # a bad date is a problem: never here
    installments = tuple(sorted(draft.installments, key=lambda i: (i.due_date, i.number)))
    payments = draft.payments or [Payment(i.paid_date, i.amount_paid) for i in installments
                                  if i.paid_date is not None and i.amount_paid is not None]
    return LoanHistory(
        loan_id=draft.loan_id, origination_date=draft.origination,
        static=MappingProxyType(draft.static), installments=installments,
        payments=tuple(sorted(payments, key=lambda p: p.date)),
        events=tuple(sorted(draft.events, key=lambda e: e.date)), line=draft.line)


# -- rows and cells ----------------------------------------------------------------------

@attrs.define(slots=True)
class _Row:
    """One data row being read: its cells, where it is, and where its problems go."""

    file: str
    line: int
    cells: Mapping[str, Any]
    found: list[RowProblem]
    loan_id: str | None
    memo: dict[tuple[str, str], Any]            # shared by every row of a read

    def bad(self, reason: str) -> None:
        self.found.append(RowProblem(self.file, self.line, self.loan_id, reason))

    def parsed(self, kind: str, cell: Any, parse: Callable[[Any], Any]) -> Any:
        """parse(cell), remembered for text: a history repeats its amounts and codes."""
        if type(cell) is not str:
            return parse(cell)
        key = (kind, cell)
        found = self.memo.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self.memo[key] = parse(cell)
        return found

    def text(self, column: str) -> str:
        return _text(self.cells.get(column))

    def day(self, column: str) -> date | None:
        cell = self.cells.get(column)
        day = _to_date(cell)
        if day is None:
            self.bad(_bad(column, cell, "a date (YYYY-MM-DD)"))
        return day

    def amount(self, column: str) -> Decimal | None:
        """A non-negative exact amount, or None (reported)."""
        cell = self.cells.get(column)
        amount = INVALID if _blank(cell) else self.parsed("", cell, to_decimal)
        if amount is INVALID:
            self.bad(_bad(column, cell, "a decimal amount"))
            return None
        if amount < 0:
            self.bad(f"{column} {amount} is negative")
            return None
        return amount  # type: ignore[no-any-return]

    def whole(self, column: str) -> int | None:
        cell = self.cells.get(column)
        number = INVALID if _blank(cell) else to_whole(self.parsed("", cell, to_decimal))
        if number is INVALID:
            self.bad(_bad(column, cell, "a whole number"))
            return None
        return number  # type: ignore[no-any-return]

    def value(self, fact: FactDef, column: str) -> Any:
        """The fact's run-time value from a cell (blank means its default), or INVALID
        after reporting what the fact expects and what was given."""
        cell = self.cells.get(column)
        value = self.parsed(fact.name, cell, lambda c: convert(fact, _cell_value(fact, c)))
        if value is INVALID:
            self.bad(f"fact {fact.name}: expected {expected_words(fact)}, "
                     f"got {given_words(_cell_value(fact, cell))}")
        return value


def _paid_cells(row: _Row, draft: _Draft) -> tuple[date | None, Decimal | None]:
    """An instalment's `paid_date, amount_paid`: both blank, or both valid."""
    blank_date, blank_amount = _blank(row.cells.get("paid_date")), _blank(
        row.cells.get("amount_paid"))
    if blank_date and blank_amount:
        return None, None
    if blank_date != blank_amount:
        row.bad("amount_paid is given without paid_date" if blank_date
                else "paid_date is given without amount_paid")
        return None, None
    day, amount = row.day("paid_date"), row.amount("amount_paid")
    _check_after_origination(row, draft, day)
    return day, amount


def _split_cells(row: _Row, amount: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """An instalment's `principal_due, interest_due`: both blank (no split for this
    instalment), or two amounts that add up to `amount_due`."""
    cells = row.cells
    if all(_blank(cells.get(column)) for column in SPLIT_COLUMNS):
        return None, None
    principal, interest = (row.amount(column) for column in SPLIT_COLUMNS)
    if principal is None or interest is None or amount is None:
        return None, None
    if principal + interest != amount:
        row.bad(f"principal_due {principal} + interest_due {interest} is not "
                f"amount_due {amount}")
        return None, None
    return principal, interest


def _check_after_origination(row: _Row, draft: _Draft, day: date | None) -> None:
    if day is not None and draft.origination is not None and day < draft.origination:
        row.bad(f"payment dated {day} is before the origination date {draft.origination}")


def _check_currency(row: _Row, currency: str | None, money: list[FactDef]) -> None:
    """The loan's currency (its `currency` cell; the schema's when absent) must be the
    currency of every money fact its data feeds, instalment amounts included."""
    wrong = [f for f in money if currency is not None and f.currency != currency]
    if wrong:
        listed = ", ".join(f"{f.name} in {f.currency}" for f in wrong)
        row.bad(f"currency {currency} differs from the schema's ({listed})")


# -- cell parsing ------------------------------------------------------------------------

def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def _bad(column: str, cell: Any, expected: str) -> str:
    """`amount_due "12,5" is not a decimal amount`, or `amount_due is empty`."""
    if _blank(cell):
        return f"{column} is empty"
    return f"{column} {given_words(cell)} is not {expected}"


def _to_date(cell: Any) -> date | None:
    """A date from ISO text (YYYY-MM-DD only) or a Parquet date/timestamp (its date part)."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    return _iso_date(cell.strip()) if isinstance(cell, str) else None


@functools.lru_cache(maxsize=8192)              # a history repeats a few thousand dates
def _iso_date(text: str) -> date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:                          # 2016-02-30
        return None


def _cell_value(fact: FactDef, cell: Any) -> Any:
    """A cell as the JSON-like value `convert` takes: CSV text for a bool (true/false/1/0)
    or a whole number becomes that value; a blank cell is MISSING (the default applies)."""
    if _blank(cell):
        return MISSING
    if not isinstance(cell, str):
        return cell
    text = cell.strip()
    if fact.type is FactType.BOOL:
        word = text.lower()
        return True if word in _TRUE else False if word in _FALSE else text
    if fact.type in (FactType.INT, FactType.DAYS):
        number = to_decimal(text)
        return text if number is INVALID else number
    return cell if fact.type is FactType.STRING else text


def _derived_words(fact: FactDef | None) -> str:
    """Why a fact is never read from the files: the replay derives it."""
    if fact is not None and fact.history is not None:
        return f"a history fact, derived from the simulation's own actions ({fact.history.kind})"
    if fact is not None and fact.name not in LEDGER_FACTS:
        return "a deadline fact, derived from the loan's dates and the simulation's notices"
    return "a ledger fact, derived from the instalments and payments"
