"""`simulate --notices DIR`: the written notices a replay would have sent, one file each.

Stage: beside the other writers of a replay, chunk by chunk. Input: each chunk's
loan-days; for every `notify TARGET using TEMPLATE` among them, the loan's facts that
day, the account of the day (engine/notices/statement.py) and the portfolio's notice
data (data.py). The facts are those the policy saw: the loan's facts walked forward
(loanday.LoanCursor) with its history fed by the actions the replay reported, so no
rule runs twice; when the replay did not report the days before --from, the loan is
replayed again by the row engine, which keeps the facts of the days asked for (the
engines agree: tests/simulation hold them to it).
Output: `DIR/<loan_id>/<date>-<template>[-<target>].<fmt>`, an index `notices.csv`,
and, with `--on-error skip`, `not_rendered.csv` listing the notices that could not be.
Must not: leave a notice with a blank (a missing field fails that notice, named);
write into a folder holding anything but an earlier run's notices; leave a half
run's notices under DIR: they are written into a hidden folder beside it, which
replaces DIR only when the run succeeds.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import attrs

from engine.api import CompiledPolicy
from engine.notices.data import NoticeData
from engine.notices.render import NoticeError, available_templates, make_environment, render_notice
from engine.notices.statement import statement_on
from engine.simulation.history import LoanHistory
from engine.simulation.loanday import FactPlan, LoanCursor
from engine.simulation.replay import (
    Fed,
    LoanDay,
    ReplayResult,
    Window,
    action_keys,
    replay_loan,
)

INDEX = "notices.csv"
NOT_RENDERED = "not_rendered.csv"
INDEX_COLUMNS = ("loan_id", "date", "target", "template", "file", "rules")
FAILURE_COLUMNS = ("loan_id", "date", "target", "template", "reason")
SHOWN = 20                      # failures printed; the rest are counted
_UNSAFE = re.compile(r"[^\w.-]")


class NoticesFolderError(Exception):
    """DIR cannot take the notices; the message says why."""


@attrs.frozen(slots=True)
class Failure:
    """A notice the replay sent but that cannot be rendered."""

    loan_id: str
    day: str
    target: str
    template: str
    reason: str

    def __str__(self) -> str:
        return f"{self.loan_id} {self.day}: {self.reason}"


def check_folder(folder: Path) -> None:
    """Refuse a folder that holds anything but an earlier run's notices (its index says
    so): the run replaces the folder as a whole."""
    if folder.exists() and not folder.is_dir():
        raise NoticesFolderError(f"{folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / INDEX).is_file():
        raise NoticesFolderError(
            f"{folder}: the folder holds other files; --notices replaces its folder as a "
            "whole, so name a new folder or one an earlier --notices run wrote")


class NoticesWriter:
    """Renders a replay's notices chunk by chunk into a staging folder."""

    def __init__(self, folder: Path, *, policy: CompiledPolicy,
                 loans: Mapping[str, LoanHistory], params: Mapping[str, Any] | None,
                 templates: Path, fmt: str, data: NoticeData) -> None:
        check_folder(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.folder, self.policy, self.loans, self.params = folder, policy, loans, params
        self.fmt, self.data = fmt, data
        self.staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        self.env = make_environment(templates, fmt)
        self.known = available_templates(templates)
        self.templates = templates
        self.plan = FactPlan.of(policy.schema)
        self.where = self.plan.slots(policy.validator.names)
        self.fed: Fed = {}
        self.index: list[tuple[str, ...]] = []
        self.failures: list[Failure] = []
        self.unknown: Counter[tuple[str, str]] = Counter()
        self.folders: dict[str, str] = {}

    def add(self, chunk: ReplayResult) -> None:
        """Render the notices of every loan in `chunk`."""
        for loan_id, days in chunk.by_loan():
            sending = {d.day: d for d in days if any(_notices(d))}
            if not sending:
                continue
            loan = self.loans[loan_id]
            facts = self._followed(loan, days, sending) or self._replayed(loan, sending)
            for day, loan_day in sending.items():
                self._render_day(loan, loan_day, facts[day])

    def _followed(self, loan: LoanHistory, days: list[LoanDay],
                  sending: Mapping[date, LoanDay]) -> dict[date, Mapping[str, Any]] | None:
        """The facts of the sending days, walking the loan's facts forward and feeding its
        history with the actions the replay reported, day by day (no rule is evaluated
        again), or None when the replay did not report every day from the origination
        (a run with --from)."""
        if days[0].day != loan.origination_date:
            return None
        kept: dict[date, Mapping[str, Any]] = {}
        # a replay reports every day from the origination, so the days pair up one to one
        cursor = LoanCursor(loan, self.plan, max(sending))
        for (day, facts), reported in zip(cursor, days, strict=False):
            if day in sending:
                kept[day] = facts
            cursor.record(day, action_keys(reported.actions))
        return kept

    def _replayed(self, loan: LoanHistory, sending: Mapping[date, LoanDay]
                  ) -> dict[date, Mapping[str, Any]]:
        """The same, replaying the loan again with the row engine, which keeps the facts
        of the days asked for: from the origination (history facts need every day) to
        the last notice (the days after it change nothing before it)."""
        first, last = min(sending), max(sending)
        kept: dict[date, Mapping[str, Any]] = {day: {} for day in sending}
        replay_loan(self.policy, loan, self.plan, Window(first, last), end=last,
                    params=self.params, where=self.where, fed=self.fed, kept_facts=kept)
        return kept

    def _render_day(self, loan: LoanHistory, loan_day: LoanDay,
                    facts: Mapping[str, Any]) -> None:
        record = self.data.record(loan.loan_id, statement_on(loan, loan_day.day))
        sent = list(_notices(loan_day))
        day = loan_day.day.isoformat()
        for action in sent:
            template, target = action.using, action.target
            if template not in self.known:
                self.unknown[target, template] += 1
                continue
            try:
                text = render_notice(self.env, template, target=target, loan=record,
                                     facts=facts, loan_source=f"notice data of {loan.loan_id}",
                                     facts_source="replayed loan-day")
            except NoticeError as error:
                self.failures.append(Failure(loan.loan_id, day, target, template, str(error)))
                continue
            shared = sum(1 for a in sent if a.using == template) > 1
            name = f"{day}-{template}{'-' + target if shared else ''}.{self.fmt}"
            relative = f"{self._loan_folder(loan.loan_id)}/{name}"
            (self.staging / relative).write_text(text, encoding="utf-8")
            self.index.append((loan.loan_id, day, target, template, relative,
                               ";".join(action.rules)))

    def _loan_folder(self, loan_id: str) -> str:
        """A folder name for the loan: its id where that is a safe file name, else the
        id with other characters as `_` (and a number when two ids meet)."""
        found = self.folders.get(loan_id)
        if found is None:
            safe = _UNSAFE.sub("_", loan_id)
            safe = f"_{safe}" if safe.startswith(".") or not safe else safe
            taken = set(self.folders.values())
            found, count = safe, 1
            while found in taken:
                count += 1
                found = f"{safe}~{count}"
            self.folders[loan_id] = found
            (self.staging / found).mkdir()
        return found

    @property
    def written(self) -> int:
        return len(self.index)

    def commit(self, *, with_failures: bool) -> Path:
        """Write the index (and the failures, when the run keeps going despite them) and
        put the folder in place of DIR."""
        _write_csv(self.staging / INDEX, INDEX_COLUMNS, self.index)
        if with_failures and self.failures:
            _write_csv(self.staging / NOT_RENDERED, FAILURE_COLUMNS,
                       [attrs.astuple(f) for f in self.failures])
        old = None
        if self.folder.exists():
            check_folder(self.folder)
            old = Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.old.",
                                        dir=self.folder.parent))
            os.replace(self.folder, old / "previous")
        os.replace(self.staging, self.folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.folder

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def report(self) -> list[str]:
        """What could not be rendered, for standard error."""
        lines = [f"notify {target} using {template}: no notice template {template}.j2 in "
                 f"{self.templates}; {count} not rendered"
                 for (target, template), count in sorted(self.unknown.items())]
        lines += [str(f) for f in self.failures[:SHOWN]]
        if len(self.failures) > SHOWN:
            lines.append(f"... and {len(self.failures) - SHOWN} more notices that cannot "
                         "be rendered")
        return lines


def _notices(loan_day: LoanDay) -> Any:
    return (a for a in loan_day.actions if a.verb == "notify" and a.using is not None)


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
