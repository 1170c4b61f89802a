"""The figures of a replay, gathered chunk by chunk for summary.json and report.html.

Stage: after each engine chunk, before the outputs. Input: `ReplayResult` chunks of
whole loans, in output order, and (with `--against`) the other policy's replay of the
same loans. Output: `summary()`, the dict summary.json holds and the report draws.

Memory is bounded by the shape of the portfolio, not its size: counters keyed by
action, band, day or count, plus the timelines of at most `EXAMPLES` differing loans
and the first `FINDINGS_KEPT` findings of each compliance check. A loan-day is seen
once and dropped.

Must not: keep every loan-day; depend on how the loans were cut into chunks (the
same loans give the same figures in one chunk or in a hundred); use floats for money.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from engine.api import CompiledPolicy
from engine.decision import Action
from engine.simulation.compliance import Compliance, Finding, describe_all
from engine.simulation.deadline_figures import DEFAULT_MARGIN, DeadlineTally
from engine.simulation.deadlines import DeadlinePlan
from engine.simulation.history import LoanHistory
from engine.simulation.replay import LoanDay, ReplayResult, action_keys
from policylang.schema_model import ActionDef

BANDS = (("0", 0, 0), ("1-3", 1, 3), ("4-6", 4, 6), ("7-29", 7, 29), ("30-89", 30, 89),
         ("90+", 90, None))
EXAMPLES = 3
FINDINGS_KEPT = 25
EXAMPLE_DAYS = 60
PER_LOAN = ("letters", "visits", "legal referrals")
_POINTS = {"min": (0, 1), "p25": (1, 4), "median": (1, 2), "p75": (3, 4), "p90": (9, 10),
           "max": (1, 1)}


def band_of(overdue: int) -> str:
    """The days-overdue band an analyst reads: 0, 1-3, 4-6, 7-29, 30-89, 90+."""
    for name, low, high in BANDS:
        if overdue >= low and (high is None or overdue <= high):
            return name
    return BANDS[0][0]


def per_loan_kinds(action: Action, definition: ActionDef | None) -> Iterable[str]:
    """Which per-loan tallies an action counts in: a letter is any action sent by the
    `letter` channel (a `notify` when the catalogue names no channel)."""
    channel = definition.channel if definition is not None else None
    if channel == "letter" or (channel is None and action.verb == "notify"):
        yield "letters"
    if action.verb == "visit":
        yield "visits"
    if action.verb == "refer" and action.target == "legal":
        yield "legal referrals"


def quantiles(histogram: Mapping[int, int]) -> dict[str, int]:
    """min, p25, median, p75, p90 and max of a histogram of whole numbers, each a value
    that occurs (the lowest value at or past that share of the count)."""
    total = sum(histogram.values())
    out: dict[str, int] = {}
    ordered = sorted(histogram.items())
    for name, (part, whole) in _POINTS.items():
        need, seen = max(1, -(-total * part // whole)), 0
        for value, count in ordered:
            seen += count
            if seen >= need:
                out[name] = value
                break
    return out


class _Tally:
    """The counters of one policy's replay; the champion gets a lighter one."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.catalogue: Mapping[str, ActionDef] = policy.schema.actions
        self.by_action: Counter[str] = Counter()
        self.verbs: dict[str, str] = {}
        self.highest: Counter[int] = Counter()
        self.findings: Counter[str] = Counter()

    def add_loan(self, days: Sequence[LoanDay]) -> None:
        stage = 0
        for loan_day in days:
            for action in loan_day.actions:
                name = str(action)
                self.by_action[name] += 1
                self.verbs[name] = action.verb
                stage = max(stage, action.stage)
        self.highest[stage] += 1

    def cost(self) -> dict[str, Any]:
        """Cost by action from the catalogue's `cost`; actions without one are listed."""
        rows: dict[str, dict[str, Any]] = {}
        missing: list[str] = []
        total = Decimal(0)
        for name, count in _by_count(self.by_action).items():
            unit = self.catalogue[self.verbs[name]].cost if self.verbs[name] in \
                self.catalogue else None
            if unit is None:
                missing.append(name)
                continue
            rows[name] = {"count": count, "unit": str(unit), "total": str(unit * count)}
            total += unit * count
        return {"total": str(total), "by_action": rows, "without_cost": missing}


class Figures:
    """Accumulates the figures of a replay (and of the policy it is compared with)."""

    def __init__(self, policy: CompiledPolicy, *, engine: str, window_start: date | None,
                 end: date | None, params: Mapping[str, str], skipped: Sequence[str],
                 compliance: Compliance | None = None,
                 against_policy: CompiledPolicy | None = None,
                 loans: Mapping[str, LoanHistory] | None = None,
                 deadline_margin: int = DEFAULT_MARGIN) -> None:
        self.policy, self.engine = policy, engine
        self.window_start, self.end = window_start, end
        self.params, self.skipped = dict(params), list(skipped)
        self.compliance, self.against_policy = compliance, against_policy
        self.mine = _Tally(policy)
        self.theirs = _Tally(against_policy) if against_policy is not None else None
        self.loans = self.loan_days = 0
        self.by_rule: Counter[str] = Counter()
        self.by_month: Counter[str] = Counter()
        self.by_band: Counter[tuple[str, str]] = Counter()
        self.first_fire: dict[str, Counter[int]] = {}
        self.per_loan: dict[str, Counter[int]] = {kind: Counter() for kind in PER_LOAN}
        self.workload: Counter[tuple[str, str]] = Counter()
        self.check_loans: Counter[str] = Counter()
        self.check_days: Counter[str] = Counter()
        self.kept: dict[str, list[Finding]] = {}
        self.differing_days = self.differing_loans = 0
        self.divergence: Counter[int] = Counter()
        self.divergence_month: Counter[str] = Counter()
        self.examples: list[dict[str, Any]] = []
        # `loans` (by id) lets the deadline section replay each loan's periods.
        self.deadlines = DeadlineTally(DeadlinePlan.of(policy.schema), loans, deadline_margin,
                                       end)

    def add(self, chunk: ReplayResult, other: ReplayResult | None = None) -> None:
        """Take in one chunk of whole loans, in output order; `other` is the --against
        policy's replay of exactly the same loans."""
        self.loans += chunk.loans
        self.loan_days += len(chunk.days)
        theirs = dict(other.by_loan()) if other is not None else {}
        for loan_id, days in chunk.by_loan():
            self._add_loan(days)
            if other is not None:
                self._compare(loan_id, days, theirs.get(loan_id, []))

    def _add_loan(self, days: Sequence[LoanDay]) -> None:
        self.mine.add_loan(days)
        first: dict[str, int] = {}
        counts: Counter[str] = Counter()
        for loan_day in days:
            month, band, day = loan_day.day.isoformat()[:7], band_of(loan_day.overdue), \
                loan_day.day.isoformat()
            for action in loan_day.actions:
                name = str(action)
                definition = self.mine.catalogue.get(action.verb)
                self.by_rule.update(action.rules)
                self.by_month[month] += 1
                self.by_band[(name, band)] += 1
                first.setdefault(name, loan_day.overdue)
                counts.update(per_loan_kinds(action, definition))
                channel = definition.channel if definition and definition.channel else "other"
                self.workload[(day, channel)] += 1
        for name, overdue in first.items():
            self.first_fire.setdefault(name, Counter())[overdue] += 1
        for kind in PER_LOAN:
            self.per_loan[kind][counts[kind]] += 1
        self._check(days)
        self.deadlines.add_loan(days)

    def _check(self, days: Sequence[LoanDay]) -> None:
        if self.compliance is None:
            return
        for finding in self.compliance.check_loan(days):
            self.check_loans[finding.check] += 1
            self.check_days[finding.check] += finding.days
            kept = self.kept.setdefault(finding.check, [])
            if len(kept) < FINDINGS_KEPT:
                kept.append(finding)

    def _compare(self, loan_id: str, mine: Sequence[LoanDay],
                 theirs: Sequence[LoanDay]) -> None:
        assert self.theirs is not None
        self.theirs.add_loan(theirs)
        if self.compliance is not None:
            self.theirs.findings.update(f.check for f in self.compliance.check_loan(theirs))
        differing = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True))
                     if action_keys(a.actions) != action_keys(b.actions)]
        if not differing:
            return
        self.differing_days += len(differing)
        self.differing_loans += 1
        first = mine[differing[0]]
        self.divergence[first.overdue] += 1
        self.divergence_month[first.day.isoformat()[:7]] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(_example(loan_id, mine, theirs, set(differing)))

    def summary(self) -> dict[str, Any]:
        """summary.json: the contract's keys first, then the report's figures."""
        policy = self.policy
        out: dict[str, Any] = {
            "policy": _policy(policy),
            "engine": self.engine,
            "from": self.window_start.isoformat() if self.window_start else None,
            "to": self.end.isoformat() if self.end else None,
            "params": dict(sorted(self.params.items())),
            "loans": self.loans,
            "loans_skipped": self.skipped,
            "loan_days": self.loan_days,
            "actions": sum(self.mine.by_action.values()),
            "by_action": _by_count(self.mine.by_action),
            "by_rule": _by_count(self.by_rule),
            "by_month": dict(sorted(self.by_month.items())),
            "loans_by_highest_stage": _stages(self.mine.highest),
        }
        if self.theirs is not None and self.against_policy is not None:
            out["against"] = self._against()
        out.update(self._details())
        return out

    def _details(self) -> dict[str, Any]:
        actions = list(_by_count(self.mine.by_action))
        return {
            "currency": _currency(self.policy),
            "by_overdue_band": {name: {band: self.by_band[(name, band)] for band, _, _ in BANDS}
                                for name in actions},
            "first_fire_overdue": {name: quantiles(self.first_fire[name]) | {
                "loans": sum(self.first_fire[name].values())} for name in actions},
            "per_loan": {kind: {str(n): c for n, c in sorted(self.per_loan[kind].items())}
                         for kind in PER_LOAN},
            "by_day": _by_day(self.workload),
            "cost": self.mine.cost(),
            "compliance": self._compliance(),
            "deadlines": self.deadlines.summary(),
        }

    def _compliance(self) -> dict[str, Any] | None:
        if self.compliance is None:
            return None
        checks = []
        for check in describe_all(self.compliance):
            name = check["name"]
            check |= {"loans": self.check_loans[name], "days": self.check_days[name],
                      "first": [_finding(f) for f in self.kept.get(name, [])]}
            if self.theirs is not None:
                check["against_loans"] = self.theirs.findings[name]
            checks.append(check)
        return {"file": self.compliance.path, "checks": checks}

    def _against(self) -> dict[str, Any]:
        assert self.theirs is not None and self.against_policy is not None
        names = sorted(set(self.mine.by_action) | set(self.theirs.by_action))
        deltas = {n: {"against": self.theirs.by_action[n], "policy": self.mine.by_action[n],
                      "delta": self.mine.by_action[n] - self.theirs.by_action[n]}
                  for n in names}
        return {
            "policy": _policy(self.against_policy),
            "actions": sum(self.theirs.by_action.values()),
            "loan_days_differing": self.differing_days,
            "loans_differing": self.differing_loans,
            "by_action_delta": dict(sorted(deltas.items(),
                                           key=lambda kv: (-abs(kv[1]["delta"]), kv[0]))),
            "first_divergence_overdue": {str(k): v for k, v in sorted(self.divergence.items())},
            "first_divergence_month": dict(sorted(self.divergence_month.items())),
            "loans_by_highest_stage": _stages(self.theirs.highest),
            "cost": self.theirs.cost(),
            "examples": self.examples,
        }


def _policy(policy: CompiledPolicy) -> dict[str, Any]:
    return {"name": policy.name, "version": policy.version, "digest": policy.digest}


def _by_count(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _stages(highest: Mapping[int, int]) -> dict[str, int]:
    return {str(s): highest[s] for s in sorted(highest)}


def _currency(policy: CompiledPolicy) -> str | None:
    currencies = sorted(policy.schema.currencies)
    return currencies[0] if len(currencies) == 1 else None


def _by_day(workload: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    days: dict[str, dict[str, int]] = {}
    for (day, channel), count in sorted(workload.items()):
        days.setdefault(day, {})[channel] = count
    return days


def _finding(finding: Finding) -> dict[str, Any]:
    return {"loan_id": finding.loan_id, "date": finding.day.isoformat(),
            "overdue": finding.overdue, "days": finding.days}


def _example(loan_id: str, mine: Sequence[LoanDay], theirs: Sequence[LoanDay],
             differing: set[int]) -> dict[str, Any]:
    """A differing loan's two timelines: the days on which either policy acts, from a few
    before the first divergence, at most EXAMPLE_DAYS of them."""
    acting = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True))
              if a.actions or b.actions]
    start = max(0, acting.index(min(differing)) - 5)
    days = [{"date": mine[i].day.isoformat(), "overdue": mine[i].overdue,
             "differs": i in differing,
             "policy": [_action(x) for x in mine[i].actions],
             "against": [_action(x) for x in theirs[i].actions]}
            for i in acting[start:start + EXAMPLE_DAYS]]
    return {"loan_id": loan_id, "first_divergence": mine[min(differing)].day.isoformat(),
            "acting_days": len(acting), "days": days}


def _action(action: Action) -> dict[str, Any]:
    return {"action": str(action), "rules": list(action.rules)}
