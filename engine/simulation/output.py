"""summary.json: a replay's figures, gathered chunk by chunk, and the one-shot helpers
for callers that hold a whole replay in memory.

Outputs are byte-identical for the same inputs: no timestamps, no machine names,
fixed orders, exact decimals.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import attrs

from engine.api import CompiledPolicy
from engine.simulation.replay import ReplayResult
from engine.simulation.writers import actions_text, differing_days


@attrs.frozen(slots=True)
class Difference:
    """A loan-day on which the two policies' ordered actions differ."""

    loan_id: str
    day: str
    old: str
    new: str


def differences(old: ReplayResult, new: ReplayResult) -> list[Difference]:
    """Loan-days whose ordered actions differ (old: the --against policy)."""
    return [Difference(b.loan_id, b.day.isoformat(), actions_text(b.actions),
                       actions_text(a.actions)) for b, a in differing_days(old, new)]


class Summary:
    """The figures of summary.json, gathered one chunk of loans at a time."""

    def __init__(self, policy: CompiledPolicy, *, engine: str, start: date | None,
                 end: date | None, params: Mapping[str, str], skipped: Sequence[str],
                 against: CompiledPolicy | None = None) -> None:
        self.policy, self.engine, self.start, self.end = policy, engine, start, end
        self.params, self.skipped, self.against = dict(params), list(skipped), against
        self.loans = self.loan_days = self.other_actions = 0
        self.by_action: Counter[str] = Counter()
        self.by_rule: Counter[str] = Counter()
        self.by_month: Counter[str] = Counter()
        self.stages: Counter[int] = Counter()
        self.differing_days = 0
        self.differing_loans: set[str] = set()

    def add(self, chunk: ReplayResult, other: ReplayResult | None = None) -> None:
        self.loans += chunk.loans
        self.loan_days += len(chunk.days)
        highest: dict[str, int] = {}
        for loan_day in chunk.days:
            month = loan_day.day.isoformat()[:7]
            stage = highest.get(loan_day.loan_id, 0)
            for action in loan_day.actions:
                self.by_action[str(action)] += 1
                self.by_rule.update(action.rules)
                self.by_month[month] += 1
                stage = max(stage, action.stage)
            highest[loan_day.loan_id] = stage
        self.stages.update(highest.values())
        if other is not None:
            self.other_actions += sum(len(d.actions) for d in other.days)
            for before, _ in differing_days(other, chunk):
                self.differing_days += 1
                self.differing_loans.add(before.loan_id)

    def to_json(self) -> dict[str, Any]:
        policy = self.policy
        out: dict[str, Any] = {
            "policy": _identity(policy),
            "engine": self.engine,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "params": dict(sorted(self.params.items())),
            "loans": self.loans,
            "loans_skipped": self.skipped,
            "loan_days": self.loan_days,
            "actions": sum(self.by_action.values()),
            "by_action": _by_count(self.by_action),
            "by_rule": _by_count(self.by_rule),
            "by_month": dict(sorted(self.by_month.items())),
            "loans_by_highest_stage": {str(s): self.stages[s] for s in sorted(self.stages)},
        }
        if self.against is not None:
            out["against"] = {"policy": _identity(self.against),
                              "actions": self.other_actions,
                              "loan_days_differing": self.differing_days,
                              "loans_differing": len(self.differing_loans)}
        return out


def _identity(policy: CompiledPolicy) -> dict[str, Any]:
    return {"name": policy.name, "version": policy.version, "digest": policy.digest}


def _by_count(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def summary(result: ReplayResult, *, params: Mapping[str, str], skipped: Sequence[str],
            against: ReplayResult | None = None,
            found: Sequence[Difference] = ()) -> dict[str, Any]:
    """summary.json for a replay held in memory (`found` is accepted for callers that
    computed the differences already; the figures are recounted)."""
    del found
    gathered = Summary(result.policy, engine=result.engine, start=result.window.start,
                       end=result.end, params=params, skipped=skipped,
                       against=against.policy if against is not None else None)
    gathered.add(result, against)
    return gathered.to_json()


def write_text(path: Path, text: str) -> Path:
    """Write a whole file under a temporary name, then rename it into place."""
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text, encoding="utf-8", newline="")
    os.replace(temporary, path)
    return path


def summary_text(figures: Mapping[str, Any]) -> str:
    return json.dumps(figures, ensure_ascii=False, indent=2) + "\n"
