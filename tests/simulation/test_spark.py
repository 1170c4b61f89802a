"""The Spark engine (mapInArrow, local mode) gives what the columnar engine gives:
`policylang simulate --engine spark` writes a byte-identical actions.csv, and
`replay_to_table` (for clusters) writes Parquet whose rows are the columnar engine's
actions. Skipped without pyspark or without `java` on PATH. One Spark session serves
the whole module: starting Spark takes most of this file's time."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs java on PATH", allow_module_level=True)

import pyarrow.parquet as pq

from engine.api import CompiledPolicy, load_policy
from engine.simulation.engines import replay_columnar
from engine.simulation.generator import generate_portfolio, write_portfolio
from engine.simulation.history import read_history
from engine.simulation.replay import Window
from engine.simulation.spark import replay_to_table, spark_session
from policylang.cli import main

RETAIL = Path(__file__).resolve().parents[2] / "policies" / "retail.policy"
START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thirty generated loans over six months."""
    folder = tmp_path_factory.mktemp("portfolio")
    write_portfolio(generate_portfolio(30, seed=424242, start=START,
                                       end=START + timedelta(days=179)), folder)
    return folder


@pytest.fixture(scope="module")
def retail() -> CompiledPolicy:
    return load_policy(RETAIL)


def simulate(data: Path, out: Path, *options: str) -> str:
    """actions.csv of `policylang simulate` on the retail policy."""
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["simulate", str(RETAIL), "--data", str(data), "--out", str(out),
                     *options])
    assert code == 0
    return (out / "actions.csv").read_text(encoding="utf-8")


def test_simulate_with_spark_writes_the_columnar_engines_actions_csv(
        spark: Any, data: Path, tmp_path: Path) -> None:
    """...and the same notices (--notices), the param included."""
    options = ("--from", "2025-02-01", "--param", "letter_interval=10 days")
    on_spark = simulate(data, tmp_path / "spark", "--engine", "spark", *options,
                        "--notices", str(tmp_path / "spark-notices"))
    columnar = simulate(data, tmp_path / "columnar", "--engine", "columnar", *options,
                        "--notices", str(tmp_path / "columnar-notices"))
    assert on_spark == columnar
    assert on_spark.count("\n") > 100          # the portfolio does keep the policy busy
    assert "2025-01-31" not in on_spark        # --from holds on the executors too
    notices = [{p.relative_to(folder): p.read_bytes() for p in folder.rglob("*")
                if p.is_file()} for folder in (tmp_path / "spark-notices",
                                               tmp_path / "columnar-notices")]
    assert notices[0] == notices[1] and len(notices[0]) > 5


def test_replay_to_table_writes_the_columnar_engines_actions_as_parquet(
        spark: Any, data: Path, retail: CompiledPolicy, tmp_path: Path) -> None:
    read = read_history(data, retail.schema)
    assert read.can_simulate
    window = Window(end=START + timedelta(days=150))
    params = {"call_cap": "3"}
    out = tmp_path / "table"
    replay_to_table(spark, str(data), retail, str(out), window=window, params=params,
                    partitions=2)
    table = pq.read_table(out)
    columns = ("loan_id", "date", "overdue", "verb", "target", "using", "rules", "stage",
               "position")
    assert set(columns) <= set(table.column_names)
    written = sorted(zip(*(table.column(c).to_pylist() for c in columns), strict=True))
    expected = sorted(
        (day.loan_id, day.day.isoformat(), day.overdue, action.verb, action.target,
         action.using, ";".join(action.rules), action.stage, position)
        for day in replay_columnar(retail, read.portfolio, window, params).days
        for position, action in enumerate(day.actions))
    assert written == expected
    assert len(expected) > 100


def test_replay_to_table_needs_the_last_day(spark: Any, data: Path, retail: CompiledPolicy,
                                            tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"window\.end"):
        replay_to_table(spark, str(data), retail, str(tmp_path / "t"))
