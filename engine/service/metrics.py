"""Counters for `GET /metrics`, written out in the Prometheus text format by hand.

Input: one `observe` per decision (policy, outcome, seconds) and the store's reload
counters. Output: the exposition text. Counting takes a lock: the event loop and
the thread pool both decide.
Must not: pull in a metrics library for four series.
"""

from __future__ import annotations

import threading
from collections import Counter

# Decision latency buckets in seconds: a decision takes microseconds; a batch longer.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """decisions_total{policy,outcome} and a decision latency histogram per policy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decisions: Counter[tuple[str, str]] = Counter()
        self._buckets: Counter[tuple[str, float]] = Counter()
        self._sums: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()

    def observe(self, policy: str, outcome: str, seconds: float, count: int = 1) -> None:
        """Count `count` decisions of one outcome; the latency is per request."""
        with self._lock:
            self._decisions[policy, outcome] += count
            for bound in BUCKETS:
                if seconds <= bound:
                    self._buckets[policy, bound] += 1
            self._sums[policy] += seconds
            self._counts[policy] += 1

    def render(self, reloads: int, rejected: int) -> str:
        """The exposition text (format 0.0.4)."""
        with self._lock:
            lines = ["# HELP policylang_decisions_total Decisions by policy and outcome.",
                     "# TYPE policylang_decisions_total counter"]
            lines += [f'policylang_decisions_total{{policy="{_esc(p)}",outcome="{o}"}} {n}'
                      for (p, o), n in sorted(self._decisions.items())]
            lines += ["# HELP policylang_decision_seconds Time to decide one request.",
                      "# TYPE policylang_decision_seconds histogram"]
            for policy in sorted(self._counts):
                label = f'policy="{_esc(policy)}"'
                lines += [f'policylang_decision_seconds_bucket{{{label},le="{b}"}} '
                          f"{self._buckets[policy, b]}" for b in BUCKETS]
                lines += [f'policylang_decision_seconds_bucket{{{label},le="+Inf"}} '
                          f"{self._counts[policy]}",
                          f"policylang_decision_seconds_sum{{{label}}} {self._sums[policy]}",
                          f"policylang_decision_seconds_count{{{label}}} {self._counts[policy]}"]
        lines += ["# HELP policylang_reloads_total Reloads run (each checks every policy).",
                  "# TYPE policylang_reloads_total counter", f"policylang_reloads_total {reloads}",
                  "# HELP policylang_reload_rejected_total Policy versions refused by a reload.",
                  "# TYPE policylang_reload_rejected_total counter",
                  f"policylang_reload_rejected_total {rejected}"]
        return "\n".join(lines) + "\n"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
