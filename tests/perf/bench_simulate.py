"""Benchmark: replay speed in loan-days per CPU second, row engine against the vectorised
replay (engine/simulation/fastreplay.py), and the vectorised replay's peak memory.

Portfolios: generate_portfolio(N, start 2025-01-01, end 2025-12-31, originations in the
first three weeks), so loans are active most of the year; written as CSV and read back
with read_history once (not timed). Policies: policies/retail.policy (its rules and its
guard's) and the benchmark generator's 20-rule policy (tests/perf/policy_generator.py,
same schema).

Measured, CPU time of this process (time.process_time, one core), median of --repeats:
- `row`: replay_rows on the first --row-loans loans (it is ~100x slower; its rate does
  not depend on the portfolio size);
- `vectorised`: replay_vectorised, the full ReplayResult with one LoanDay per loan-day;
- `compact`: replay_compact, chunk arrays only (what write_actions_csv consumes).
Before timing, the two engines' results are checked equal on the --row-loans loans.
Memory: tracemalloc peak (NumPy arrays included) of one compact replay, above what the
read portfolio already holds, with the default chunk (CHUNK_LOANS loans, fewer for a
smaller portfolio) and with --memory-chunk loans: it depends on the chunk, not on N.
Not a test: run it by hand.

    .venv/bin/python tests/perf/bench_simulate.py [--loans 10000 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "perf")]

from benchkit import machine, timed  # noqa: E402
from policy_generator import generate_policy  # noqa: E402

from engine.api import CompiledPolicy, load_policy, load_policy_text  # noqa: E402
from engine.simulation.fastreplay import (  # noqa: E402
    CHUNK_LOANS,
    replay_compact,
    replay_vectorised,
)
from engine.simulation.generator import generate_portfolio, write_portfolio  # noqa: E402
from engine.simulation.history import Portfolio, read_history  # noqa: E402
from engine.simulation.replay import replay_rows  # noqa: E402

POLICIES = ROOT / "policies"
START, END = date(2025, 1, 1), date(2025, 12, 31)


def policies() -> dict[str, CompiledPolicy]:
    twenty = load_policy_text(generate_policy(20, asserts=0), base_dir=POLICIES)
    retail = load_policy(POLICIES / "retail.policy")
    return {f"retail ({len(retail.plans)} rules, its guard's included)": retail,
            "generated (20 rules)": twenty}


def portfolio(loans: int, seed: int) -> Portfolio:
    generated = generate_portfolio(loans, seed=seed, start=START, end=END, origination_days=21)
    with tempfile.TemporaryDirectory() as folder:
        write_portfolio(generated, Path(folder))
        read = read_history(Path(folder), load_policy(POLICIES / "retail.policy").schema)
    assert read.can_simulate and not read.problems, read.report()
    return read.portfolio


def compact_days(policy: CompiledPolicy, loans: Portfolio, chunk: int = CHUNK_LOANS) -> int:
    return sum(len(part) for part in replay_compact(policy, loans, chunk=chunk))


def rate(run: Callable[[], int], repeats: int) -> dict[str, float]:
    """Median CPU seconds and loan-days per second of `run` (which returns loan-days)."""
    seconds, days = [], 0
    for _ in range(repeats):
        elapsed, days = timed(run)
        seconds.append(elapsed / 1e9)
    median = statistics.median(seconds)
    return {"seconds": round(median, 3), "loan_days": days,
            "loan_days_per_s": round(days / median)}


def peak_bytes(run: Callable[[], Any]) -> int:
    """tracemalloc's peak during `run()`, above what was allocated before it."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def profile(run: Callable[[], Any], lines: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    return out.getvalue()


def measure(policy: CompiledPolicy, loans: Portfolio, args: argparse.Namespace
            ) -> dict[str, Any]:
    """The figures of one policy on one portfolio (equality checked on a sample first)."""
    sample = Portfolio(loans.loans[:args.row_loans])
    row = replay_rows(policy, sample)
    assert replay_vectorised(policy, sample).days == row.days, policy.name
    result = {"row": rate(lambda: len(replay_rows(policy, sample).days), 1),
              "compact": rate(lambda: compact_days(policy, loans), args.repeats)}
    if len(loans) <= 20000:                     # one LoanDay per loan-day: memory grows
        result["vectorised"] = rate(lambda: len(replay_vectorised(policy, loans).days),
                                    args.repeats)
    for chunk in sorted({CHUNK_LOANS, args.memory_chunk}):
        peak = peak_bytes(lambda c=chunk: compact_days(policy, loans, c))   # type: ignore[misc]
        result[f"compact_peak_mb_chunk_{chunk}"] = round(peak / 2**20, 1)
    if args.profile:
        print(profile(lambda: compact_days(policy, loans)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--row-loans", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--memory-chunk", type=int, default=5000,
                        help="also measure peak memory with chunks of this many loans")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, Any] = {"machine": machine(), "sizes": {}}
    for size in args.loans:
        started = time.perf_counter()
        loans = portfolio(size, args.seed)
        print(f"{size} loans generated and read in {time.perf_counter() - started:.0f} s",
              flush=True)
        at_size = figures["sizes"][str(size)] = {}
        for name, policy in policies().items():
            at_size[name] = measure(policy, loans, args)
            print(f"  {name}: {json.dumps(at_size[name])}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
