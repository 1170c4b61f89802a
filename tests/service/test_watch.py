"""Watching POLICY_DIR: the poller on its own with a fake reload, then the real server
picking up a new policy version and refusing a broken one by itself (no SIGHUP)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from engine.service.watch import PolicyWatcher
from service.serving import EXAMPLES, FACTS, running_server


class FakeStore:
    def __init__(self) -> None:
        self.reloads = 0
        self.changed = threading.Event()

    def reload(self) -> None:
        self.reloads += 1
        self.changed.set()


def _until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_watcher_reloads_only_when_a_watched_file_changes(tmp_path: Path) -> None:
    policy = tmp_path / "a.policy"
    policy.write_text("one", encoding="utf-8")
    store = FakeStore()
    watcher = PolicyWatcher(tmp_path, store.reload, interval=0.01)
    assert not watcher.check()
    (tmp_path / "notes.txt").write_text("not watched", encoding="utf-8")
    assert not watcher.check()
    (tmp_path / "a.schema.yaml").write_text("facts: {}", encoding="utf-8")
    assert watcher.check() and store.reloads == 1
    assert not watcher.check() and store.reloads == 1
    policy.unlink()
    assert watcher.check() and store.reloads == 2


def test_watcher_thread_notices_a_rewrite_of_the_same_size(tmp_path: Path) -> None:
    policy = tmp_path / "a.policy"
    policy.write_text('version "1"', encoding="utf-8")
    store = FakeStore()
    watcher = PolicyWatcher(tmp_path, store.reload, interval=0.01)
    watcher.start()
    try:
        time.sleep(0.05)
        assert store.reloads == 0
        policy.write_text('version "2"', encoding="utf-8")
        assert store.changed.wait(5) and store.reloads == 1
    finally:
        watcher.stop()


def test_watcher_keeps_polling_after_a_failed_reload(tmp_path: Path) -> None:
    calls: list[int] = []

    def failing_reload() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    watcher = PolicyWatcher(tmp_path, failing_reload, interval=0.01)
    watcher.start()
    try:
        (tmp_path / "a.policy").write_text("one", encoding="utf-8")
        assert _until(lambda: len(calls) == 1)
        (tmp_path / "b.policy").write_text("two", encoding="utf-8")
        assert _until(lambda: len(calls) == 2)
    finally:
        watcher.stop()


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    for name in ("collection.policy", "docs.schema.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    with running_server(tmp_path, "--watch-interval", "0.2") as (client, _):
        yield client, tmp_path


def _served(client: httpx.Client) -> dict[str, object]:
    policies: list[dict[str, object]] = client.get("/v1/policies").json()["policies"]
    return policies[0]


def test_server_serves_a_changed_policy_and_keeps_it_over_a_broken_one(
        watched: tuple[httpx.Client, Path]) -> None:
    client, folder = watched
    path = folder / "collection.policy"
    path.write_text(path.read_text(encoding="utf-8").replace('version "1"', 'version "2"'),
                    encoding="utf-8")
    assert _until(lambda: _served(client)["version"] == "2"), "version 2 never served"
    assert _served(client)["last_rejected"] is None

    shutil.copy(EXAMPLES / "broken.policy", path)
    assert _until(lambda: _served(client)["last_rejected"] is not None), "never refused"
    served = _served(client)
    assert served["version"] == "2" and served["serving"] is True
    decided = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS})
    assert decided.status_code == 200 and decided.json()["version"] == "2"


def test_a_change_in_a_subfolder_counts(tmp_path: Path) -> None:
    (tmp_path / "guards").mkdir()
    guard = tmp_path / "guards" / "conduct.policy"
    guard.write_text('guard conduct version "1"\n', encoding="utf-8")
    calls: list[int] = []
    watcher = PolicyWatcher(tmp_path, lambda: calls.append(1), 60)
    assert not watcher.check()
    guard.write_text('guard conduct version "2"\n', encoding="utf-8")
    assert watcher.check() and calls == [1]
