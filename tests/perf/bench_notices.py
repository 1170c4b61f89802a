"""Benchmark: what `simulate --notices` adds to a replay, and where it goes.

Run from the repository root (not collected by pytest):

    .venv/bin/python tests/perf/bench_notices.py                  # bundled example, 5 repeats
    .venv/bin/python tests/perf/bench_notices.py --loans 2000     # a generated portfolio

In one process, in turns, the same `policylang simulate policies/retail.policy` runs
without `--notices` (the baseline) and with `--notices DIR` (HTML), `--repeats` times
each; the figure is the CPU time of the process (tests/perf/benchkit.py), the median
with its range, the ratio of the two medians, and, for the runs with notices, the
share spent finding the facts of each notice's day (the loan's facts walked forward,
fed by the replay's own actions) against rendering and writing the files. Nothing is written to
the repository; the notices go to a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "perf")]

from benchkit import CLOCK, machine, spread, timed  # noqa: E402

from engine.simulation import notices as notices_module  # noqa: E402
from engine.simulation.generator import generate_portfolio, write_portfolio  # noqa: E402
from policylang.cli import main  # noqa: E402

POLICY = str(ROOT / "policies" / "retail.policy")


class _Split:
    """CPU time inside NoticesWriter.add and its rendering, summed over a run."""

    def __init__(self) -> None:
        self.add = self.render = 0
        writer = notices_module.NoticesWriter
        self._add, self._render = writer.add, writer._render_day

    def install(self) -> None:
        split, writer = self, notices_module.NoticesWriter

        def add(self: Any, chunk: Any) -> None:
            start = CLOCK()
            split._add(self, chunk)
            split.add += CLOCK() - start

        def render(self: Any, *args: Any) -> None:
            start = CLOCK()
            split._render(self, *args)
            split.render += CLOCK() - start

        writer.add, writer._render_day = add, render          # type: ignore[method-assign]


def simulate(args: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["simulate", POLICY, *args])
    if code != 0:
        raise SystemExit(f"simulate {' '.join(args)} exited {code}")


def main_bench() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--loans", type=int, default=0,
                        help="a generated portfolio of this many loans (0: the bundled "
                             "example, 200 loans)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    data: list[str] = []
    if options.loans:
        start = date(2025, 1, 1)
        write_portfolio(generate_portfolio(options.loans, seed=2026, start=start,
                                           end=start + timedelta(days=424)), work / "data")
        data = ["--data", str(work / "data")]
    split = _Split()
    split.install()
    plain: list[float] = []
    with_notices: list[float] = []
    shares: list[tuple[float, float]] = []
    written = 0
    try:
        for _ in range(options.repeats):
            elapsed, _ = timed(lambda: simulate(data))
            plain.append(elapsed / 1e9)
            shutil.rmtree(work / "notices", ignore_errors=True)
            split.add = split.render = 0
            elapsed, _ = timed(lambda: simulate([*data, "--notices", str(work / "notices")]))
            with_notices.append(elapsed / 1e9)
            shares.append(((split.add - split.render) / 1e9, split.render / 1e9))
            written = sum(1 for _ in (work / "notices").rglob("*.html"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base, full = spread(plain), spread(with_notices)
    replay = spread([s[0] for s in shares])
    render = spread([s[1] for s in shares])
    print(f"machine: {machine()}")
    print(f"portfolio: {options.loans or 'bundled example (200'} loans"
          f"{')' if not options.loans else ''}, {written} notices, "
          f"{options.repeats} repeats, CPU seconds, median [min-max]")
    for name, figures in (("without --notices", base), ("with --notices", full),
                          ("  facts of the day", replay), ("  render + write", render)):
        print(f"{name:20} {figures['median']:7.2f} [{figures['min']:.2f}-{figures['max']:.2f}]")
    extra = full["median"] - base["median"]
    print(f"ratio {full['median'] / base['median']:.2f}x; {extra:.2f} s more, "
          f"{1000 * extra / max(written, 1):.2f} ms a notice")
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
