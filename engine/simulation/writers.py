"""Streaming writers for a replay's row outputs: actions (CSV or Parquet) and the
champion/challenger differences.

A replay goes chunk by chunk (a few thousand loans at a time), so its outputs are
appended as it goes and memory does not grow with the portfolio. Each file is written
under a temporary name and renamed only when the run finishes, so an interrupted or
failed run never leaves a half-written file under the final name, and never replaces
the previous run's complete file with a partial one.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from engine.simulation.replay import LoanDay, ReplayResult, action_keys

ACTION_COLUMNS = ("loan_id", "date", "overdue", "verb", "target", "using", "rules")
DIFFERENCE_COLUMNS = ("loan_id", "date", "old", "new")


def action_rows(days: Sequence[LoanDay]) -> Iterator[tuple[str, str, int, str, str, str, str]]:
    """One row per action per loan-day, in output order."""
    for loan_day in days:
        day = loan_day.day.isoformat()
        for action in loan_day.actions:
            yield (loan_day.loan_id, day, loan_day.overdue, action.verb, action.target,
                   action.using or "", ";".join(action.rules))


def actions_text(actions: Sequence[Any]) -> str:
    """A day's ordered actions in one cell: `verb target [using template]; …`."""
    return "; ".join(str(a) for a in actions)


class _Staged:
    """A file written under `.NAME.partial`, renamed to NAME by `commit`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")

    def commit(self) -> Path:
        os.replace(self.partial, self.path)
        return self.path

    def discard(self) -> None:
        self.partial.unlink(missing_ok=True)


class CsvWriter(_Staged):
    """Rows appended to a CSV file with a header, LF line ends."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        super().__init__(path)
        self._handle: IO[str] = self.partial.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(header)

    def write(self, rows: Any) -> None:
        self._writer.writerows(rows)

    def commit(self) -> Path:
        self._handle.close()
        return super().commit()

    def discard(self) -> None:
        self._handle.close()
        super().discard()


class ParquetActions(_Staged):
    """actions.parquet: the columns of actions.csv (overdue as int64, `using` null when
    the action has no template), one row group per chunk."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa  # noqa: PLC0415 (only when asked for)
        import pyarrow.parquet as pq  # noqa: PLC0415

        super().__init__(path)
        self._pa = pa
        self._schema = pa.schema([("loan_id", pa.string()), ("date", pa.date32()),
                                  ("overdue", pa.int64()), ("verb", pa.string()),
                                  ("target", pa.string()), ("using", pa.string()),
                                  ("rules", pa.string())])
        self._writer = pq.ParquetWriter(self.partial, self._schema)

    def write(self, days: Sequence[LoanDay]) -> None:
        columns: list[list[Any]] = [[] for _ in ACTION_COLUMNS]
        for loan_day in days:
            for action in loan_day.actions:
                values = (loan_day.loan_id, loan_day.day, loan_day.overdue, action.verb,
                          action.target, action.using, ";".join(action.rules))
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
        if columns[0]:
            self._writer.write_table(self._pa.Table.from_arrays(
                [self._pa.array(c, type=f.type) for c, f in zip(columns, self._schema,
                                                                 strict=True)],
                schema=self._schema))

    def commit(self) -> Path:
        self._writer.close()
        return super().commit()

    def discard(self) -> None:
        self._writer.close()
        super().discard()


class ActionsWriter:
    """actions.csv (the contract) or, with format "parquet", actions.parquet."""

    def __init__(self, directory: Path, output_format: str = "csv") -> None:
        if output_format == "parquet":
            self._file: CsvWriter | ParquetActions = ParquetActions(directory / "actions.parquet")
        else:
            self._file = CsvWriter(directory / "actions.csv", ACTION_COLUMNS)

    def add(self, chunk: ReplayResult) -> None:
        if isinstance(self._file, ParquetActions):
            self._file.write(chunk.days)
        else:
            self._file.write(action_rows(chunk.days))

    def commit(self) -> Path:
        return self._file.commit()

    def discard(self) -> None:
        self._file.discard()


def differing_days(old: ReplayResult, new: ReplayResult
                   ) -> Iterator[tuple[LoanDay, LoanDay]]:
    """Loan-days whose ordered actions differ. Both replays walk the same loans over the
    same days (repayment comes from the data, not the policy), so they pair up."""
    for before, after in zip(old.days, new.days, strict=True):
        if (before.loan_id, before.day) != (after.loan_id, after.day):
            raise AssertionError("the two replays cover different loan-days")
        if action_keys(before.actions) != action_keys(after.actions):
            yield before, after


class DifferencesWriter:
    """differences.csv: loan_id, date, old (the --against policy), new (POLICY)."""

    def __init__(self, directory: Path) -> None:
        self._file = CsvWriter(directory / "differences.csv", DIFFERENCE_COLUMNS)

    def add(self, old: ReplayResult, new: ReplayResult) -> int:
        """Append this chunk's differences; how many there were."""
        rows = [(b.loan_id, b.day.isoformat(), actions_text(b.actions), actions_text(a.actions))
                for b, a in differing_days(old, new)]
        self._file.write(rows)
        return len(rows)

    def commit(self) -> Path:
        return self._file.commit()

    def discard(self) -> None:
        self._file.discard()


def write_text(path: Path, text: str) -> Path:
    """Write a whole file under a temporary name, then rename it into place."""
    staged = _Staged(path)
    staged.partial.write_text(text, encoding="utf-8", newline="")
    return staged.commit()


def summary_text(figures: Mapping[str, Any]) -> str:
    """summary.json's text: UTF-8 as is, two-space indents, a final newline."""
    return json.dumps(figures, ensure_ascii=False, indent=2) + "\n"
