"""The decision log across crashes: the real server under load from several threads is
killed with SIGKILL and restarted on the same log, three times; afterwards
`policylang log verify` finds the log sound and every decision a client was given is in it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from engine.service.decision_log import read_records
from service.serving import EXAMPLES, FACTS, free_port, wait_ready

CLIENTS = 4
ROUNDS = 3
LOAD_SECONDS = 1.0


def _drive(base_url: str, stop: threading.Event, acknowledged: list[str]) -> None:
    """Ask for decisions until told to stop; keep the id of every 200 that arrived."""
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while not stop.is_set():
            try:
                answer = client.post("/v1/decide", json={"policy": "collection",
                                                         "facts": FACTS})
            except httpx.TransportError:
                continue                    # the server is gone: nothing was given out
            if answer.status_code == 200:
                acknowledged.append(answer.json()["decision_id"])


def _serve_and_kill(folder: Path, log: Path, acknowledged: list[str]) -> int:
    """One life of the server: start, load, SIGKILL mid-load. How many decisions it gave."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "policylang.cli", "serve", str(folder), "--port", str(port),
         "--decision-log", str(log), "--watch-interval", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    given: list[str] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        with httpx.Client(base_url=base_url, timeout=5) as probe:
            wait_ready(probe, process)
        threads += [threading.Thread(target=_drive, args=(base_url, stop, given))
                    for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(LOAD_SECONDS)
        process.send_signal(signal.SIGKILL)    # while the clients are still asking
        process.wait(timeout=10)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    for thread in threads:
        thread.join(timeout=10)
    acknowledged.extend(given)
    return len(given)


def test_every_acknowledged_decision_survives_repeated_kill_9(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    for name in ("collection.policy", "docs.schema.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    log = tmp_path / "decisions.jsonl"
    acknowledged: list[str] = []
    for _ in range(ROUNDS):
        assert _serve_and_kill(folder, log, acknowledged) > 0, "no decision under load"

    verified = subprocess.run(
        [sys.executable, "-m", "policylang.cli", "log", "verify", str(log)],
        capture_output=True, text=True, check=False, timeout=60)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    logged = [record["decision_id"] for record in read_records(log)]
    assert len(logged) == len(set(logged))
    missing = set(acknowledged) - set(logged)
    assert not missing, f"{len(missing)} acknowledged decision(s) not in the log"
    assert len(set(acknowledged)) == len(acknowledged)
