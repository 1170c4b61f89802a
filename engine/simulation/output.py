"""What a replay writes: actions.csv, summary.json, differences.csv (the contract's
columns), and the figures the summary and the report share.

Outputs are byte-identical for the same inputs: no timestamps, no machine names,
fixed orders, exact decimals. Each file is written to a temporary name and renamed,
so an interrupted run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from engine.simulation.replay import ReplayResult, action_keys

ACTION_COLUMNS = ("loan_id", "date", "overdue", "verb", "target", "using", "rules")
DIFFERENCE_COLUMNS = ("loan_id", "date", "old", "new")


def action_rows(result: ReplayResult) -> Iterable[tuple[str, ...]]:
    """One row per action per loan-day, in output order."""
    for loan_day in result.days:
        day = loan_day.day.isoformat()
        overdue = str(loan_day.overdue)
        for action in loan_day.actions:
            yield (loan_day.loan_id, day, overdue, action.verb, action.target,
                   action.using or "", ";".join(action.rules))


def actions_text(actions: Sequence[Any]) -> str:
    """A day's ordered actions in one cell: `verb target [using template]; …`."""
    return "; ".join(str(a) for a in actions)


@attrs.frozen(slots=True)
class Difference:
    """A loan-day on which the two policies' ordered actions differ."""

    loan_id: str
    day: str
    old: str
    new: str


def differences(old: ReplayResult, new: ReplayResult) -> list[Difference]:
    """Loan-days whose ordered actions differ. Both replays walk the same loans over the
    same days (repayment comes from the data, not the policy), so they pair up."""
    found = []
    for before, after in zip(old.days, new.days, strict=True):
        assert (before.loan_id, before.day) == (after.loan_id, after.day)
        if action_keys(before.actions) != action_keys(after.actions):
            found.append(Difference(before.loan_id, before.day.isoformat(),
                                    actions_text(before.actions), actions_text(after.actions)))
    return found


def summary(result: ReplayResult, *, params: Mapping[str, str], skipped: Sequence[str],
            against: ReplayResult | None = None,
            found: Sequence[Difference] = ()) -> dict[str, Any]:
    """The figures of a replay, as summary.json holds them."""
    policy = result.policy
    by_action: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    highest: dict[str, int] = {}
    for loan_day in result.days:
        month = loan_day.day.isoformat()[:7]
        stage = highest.get(loan_day.loan_id, 0)
        for action in loan_day.actions:
            by_action[str(action)] += 1
            by_rule.update(action.rules)
            by_month[month] += 1
            stage = max(stage, action.stage)
        highest[loan_day.loan_id] = stage
    stages = Counter(highest.values())
    out: dict[str, Any] = {
        "policy": {"name": policy.name, "version": policy.version, "digest": policy.digest},
        "engine": result.engine,
        "from": result.window.start.isoformat() if result.window.start else None,
        "to": result.end.isoformat() if result.end else None,
        "params": dict(sorted(params.items())),
        "loans": result.loans,
        "loans_skipped": list(skipped),
        "loan_days": len(result.days),
        "actions": sum(by_action.values()),
        "by_action": dict(sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_rule": dict(sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_month": dict(sorted(by_month.items())),
        "loans_by_highest_stage": {str(s): stages[s] for s in sorted(stages)},
    }
    if against is not None:
        other = against.policy
        out["against"] = {
            "policy": {"name": other.name, "version": other.version, "digest": other.digest},
            "actions": sum(len(d.actions) for d in against.days),
            "loan_days_differing": len(found),
            "loans_differing": len({d.loan_id for d in found}),
        }
    return out


def write_outputs(directory: Path, result: ReplayResult, summary_json: Mapping[str, Any],
                  found: Sequence[Difference] | None, report_html: str) -> list[Path]:
    """Write the output files; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [
        _write(directory / "actions.csv", _csv(ACTION_COLUMNS, action_rows(result))),
        _write(directory / "summary.json",
               json.dumps(summary_json, ensure_ascii=False, indent=2) + "\n"),
    ]
    if found is not None:
        rows = ((d.loan_id, d.day, d.old, d.new) for d in found)
        written.append(_write(directory / "differences.csv", _csv(DIFFERENCE_COLUMNS, rows)))
    written.append(_write(directory / "report.html", report_html))
    return written


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text, encoding="utf-8", newline="")
    os.replace(temporary, path)
    return path
