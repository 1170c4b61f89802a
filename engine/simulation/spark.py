"""The replay on Apache Spark: the same replay, partitioned by loan, on executors.

Needs the optional extra `policylang[spark]` (pyspark; Java 17 or newer).

How it runs: the four input tables are read by Spark (CSV or Parquet, local paths or
object storage such as `s3a://…`), every row is turned into `(loan_id, table, row as
JSON)`, the rows are hash-partitioned by `loan_id` so each loan's whole history lands
in one partition, and `mapInArrow` replays each partition with the local columnar
engine: the partition's rows are written back as the four CSV files in a temporary
folder and read with the very same reader (history.py), so validation and ledger are
identical to a local run. Each evaluated loan-day comes back as one row (with no
action) plus one row per action, ordered afterwards by loan, date and position.

`replay_spark` is what `policylang simulate --engine spark` uses (Spark in local mode
unless `POLICYLANG_SPARK_MASTER` names a cluster); `replay_to_table` is for clusters:
it writes the actions as a Spark table (Parquet) without collecting them.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.api import CompiledPolicy, load_policy_text
from engine.decision import Action
from engine.simulation.engines import replay_columnar
from engine.simulation.history import STEMS, Portfolio, read_history
from engine.simulation.replay import ALL_DAYS, LoanDay, ReplayResult, Window

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
OUTPUT_SCHEMA = ("loan_id string, date string, overdue long, position int, verb string, "
                 "target string, using string, stage int, rules string")


def spark_session(master: str | None = None) -> SparkSession:
    """A Spark session for replays: `master`, else $POLICYLANG_SPARK_MASTER, else local."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415
    except ImportError:
        raise ImportError("Spark is not installed; install the extra: "
                          "pip install 'policylang[spark]'") from None
    chosen = master or os.environ.get("POLICYLANG_SPARK_MASTER") or DEFAULT_MASTER
    if chosen.startswith("local"):
        # Local executors run this interpreter, which has policylang installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master(chosen).appName("policylang-simulate")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def history_rows(spark: SparkSession, data: str) -> DataFrame:
    """The input tables as one frame of (loan_id, table, row): each row's cells as a
    JSON object of strings, whichever format the table was in."""
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    frames = []
    for stem in STEMS:
        table = _read_table(spark, data, stem)
        if table is None:
            continue
        cells = F.to_json(F.struct(*[F.col(c).cast("string").alias(c) for c in table.columns]))
        frames.append(table.select(F.col("loan_id").cast("string").alias("loan_id"),
                                   F.lit(stem).alias("table"), cells.alias("row")))
    rows = frames[0]
    for frame in frames[1:]:
        rows = rows.unionByName(frame)
    return rows


def _read_table(spark: SparkSession, data: str, stem: str) -> DataFrame | None:
    base = data.rstrip("/")
    for suffix, read in (("parquet", spark.read.parquet),
                         ("csv", lambda p: spark.read.option("header", True)
                          .option("inferSchema", False).csv(p))):
        path = f"{base}/{stem}.{suffix}"
        if "://" not in path and not Path(path).exists():
            continue
        try:
            return read(path)
        except Exception as error:  # object stores: "does not exist" is an exception
            if "PATH_NOT_FOUND" in str(error) or "does not exist" in str(error):
                continue
            raise
    return None


def actions_frame(rows: DataFrame, policy: CompiledPolicy, window: Window, *, end: date,
                  params: Mapping[str, Any] | None, partitions: int) -> DataFrame:
    """Every evaluated loan-day (position -1, no action) and every action, replayed on
    the executors, partitioned by loan."""
    bundle = _Bundle(policy.checked.source.text, policy.schema.text, policy.name,
                     start=window.start, end=end, params=dict(params or {}),
                     base_dir=str(Path(policy.checked.source.name).resolve().parent),
                     digest=policy.digest)
    return (rows.repartition(partitions, "loan_id")
            .mapInArrow(bundle.replay_partition, OUTPUT_SCHEMA))


def replay_spark(policy: CompiledPolicy, portfolio: Portfolio, window: Window,
                 params: Mapping[str, Any] | None = None, *, data: str | None = None,
                 partitions: int = 4) -> ReplayResult:
    """The replay on Spark, collected into the same result as the local engines.
    `data` is the input folder (the CLI passes it); without it, the portfolio's loans
    are written to a temporary folder first."""
    end = window.resolved_end(portfolio)
    if end is None or not portfolio.loans:
        return ReplayResult(policy, "spark", window, end, len(portfolio), ())
    spark = spark_session()
    with tempfile.TemporaryDirectory(prefix="policylang-spark-") as scratch:
        source = data if data is not None else _write_portfolio(portfolio, Path(scratch))
        frame = actions_frame(history_rows(spark, source), policy, window, end=end,
                              params=params, partitions=partitions)
        collected = frame.collect()
    order = {loan.loan_id: index for index, loan in enumerate(portfolio)}
    wanted = set(order)
    rows = sorted((r for r in collected if r["loan_id"] in wanted),
                  key=lambda r: (order[r["loan_id"]], r["date"], r["position"]))
    return ReplayResult(policy, "spark", window, end, len(portfolio), tuple(_loan_days(rows)))


def replay_to_table(spark: SparkSession, data: str, policy: CompiledPolicy, out: str, *,
                    window: Window = ALL_DAYS, params: Mapping[str, Any] | None = None,
                    partitions: int = 200) -> None:
    """For clusters: replay the history under `data` (CSV or Parquet, e.g. on s3a://)
    and write the actions (the contract's actions.csv columns plus stage) as Parquet
    under `out`, partitioned by loan. Needs `window.end` (the last day to replay)."""
    from pyspark.sql import functions as F  # noqa: N812, PLC0415

    if window.end is None:
        raise ValueError("give the last day to replay (window.end) when running on a cluster")
    frame = actions_frame(history_rows(spark, data), policy, window, end=window.end,
                          params=params, partitions=partitions)
    (frame.where(F.col("position") >= 0)
     .select("loan_id", "date", "overdue", "verb", "target", "using", "rules", "stage",
             "position")
     .write.mode("overwrite").parquet(out))


def _loan_days(rows: list[Any]) -> Iterator[LoanDay]:
    current: tuple[str, str] | None = None
    overdue, actions = 0, []
    for row in rows:
        key = (row["loan_id"], row["date"])
        if key != current:
            if current is not None:
                yield LoanDay(current[0], date.fromisoformat(current[1]), overdue, tuple(actions))
            current, overdue, actions = key, row["overdue"], []
        if row["position"] >= 0:
            actions.append(Action(row["verb"], row["target"], row["using"], row["stage"],
                                  tuple(row["rules"].split(";"))))
    if current is not None:
        yield LoanDay(current[0], date.fromisoformat(current[1]), overdue, tuple(actions))


class _Bundle:
    """What an executor needs, picklable: the policy's text, never a compiled object.
    Guard files are read by the executor from the policy's folder (`base_dir`); the
    digest makes sure the executor runs exactly the guards the driver checked."""

    def __init__(self, policy_text: str, schema_text: str, name: str, *, start: date | None,
                 end: date, params: dict[str, Any], base_dir: str = ".",
                 digest: str | None = None) -> None:
        self.policy_text, self.schema_text, self.name = policy_text, schema_text, name
        self.start, self.end, self.params = start, end, params
        self.base_dir, self.digest = base_dir, digest

    def replay_partition(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa  # noqa: PLC0415

        tables: dict[str, list[dict[str, Any]]] = {stem: [] for stem in STEMS}
        for batch in batches:
            for row in batch.to_pylist():
                tables[row["table"]].append(json.loads(row["row"]))
        if not tables["loans"]:
            return
        policy = load_policy_text(self.policy_text, schema_text=self.schema_text,
                                  name=self.name, base_dir=self.base_dir)
        if self.digest is not None and policy.digest != self.digest:
            raise RuntimeError(f"{self.name}: a guard file changed during the replay "
                               f"(digest {policy.digest}, expected {self.digest})")
        with tempfile.TemporaryDirectory(prefix="policylang-part-") as folder:
            for stem, rows in tables.items():
                if rows or stem in ("loans", "installments"):
                    _write_csv(Path(folder) / f"{stem}.csv", rows)
            read = read_history(Path(folder), policy.schema, on_error="skip")
        result = replay_columnar(policy, read.portfolio, Window(self.start, self.end),
                                 self.params)
        out: dict[str, list[Any]] = {name: [] for name in
                                     ("loan_id", "date", "overdue", "position", "verb",
                                      "target", "using", "stage", "rules")}
        for loan_day in result.days:
            _append(out, loan_day, -1, None)
            for position, action in enumerate(loan_day.actions):
                _append(out, loan_day, position, action)
        yield pa.RecordBatch.from_pydict(out, schema=_arrow_schema())


def _append(out: dict[str, list[Any]], loan_day: LoanDay, position: int,
            action: Action | None) -> None:
    out["loan_id"].append(loan_day.loan_id)
    out["date"].append(loan_day.day.isoformat())
    out["overdue"].append(loan_day.overdue)
    out["position"].append(position)
    out["verb"].append(action.verb if action else None)
    out["target"].append(action.target if action else None)
    out["using"].append(action.using if action else None)
    out["stage"].append(action.stage if action else None)
    out["rules"].append(";".join(action.rules) if action else None)


def _arrow_schema() -> pa.Schema:
    import pyarrow as pa  # noqa: PLC0415

    return pa.schema([("loan_id", pa.string()), ("date", pa.string()), ("overdue", pa.int64()),
                      ("position", pa.int32()), ("verb", pa.string()), ("target", pa.string()),
                      ("using", pa.string()), ("stage", pa.int32()), ("rules", pa.string())])


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns or ["loan_id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)


def _write_portfolio(portfolio: Portfolio, folder: Path) -> str:
    """A portfolio as the four CSV files (for callers with loans but no folder)."""
    loans, installments, payments, events = [], [], [], []
    for loan in portfolio:
        loans.append({"loan_id": loan.loan_id,
                      "origination_date": loan.origination_date.isoformat(),
                      **{k: _cell(v) for k, v in loan.static.items()}})
        for i in loan.installments:
            installments.append({"loan_id": loan.loan_id, "installment_no": i.number,
                                 "due_date": i.due_date.isoformat(),
                                 "amount_due": str(i.amount_due),
                                 "paid_date": i.paid_date.isoformat() if i.paid_date else "",
                                 "amount_paid": "" if i.amount_paid is None
                                 else str(i.amount_paid)})
        payments += [{"loan_id": loan.loan_id, "date": p.date.isoformat(),
                      "amount": str(p.amount)} for p in loan.payments]
        events += [{"loan_id": loan.loan_id, "date": e.date.isoformat(), "fact": e.fact,
                    "value": _cell(e.value)} for e in loan.events]
    for stem, rows in (("loans", loans), ("installments", installments),
                       ("payments", payments), ("events", events)):
        _write_csv(folder / f"{stem}.csv", rows)
    return str(folder)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
