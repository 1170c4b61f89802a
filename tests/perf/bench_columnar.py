"""Benchmark: the columnar evaluator against the row engine on retail.policy.

Run from the repository root (not collected by pytest):

    .venv/bin/python tests/perf/bench_columnar.py               # 100,000 loans, 5 repeats
    .venv/bin/python tests/perf/bench_columnar.py --loans 20000 --repeats 3

On the same seeded loans (tests/perf/loans.py) it times, per repeat, with the
collector off and CPU time as the clock (benchkit):

- `row evaluate_many`: `CompiledPolicy.evaluate_many(loans)` (validation included);
- `row decide_many`: the row engine on value lists validated beforehand (the
  like-for-like baseline of the columns below, which are also validated beforehand);
- `columns, Decimal`: `decide_columns` on columns of validated values (money as
  Decimal objects, converted to exact int64 units inside the call);
- `columns, int64`: `decide_columns` on NumPy columns with money as `Scaled` cents
  (what a columnar simulation holds);
- `columnar evaluate_many`: validation, columns and decisions, from the same dicts.

Before timing, every path's decisions are checked equal to `evaluate_many`'s.
Figures are medians (min–max) over the repeats; ratios are row time / columnar time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import numpy as np  # noqa: E402
from benchkit import machine, spread, timed  # noqa: E402
from loans import DEFAULT_SEED, generate_loans  # noqa: E402

from engine.api import CompiledPolicy, load_policy  # noqa: E402
from engine.columnar import ColumnarPolicy, Scaled, columnar  # noqa: E402
from policylang.schema_model import FactType  # noqa: E402

POLICY = ROOT / "policies" / "retail.policy"


def numpy_columns(policy: CompiledPolicy, columns: dict[str, list[Any]]) -> dict[str, Any]:
    """The same columns as NumPy arrays: money and decimals as int64 units (`Scaled`)."""
    out: dict[str, Any] = {}
    for fact in policy.validator.order:
        values = columns[fact.name]
        if fact.type in (FactType.MONEY, FactType.DECIMAL):
            places = max(-v.as_tuple().exponent for v in values)
            out[fact.name] = Scaled(np.array([int(v.scaleb(places)) for v in values],
                                             dtype=np.int64), places)
        elif fact.type is FactType.BOOL:
            out[fact.name] = np.array(values, dtype=bool)
        elif fact.type in (FactType.INT, FactType.DAYS):
            out[fact.name] = np.array(values, dtype=np.int64)
        else:
            out[fact.name] = np.array(values, dtype=object)
    return out


def measure(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """CPU seconds of each run, the runs taking turns within each repeat."""
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(runs[name])[0] / 1e9)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    policy = load_policy(POLICY)
    fast: ColumnarPolicy = columnar(policy)
    loans = generate_loans(args.loans, args.seed)
    rows = policy.validator.coerce_columns(loans)
    assert rows is not None, "the generated loans are plainly valid"
    n = len(rows)
    decimal_columns = fast.columns_of(rows)
    int_columns = numpy_columns(policy, decimal_columns)
    tail = (*policy.binder.bind(None), *policy.program.let_blank)

    expected = policy.evaluate_many(loans)
    for name, got in (("Decimal", fast.decide_columns(decimal_columns, n)),
                      ("int64", fast.decide_columns(int_columns, n)),
                      ("evaluate_many", fast.evaluate_many(loans))):
        if got != expected:
            bad = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
            sys.exit(f"columns ({name}) disagree with the row engine on loan {bad}")

    envs: list[list[list[Any]]] = []

    def row_decide_many() -> Any:
        return policy.decide_many(envs.pop())

    runs: dict[str, Callable[[], Any]] = {
        "row evaluate_many": lambda: policy.evaluate_many(loans),
        "row decide_many": row_decide_many,
        "columns, Decimal": lambda: fast.decide_columns(decimal_columns, n),
        "columns, int64": lambda: fast.decide_columns(int_columns, n),
        "columnar evaluate_many": lambda: fast.evaluate_many(loans),
    }
    for _ in range(args.repeats):       # fresh let caches for every decide_many run
        envs.append([[*row, *tail] for row in rows])
    times = measure(runs, args.repeats)
    print(f"{n:,} loans, {args.repeats} repeats, CPU seconds: median [min–max]; "
          f"per_row fallbacks: {len(fast.per_row)}")
    print(f"machine: {machine()}")
    for name, values in times.items():
        stats = spread(values)
        print(f"  {name:<24} {stats['median']:8.3f} s [{stats['min']:.3f}–{stats['max']:.3f}]"
              f"  {n / stats['median']:>12,.0f} loans/s")
    median = {name: statistics.median(values) for name, values in times.items()}
    for row, col in (("row evaluate_many", "columns, Decimal"),
                     ("row evaluate_many", "columns, int64"),
                     ("row decide_many", "columns, Decimal"),
                     ("row decide_many", "columns, int64"),
                     ("row evaluate_many", "columnar evaluate_many")):
        print(f"  {row} / {col}: {median[row] / median[col]:.1f}x")


if __name__ == "__main__":
    main()
