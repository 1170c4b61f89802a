"""The replay engines and the switch between them.

- `row`: each loan on its own, day after day, with the compiled evaluator.
- `columnar` (the default): one day for every active loan at once; the day's facts
  become NumPy columns and the rules are evaluated a column at a time
  (engine/columnar.py). The loans' facts come from the same cursors as the row
  engine's, so the two differ only in how the rules are evaluated; a differential
  test holds them to identical output.
- `spark`: the columnar engine on Apache Spark executors, partitioned by loan
  (engine/simulation/spark.py; needs the `policylang[spark]` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from engine.api import CompiledPolicy
from engine.columnar import columnar
from engine.simulation.history import Portfolio
from engine.simulation.loanday import FactPlan, LoanCursor
from engine.simulation.options import ENGINES
from engine.simulation.replay import (
    ALL_DAYS,
    LoanDay,
    ReplayResult,
    Window,
    action_keys,
    replay_rows,
)

CHUNK_LOANS = 2000          # loans replayed, written and forgotten at a time
_ONE_DAY = timedelta(days=1)


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
                    params: Mapping[str, Any] | None = None,
                    progress: Callable[[int], None] | None = None) -> ReplayResult:
    """The columnar engine: the calendar day by day, all loans active that day at once."""
    end = window.resolved_end(portfolio)
    loans = portfolio.loans
    if end is None or not loans:
        return ReplayResult(policy, "columnar", window, end, len(loans), ())
    plan = FactPlan.of(policy.schema)
    evaluator = columnar(policy)
    start = window.start
    waiting = sorted(range(len(loans)), key=lambda i: (loans[i].origination_date, i))
    reported: list[list[LoanDay]] = [[] for _ in loans]
    active: list[tuple[int, LoanCursor]] = []
    next_loan = 0
    day = loans[waiting[0]].origination_date
    while day <= end and (active or next_loan < len(waiting)):
        while next_loan < len(waiting) and loans[waiting[next_loan]].origination_date <= day:
            index = waiting[next_loan]
            active.append((index, LoanCursor(loans[index], plan, end)))
            next_loan += 1
        live, rows = [], []
        for index, cursor in active:
            step = next(cursor, None)
            if step is not None:
                live.append((index, cursor))
                rows.append(step[1])
        decisions = evaluator.evaluate_many(rows, params) if rows else []
        for (index, cursor), facts, decision in zip(live, rows, decisions, strict=True):
            cursor.record(day, action_keys(decision.actions))
            if start is None or day >= start:
                reported[index].append(LoanDay(loans[index].loan_id, day,
                                               facts.get("overdue", 0), decision.actions))
        if progress is not None and len(live) < len(active):
            progress(len(active) - len(live))
        active = live
        day = _next_day(day, active, loans, waiting, next_loan)
    return ReplayResult(policy, "columnar", window, end, len(loans),
                        tuple(loan_day for days in reported for loan_day in days))


def _next_day(day: date, active: list[tuple[int, LoanCursor]], loans: Any, waiting: list[int],
              next_loan: int) -> date:
    """Tomorrow, or, when no loan is active, the next origination (skip empty days)."""
    if active or next_loan >= len(waiting):
        return day + _ONE_DAY
    return max(day + _ONE_DAY, loans[waiting[next_loan]].origination_date)
