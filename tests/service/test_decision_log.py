"""The decision log: lines read back as written, masking, rotation, torn tails set aside
on reopen, corruption found by verify, `policylang log verify` exit codes, and a real
`kill -9` crash test (a child process appending as fast as it can, killed three times).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from engine.service.decision_log import (
    DecisionLog,
    DecisionLogError,
    read_records,
    rotated_paths,
    torn_paths,
    verify,
)
from engine.service.log_command import add_parser

ROOT = Path(__file__).resolve().parents[2]


def record(decision_id: str, **facts: Any) -> dict[str, Any]:
    return {"decision_id": decision_id, "timestamp": "2024-05-01T09:00:00Z",
            "policy": "collection", "version": "3", "digest": "sha256:0f1e",
            "params": {"grace": "5 days"}, "facts": {"days_overdue": 7, **facts},
            "actions": [{"verb": "notify", "target": "borrower"}],
            "suppressed": [], "matched": ["first_reminder"]}


def ids_in(path: Path) -> list[str]:
    files = [*reversed(rotated_paths(path)), path]
    return [rec["decision_id"] for file in files for rec in read_records(file)]


def test_appended_records_read_back_in_order_with_seq_and_crc(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        for number in range(3):
            log.append(record(f"d{number}", note="逾期"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert "逾期" in lines[0]  # ensure_ascii=False: the text stays readable
    assert ids_in(path) == ["d0", "d1", "d2"]
    assert verify(path).sound


def test_seq_continues_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        log.append(record("a"))
    with DecisionLog(path) as log:
        log.append(record("b"))
    assert [rec["seq"] for rec in read_records(path)] == [1, 2]


def test_masked_facts_are_stars_and_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path, mask=["phone", "national_id"]) as log:
        log.append(record("a", phone="+33 6 12", name="Li"))
    facts = next(read_records(path))["facts"]
    assert facts == {"days_overdue": 7, "phone": "***", "name": "Li"}
    assert "+33" not in path.read_text(encoding="utf-8")


def test_record_without_required_fields_is_refused_and_nothing_written(
        tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        bad = record("a")
        del bad["digest"]
        with pytest.raises(ValueError, match="digest"):
            log.append(bad)
        with pytest.raises(ValueError, match="seq"):
            log.append({**record("b"), "seq": 9})
        with pytest.raises(TypeError):
            log.append(record("c", when=object()))
    assert path.read_bytes() == b""


def test_second_process_on_the_same_log_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path), pytest.raises(DecisionLogError, match="another process"):
        DecisionLog(path)


def test_rotation_shifts_files_keeps_seq_and_drops_beyond_keep(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path, max_bytes=1000, keep=3) as log:
        for number in range(40):
            log.append(record(f"d{number}"))
    assert [p.name for p in rotated_paths(path)] == [
        "decisions.log.1", "decisions.log.2", "decisions.log.3"]
    assert all(p.stat().st_size <= 1000 for p in [path, *rotated_paths(path)])
    kept = ids_in(path)
    assert kept == [f"d{n}" for n in range(40 - len(kept), 40)]
    assert verify(path).sound


def test_torn_tail_is_set_aside_on_reopen_never_merged(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        log.append(record("a"))
    with path.open("ab") as handle:
        handle.write(b'{"actions":[],"crc":12,"decision_id":"torn"')
    report = verify(path)
    assert report.sound and report.torn_tail is not None and report.torn_tail.line == 2
    with DecisionLog(path) as log:
        assert log.torn_set_aside == Path(f"{path}.torn-1")
        log.append(record("b"))
    assert ids_in(path) == ["a", "b"]
    assert torn_paths(path)[0].read_bytes().endswith(b'"decision_id":"torn"')
    report = verify(path)
    assert report.sound and report.torn_tail is None and report.set_aside == torn_paths(path)


def test_whole_but_corrupt_last_line_is_set_aside_too(tmp_path: Path) -> None:
    # What a power cut can leave: a full line whose bytes never reached the disk.
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        log.append(record("a"))
        log.append(record("b"))
    data = path.read_bytes()
    path.write_bytes(data[:-20] + b"\0" * 19 + b"\n")
    with DecisionLog(path) as log:
        log.append(record("c"))
    assert ids_in(path) == ["a", "c"]
    assert [rec["seq"] for rec in read_records(path)] == [1, 2]


def test_corruption_in_the_middle_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        for number in range(4):
            log.append(record(f"d{number}"))
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"d1"', b'"dX"')
    lines[2] = lines[2][:30]
    path.write_bytes(b"\n".join(lines))
    report = verify(path)
    assert not report.sound
    assert [(p.line, p.message.split(":")[0]) for p in report.problems] == [
        (2, "CRC mismatch"), (3, "not JSON (Unterminated string starting at"),
        (4, "seq 4 follows 1")]


def test_duplicate_decision_id_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        log.append(record("same"))
        log.append(record("same"))
    assert [str(p) for p in verify(path).problems] == [
        f"{path}:2: decision_id 'same' already at {path}:1"]


def test_concurrent_appenders_share_fsyncs_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path, max_bytes=20_000) as log:
        def work(name: int) -> None:
            for number in range(50):
                log.append(record(f"t{name}-{number}"))
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(ids_in(path)) == sorted(f"t{n}-{k}" for n in range(4) for k in range(50))
    assert verify(path).sound


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.run(args)
    return code


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "decisions.log"
    with DecisionLog(path) as log:
        log.append(record("a"))
        log.append(record("b"))
    assert run_cli("log", "verify", str(path)) == 0
    assert capsys.readouterr().out.endswith("2 record(s) in 1 file(s), sound\n")
    path.write_bytes(path.read_bytes().replace(b'"a"', b'"z"'))
    assert run_cli("log", "verify", str(path)) == 1
    assert f"{path}:1: CRC mismatch" in capsys.readouterr().out
    assert run_cli("log", "verify", str(tmp_path / "missing.log")) == 2
    assert "cannot read" in capsys.readouterr().err


CHILD = textwrap.dedent("""
    import sys, threading
    from engine.service.decision_log import DecisionLog

    run, path = sys.argv[1], sys.argv[2]
    log = DecisionLog(path, max_bytes=256 * 1024, keep=1000)
    out = threading.Lock()

    def work(worker):
        number = 0
        while True:
            decision_id = f"{run}-{worker}-{number}"
            log.append({"decision_id": decision_id, "timestamp": "2024-05-01T09:00:00Z",
                        "policy": "collection", "version": "3", "digest": "sha256:0f1e",
                        "params": {}, "facts": {"days_overdue": number, "phone": "x"},
                        "actions": [{"verb": "call", "target": "borrower"}],
                        "suppressed": [], "matched": ["r"]})
            with out:  # acknowledged: the line is on disk
                sys.stdout.write(decision_id + "\\n")
                sys.stdout.flush()
            number += 1

    for worker in range(3):
        threading.Thread(target=work, args=(worker,), daemon=True).start()
    threading.Event().wait()
""")


def test_kill_9_loses_no_acknowledged_decision_and_tears_nothing(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    path = tmp_path / "decisions.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    acknowledged: list[str] = []
    rng = random.Random()
    for run in range(3):
        child = subprocess.Popen([sys.executable, str(script), str(run), str(path)],
                                 stdout=subprocess.PIPE, env=env)
        assert child.stdout is not None
        first = child.stdout.readline()  # appending has begun
        time.sleep(rng.uniform(0.3, 1.0))
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate()
        lines = (first + rest).decode().split("\n")
        acknowledged += lines[:-1]  # the last piece lacks its newline: not acknowledged
    DecisionLog(path).close()  # the restart: sets a torn tail aside
    report = verify(path)
    assert report.sound, [str(problem) for problem in report.problems]
    logged = ids_in(path)
    assert len(logged) == len(set(logged))
    assert set(acknowledged) <= set(logged)
    assert len(acknowledged) > 100
