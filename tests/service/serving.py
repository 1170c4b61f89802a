"""Starting and stopping the real server for tests: `policylang serve` as a process on
a free loopback port, an httpx client, readiness, and a clean stop (SIGINT, then kill)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
FACTS = json.loads((EXAMPLES / "day7.facts.json").read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before it was ready"
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server was not ready within 20 s")


@contextmanager
def running_server(folder: Path, *options: str, token: str | None = None
                   ) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """`policylang serve FOLDER OPTIONS…` until the block ends; its stderr is piped."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "policylang.cli", "serve", str(folder), "--port", str(port),
         *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5, headers=headers)
    try:
        wait_ready(client, process)
        yield client, process
    finally:
        client.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()
