"""Benchmark: the policylang engine against a hand-written baseline on retail.policy.

Run from the repository root (not collected by pytest):

    .venv/bin/python tests/perf/bench_eval.py                 # 100,000 loans, 7 repeats
    .venv/bin/python tests/perf/bench_eval.py --quick         # 10,000 loans, 3 repeats
    .venv/bin/python tests/perf/bench_eval.py --profile       # also cProfile the engine

In one run, on the same seeded loans (tests/perf/loans.py), it measures:

(a) single-loan latency: `policy.evaluate(facts)` vs `decide(facts)`
    (tests/perf/handwritten_retail.py), as total time over a sample / count;
(b) batch throughput: `policy.evaluate_many(loans)` vs a loop of `decide`;
(c) load+check time of `load_policy(path)`: cold (the first load in a fresh
    `python -c` process, timed inside that process after its imports) and warm
    (repeated loads in this process).

Each figure is the median over the repeats, with min and max. Engine and
baseline runs alternate within each repeat (and swap who goes first every
repeat), with the garbage collector disabled while timing, so both see the
same machine state on a noisy shared host. A warm-up pass first checks that
both give the same actions for every loan. Results go to stdout (a table with
targets and PASS/MISS) and to tests/perf/results.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import benchkit  # noqa: E402
from benchkit import spread, timed  # noqa: E402
from handwritten_retail import decide  # noqa: E402
from loans import DEFAULT_SEED, generate_loans  # noqa: E402

from engine.api import load_policy  # noqa: E402

POLICY = ROOT / "policies" / "retail.policy"
RESULTS = HERE / "results.json"
TARGETS = {"single_ratio": 2.0, "batch_ratio": 1.5, "load_ms": 200.0}

COLD_LOAD = """\
import json, sys, time
t0 = time.perf_counter_ns()
from engine.api import load_policy
t1 = time.perf_counter_ns()
load_policy(sys.argv[1])
t2 = time.perf_counter_ns()
print(json.dumps({"import_ns": t1 - t0, "load_ns": t2 - t1}))
"""


# -- timing helpers ---------------------------------------------------------------------

BLOCKS = 10   # each repeat alternates engine and baseline over this many slices of the work


def interleaved(runs: dict[str, Callable[[int], Any]], repeats: int) -> dict[str, list[int]]:
    """Each repeat times every run on each of BLOCKS slices of the work, alternating
    between the runs slice by slice (the first run rotates), and sums per run: a
    slow spell of the machine then falls on both sides alike."""
    names = list(runs)
    times: dict[str, list[int]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        order = names[shift:] + names[:shift]
        total = dict.fromkeys(names, 0)
        for block in range(BLOCKS):
            for name in order:
                total[name] += timed(lambda name=name, block=block: runs[name](block))[0]
        for name in names:
            times[name].append(total[name])
    return times


def blocks(items: list[Any]) -> list[list[Any]]:
    size = -(-len(items) // BLOCKS)
    return [items[i * size:(i + 1) * size] for i in range(BLOCKS)]


# -- the measurements -------------------------------------------------------------------

def check_agreement(policy: Any, loans: list[dict[str, Any]]) -> None:
    """Warm-up that also proves the two sides compute the same thing."""
    for index, (decision, mine) in enumerate(zip(policy.evaluate_many(loans),
                                                 map(decide, loans), strict=True)):
        theirs = [(a.verb, a.target, a.using, a.rules) for a in decision.actions]
        if theirs != mine:
            sys.exit(f"engine and baseline disagree on loan {index}: {loans[index]}\n"
                     f"engine:   {theirs}\nbaseline: {mine}")


def single(policy: Any, sample: list[dict[str, Any]], repeats: int) -> dict[str, Any]:
    evaluate = policy.evaluate
    slices = blocks(sample)

    def engine(block: int) -> None:
        for facts in slices[block]:
            evaluate(facts)

    def baseline(block: int) -> None:
        for facts in slices[block]:
            decide(facts)

    times = interleaved({"engine": engine, "baseline": baseline}, repeats)
    per = {name: [t / len(sample) / 1000 for t in ts] for name, ts in times.items()}   # µs
    paired = [e / b for e, b in zip(per["engine"], per["baseline"], strict=True)]
    return {"unit": "us/loan", "sample": len(sample), "engine": spread(per["engine"]),
            "baseline": spread(per["baseline"]),
            "ratio": statistics.median(per["engine"]) / statistics.median(per["baseline"]),
            "paired_ratio": spread(paired), "raw_us": per}


def batch(policy: Any, loans: list[dict[str, Any]], repeats: int) -> dict[str, Any]:
    evaluate_many = policy.evaluate_many
    slices = blocks(loans)

    def engine(block: int) -> list[Any]:
        return evaluate_many(slices[block])

    def baseline(block: int) -> list[Any]:
        return [decide(facts) for facts in slices[block]]

    times = interleaved({"engine": engine, "baseline": baseline}, repeats)
    rate = {name: [len(loans) / (t / 1e9) for t in ts] for name, ts in times.items()}
    paired = [b / e for e, b in zip(rate["engine"], rate["baseline"], strict=True)]
    return {"unit": "loans/s", "loans": len(loans), "engine": spread(rate["engine"]),
            "baseline": spread(rate["baseline"]),
            "ratio": statistics.median(rate["baseline"]) / statistics.median(rate["engine"]),
            "paired_ratio": spread(paired), "raw_loans_per_s": rate}


def load_cold(repeats: int) -> dict[str, Any]:
    loads, imports = [], []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", COLD_LOAD, str(POLICY)], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        loads.append(figures["load_ns"] / 1e6)
        imports.append(figures["import_ns"] / 1e6)
    return {"unit": "ms", "processes": repeats, "load": spread(loads),
            "import_before_load": spread(imports), "raw_ms": loads}


def load_warm(repeats: int) -> dict[str, Any]:
    load_policy(POLICY)
    times = [timed(lambda: load_policy(POLICY))[0] / 1e6 for _ in range(repeats)]
    return {"unit": "ms", "loads": repeats, "load": spread(times), "raw_ms": times}


def profile(policy: Any, sample: list[dict[str, Any]], top: int = 15) -> str:
    evaluate = policy.evaluate
    profiler = cProfile.Profile()
    profiler.enable()
    for facts in sample:
        evaluate(facts)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- report -----------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    return benchkit.machine()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: dict[str, Any]) -> str:
    s, b = results["single"], results["batch"]
    cold, warm = results["load_cold"], results["load_warm"]
    t = results["targets"]

    def cell(stats: dict[str, float], fmt: str) -> str:
        return f"{stats['median']:{fmt}} [{stats['min']:{fmt}}–{stats['max']:{fmt}}]"

    rows = [
        ("single evaluate, µs/loan", cell(s["engine"], ".2f"), cell(s["baseline"], ".2f"),
         f"{s['ratio']:.2f}x", f"<= {t['single_ratio']}x",
         verdict(s["ratio"] <= t["single_ratio"])),
        ("batch, loans/s", cell(b["engine"], ",.0f"), cell(b["baseline"], ",.0f"),
         f"{b['ratio']:.2f}x", f"<= {t['batch_ratio']}x",
         verdict(b["ratio"] <= t["batch_ratio"])),
        ("load+check cold, ms", cell(cold["load"], ".1f"), "-", "-",
         f"< {t['load_ms']:.0f} ms", verdict(cold["load"]["median"] < t["load_ms"])),
        ("load+check warm, ms", cell(warm["load"], ".1f"), "-", "-",
         f"< {t['load_ms']:.0f} ms", verdict(warm["load"]["median"] < t["load_ms"])),
    ]
    head = ("metric", "engine median [min–max]", "baseline median [min–max]", "ratio",
            "target", "result")
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True))
             .rstrip() for row in (head, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    m, c = results["machine"], results["config"]
    return "\n".join([
        f"policylang benchmark: {c['policy']}, {c['loans']:,} loans (seed {c['seed']}), "
        f"{c['repeats']} repeats, single-loan sample {c['sample']:,}",
        f"machine: nproc {m['nproc']}, {m['implementation']} {m['python']}, {m['platform']}, "
        f"load average at start {m['loadavg_at_start']}",
        "",
        *lines,
        "",
        "ratio = engine time / baseline time (median vs median); batch ratio = baseline "
        "throughput / engine throughput.",
        f"paired ratios per repeat: single {s['paired_ratio']['min']:.2f}–"
        f"{s['paired_ratio']['max']:.2f}x, batch {b['paired_ratio']['min']:.2f}–"
        f"{b['paired_ratio']['max']:.2f}x",
        f"cold load: {cold['processes']} fresh processes; imports before the timed load took "
        f"{cell(cold['import_before_load'], '.1f')} ms (not counted). "
        f"warm load: {warm['loads']} in-process loads.",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=100_000, help="loans generated (batch)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per figure")
    parser.add_argument("--sample", type=int, default=20_000,
                        help="loans in the single-evaluate sample")
    parser.add_argument("--load-repeats", type=int, default=None,
                        help="cold processes and warm loads (default: max(repeats, 10))")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quick", action="store_true", help="10,000 loans, 3 repeats")
    parser.add_argument("--profile", action="store_true",
                        help="also print cProfile's top 15 (tottime) of policy.evaluate "
                             "over the sample")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write results")
    args = parser.parse_args(argv)
    if args.quick:
        args.loans, args.repeats = 10_000, 3
    sample_size = min(args.sample, args.loans)
    load_repeats = args.load_repeats or max(args.repeats, 10)

    info = machine()
    print(f"generating {args.loans:,} loans (seed {args.seed}) ...", file=sys.stderr)
    loans = generate_loans(args.loans, args.seed)
    sample = loans[:sample_size]
    policy = load_policy(POLICY)
    print("warm-up: checking engine and baseline agree on every loan ...", file=sys.stderr)
    check_agreement(policy, loans)

    print("timing single evaluations ...", file=sys.stderr)
    single_results = single(policy, sample, args.repeats)
    print("timing batches ...", file=sys.stderr)
    batch_results = batch(policy, loans, args.repeats)
    print("timing load+check ...", file=sys.stderr)
    cold = load_cold(load_repeats)
    warm = load_warm(load_repeats)

    command = "python " + " ".join([str(Path(sys.argv[0])), *(argv or sys.argv[1:])])
    results = {
        "command": command.strip(),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "config": {"policy": str(POLICY.relative_to(ROOT)), "loans": args.loans,
                   "seed": args.seed, "repeats": args.repeats, "sample": sample_size,
                   "load_repeats": load_repeats},
        "targets": TARGETS,
        "single": single_results,
        "batch": batch_results,
        "load_cold": cold,
        "load_warm": warm,
    }
    results["verdicts"] = {
        "single": verdict(single_results["ratio"] <= TARGETS["single_ratio"]),
        "batch": verdict(batch_results["ratio"] <= TARGETS["batch_ratio"]),
        "load_cold": verdict(cold["load"]["median"] < TARGETS["load_ms"]),
        "load_warm": verdict(warm["load"]["median"] < TARGETS["load_ms"]),
    }
    print(report(results))
    if args.profile:
        text = profile(policy, sample)
        results["profile_top15_tottime"] = text
        print(f"\ncProfile of policy.evaluate over {len(sample):,} loans, top 15 by tottime:")
        print(text)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
