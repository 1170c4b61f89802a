"""The real server: `serve` started as a process on a free loopback port, spoken to
over HTTP with httpx, reloaded by SIGHUP, then stopped."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.serving import EXAMPLES, FACTS, running_server

TOKEN = "t0ken-for-tests"
Server = tuple[httpx.Client, Path, "subprocess.Popen[bytes]"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    for name in ("collection.policy", "docs.schema.yaml", "collection.test.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    with running_server(tmp_path, "--token-file", str(tmp_path / "token"),
                        "--decision-log", str(tmp_path / "decisions.jsonl"),
                        "--watch-interval", "0",  # so the SIGHUP test shows SIGHUP
                        token=TOKEN) as (client, process):
        yield client, tmp_path, process


def test_server_decides_one_and_a_batch(server: Server) -> None:
    client, folder, _ = server
    one = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS})
    assert one.status_code == 200 and one.json()["version"] == "1"
    batch = client.post("/v1/decide/batch", json={"policy": "collection",
                                                  "items": [FACTS, {"overdue": -1}]})
    results = batch.json()["results"]
    assert results[0]["actions"] == one.json()["actions"] and results[1]["index"] == 1
    assert httpx.get(client.base_url.join("/v1/policies")).status_code == 401
    logged = (folder / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["decision_id"] for line in logged] == [
        one.json()["decision_id"], results[0]["decision_id"]]


def test_sighup_reloads_the_policies(server: Server) -> None:
    client, folder, process = server
    path = folder / "collection.policy"
    path.write_text(path.read_text(encoding="utf-8").replace('version "1"', 'version "2"'),
                    encoding="utf-8")
    process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    version = None
    while time.monotonic() < deadline and version != "2":
        time.sleep(0.1)
        version = client.get("/v1/policies").json()["policies"][0]["version"]
    assert version == "2"
