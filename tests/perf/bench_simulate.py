"""Benchmark: `policylang simulate`'s replay, row engine against columnar engine.

A generated portfolio (engine/simulation/generator.py, seeded) is read once; then the
two engines replay it in turn, repeat after repeat, CPU time of this process. Both must
give the same loan-days (checked on the first repeat), so the ratio compares equal
work. Reading the input is timed on its own. Not a test: run it by hand.

    .venv/bin/python tests/perf/bench_simulate.py [--loans 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchkit import machine, spread, timed  # noqa: E402

from engine.api import load_policy  # noqa: E402
from engine.simulation.engines import replay_columnar  # noqa: E402
from engine.simulation.generator import generate_portfolio, write_portfolio  # noqa: E402
from engine.simulation.history import read_history  # noqa: E402
from engine.simulation.replay import replay_rows  # noqa: E402

RESULTS = Path(__file__).with_name("simulate_results.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    policy = load_policy(ROOT / "policies" / "retail.policy")
    with tempfile.TemporaryDirectory() as folder:
        portfolio = generate_portfolio(args.loans, seed=args.seed, start=date(2025, 1, 1))
        write_portfolio(portfolio, Path(folder))
        reads = [timed(lambda: read_history(Path(folder), policy.schema))
                 for _ in range(3)]
    read = reads[-1][1]
    assert read.can_simulate, read.report()
    loans = read.portfolio
    engines = {"row": lambda: replay_rows(policy, loans),
               "columnar": lambda: replay_columnar(policy, loans)}
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    loan_days = 0
    for repeat in range(args.repeats):
        results = {}
        for name, run in engines.items():
            elapsed, results[name] = timed(run)
            seconds[name].append(elapsed / 1e9)
        if repeat == 0:
            assert results["row"].days == results["columnar"].days, "engines disagree"
            loan_days = len(results["row"].days)
        print(f"  repeat {repeat + 1}/{args.repeats}: "
              + ", ".join(f"{n} {s[-1]:.2f} s" for n, s in seconds.items()), flush=True)
    figures = {name: spread(values) for name, values in seconds.items()}
    paired = [r / c for r, c in zip(seconds["row"], seconds["columnar"], strict=True)]
    out = {"machine": machine(), "loans": args.loans, "seed": args.seed,
           "loan_days": loan_days, "read_s": spread([t / 1e9 for t, _ in reads]),
           "replay_s": figures, "row_over_columnar": spread(paired)}
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"policylang simulate benchmark: {args.loans} loans (seed {args.seed}), "
          f"{loan_days} loan-days, {args.repeats} repeats, CPU seconds, median [min–max]")
    print(f"read input       {out['read_s']['median']:.2f} "
          f"[{out['read_s']['min']:.2f}–{out['read_s']['max']:.2f}]")
    for name, figure in figures.items():
        rate = loan_days / figure["median"]
        print(f"replay {name:<9} {figure['median']:.2f} [{figure['min']:.2f}–{figure['max']:.2f}]"
              f"  {rate:,.0f} loan-days/s")
    ratio = out["row_over_columnar"]
    print(f"row / columnar   {ratio['median']:.2f}x [{ratio['min']:.2f}–{ratio['max']:.2f}] "
          "(paired per repeat; above 1: columnar faster)")


if __name__ == "__main__":
    main()
