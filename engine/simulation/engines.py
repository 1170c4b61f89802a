"""The replay engines and the switch between them.

- `row`: each loan on its own, day after day, with the compiled evaluator.
- `columnar` (the default): one calendar day for every active loan at once; the
  ledger, the given facts and the history facts are arrays, and the rules are
  evaluated a column at a time (engine/simulation/fastreplay.py, engine/columnar.py).
  Differential tests hold it to the row engine's exact output.
- `spark`: the columnar engine on Apache Spark executors, partitioned by loan
  (engine/simulation/spark.py; needs the `policylang[spark]` extra).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.api import CompiledPolicy
from engine.simulation.fastreplay import replay_vectorised
from engine.simulation.history import Portfolio
from engine.simulation.options import ENGINES
from engine.simulation.replay import (
    ALL_DAYS,
    ReplayResult,
    Window,
    replay_rows,
)

CHUNK_LOANS = 2000          # loans replayed, written and forgotten at a time


def run_engine(engine: str, policy: CompiledPolicy, portfolio: Portfolio, window: Window,
               params: Mapping[str, Any] | None = None, *, data: str | None = None
               ) -> ReplayResult:
    """Replay with the named engine; every engine gives the same ReplayResult. `data` is
    the input folder the portfolio was read from (Spark reads it again itself)."""
    if engine == "row":
        return replay_rows(policy, portfolio, window, params)
    if engine == "columnar":
        return replay_columnar(policy, portfolio, window, params)
    if engine == "spark":
        from engine.simulation.spark import replay_spark  # noqa: PLC0415 (optional extra)
        return replay_spark(policy, portfolio, window, params, data=data)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def replay_in_chunks(engine: str, policy: CompiledPolicy, portfolio: Portfolio,
                     window: Window, params: Mapping[str, Any] | None = None, *,
                     data: str | None = None, chunk_loans: int = CHUNK_LOANS
                     ) -> Iterator[ReplayResult]:
    """The replay a chunk of whole loans at a time, in output order, so a caller can
    write and forget each chunk. The end date is settled over the whole portfolio
    first, so chunks agree on it. Spark replays the portfolio in one go (it partitions
    by loan itself)."""
    window = Window(window.start, window.resolved_end(portfolio))
    if engine == "spark":
        yield run_engine(engine, policy, portfolio, window, params, data=data)
        return
    loans = portfolio.loans
    for first in range(0, len(loans), chunk_loans):
        part = Portfolio(loans[first:first + chunk_loans])
        yield run_engine(engine, policy, part, window, params)


def replay_columnar(policy: CompiledPolicy, portfolio: Portfolio, window: Window = ALL_DAYS,
                    params: Mapping[str, Any] | None = None) -> ReplayResult:
    """The columnar engine: the calendar day by day, the whole state of every active loan
    as arrays (engine/simulation/fastreplay.py)."""
    return replay_vectorised(policy, portfolio, window, params)
