"""The real server with two workers on a loopback port, as a bank would run it
(`serve --workers 2 --token-file --decision-log`): every endpoint over the socket, every
class of bad input, the token, and reloads that reach every worker: by
`POST /v1/reload`, by SIGHUP to the supervisor (which reloads the workers in place
instead of replacing them), and for a worker restarted after a crash, which serves
the version its siblings serve even when the file on disk is refused. Decisions made
from several threads while the policy flips between two versions carry one of the
two (version, digest) pairs, never a mix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.cases import BAD_INPUTS, EXAMPLES, FACTS, MAX_BODY
from service.serving import running_server

TOKEN = "live-t0ken"
AUTH = {"authorization": f"Bearer {TOKEN}"}


class Live:
    """The running server: its folder, process (the supervisor) and a client that sends
    the token."""

    def __init__(self, folder: Path, process: subprocess.Popen[bytes],
                 client: httpx.Client) -> None:
        self.folder, self.process, self.client = folder, process, client
        self.url = str(client.base_url)

    def fresh(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request on a new connection, so the kernel may hand it to either worker."""
        with httpx.Client(base_url=self.url, timeout=5, headers=AUTH) as client:
            return client.request(method, path, **kwargs)

    def edit(self, old: str, new: str) -> None:
        path = self.folder / "collection.policy"
        path.write_text(path.read_text(encoding="utf-8").replace(old, new),
                        encoding="utf-8")

    def workers_until(self, done: Callable[[dict[int, dict[str, Any]]], bool],
                      seconds: float = 15) -> dict[int, dict[str, Any]]:
        """`/v1/policies` of each worker (by pid), as answered last, polled over fresh
        connections until `done` holds for the answers; the last answers either way."""
        seen: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            answer = self.fresh("GET", "/v1/policies").json()
            seen[answer["worker"]] = answer["policies"][0]
            if done(seen):
                break
            time.sleep(0.02)
        return seen


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    for name in ("collection.policy", "docs.schema.yaml", "collection.test.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "token").write_text(TOKEN, encoding="utf-8")
    with running_server(folder, "--workers", "2", "--token-file", str(folder / "token"),
                        "--decision-log", str(folder / "decisions.jsonl"),
                        "--max-body", str(MAX_BODY), "--watch-interval", "0",
                        token=TOKEN) as (client, process):
        yield Live(folder, process, client)


@pytest.fixture
def restore(live: Live) -> Iterator[None]:
    """Put the example policy back (and reload every worker) after a test that edits it."""
    yield
    shutil.copy(EXAMPLES / "collection.policy", live.folder / "collection.policy")
    live.client.post("/v1/reload")
    both = live.workers_until(lambda seen: len(seen) == 2 and all(
        p["version"] == "1" for p in seen.values()))
    assert all(p["version"] == "1" for p in both.values()), json.dumps(both, indent=1)


def _both_workers(seen: dict[int, dict[str, Any]], check: Callable[[dict[str, Any]], bool]
                  ) -> bool:
    return len(seen) == 2 and all(check(policy) for policy in seen.values())


def test_every_endpoint_answers_over_the_socket(live: Live) -> None:
    client = live.client
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    one = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS,
                                          "explain": True})
    assert one.status_code == 200 and one.headers["content-type"] == "application/json"
    assert one.json()["actions"] and one.json()["explain"] and one.json()["decision_id"]
    batch = client.post("/v1/decide/batch", json={"policy": "collection",
                                                  "items": [FACTS, {"overdue": "x"}, FACTS]})
    results = batch.json()["results"]
    assert [("error" in r, r.get("index")) for r in results] == [
        (False, None), (True, 1), (False, None)]
    assert results[0]["actions"] == one.json()["actions"]
    assert len({r["decision_id"] for r in (results[0], results[2], one.json())}) == 3
    listing = client.get("/v1/policies").json()
    assert listing["policies"][0]["name"] == "collection" and listing["worker"] > 0
    check = client.post("/v1/check", json={"policy_text": "policy p\nrule r: x -> y\n"})
    assert check.status_code == 200 and check.json()["files"][0]["diagnostics"]
    assert client.post("/v1/reload").json()["unchanged"] == ["collection"]
    assert "policylang_decisions_total" in client.get("/metrics").text
    assert client.get("/openapi.json").json()["paths"]["/v1/decide"]


def test_every_decision_given_out_was_logged_by_its_worker(live: Live) -> None:
    ids = {live.fresh("POST", "/v1/decide", json={"policy": "collection", "facts": FACTS}
                      ).json()["decision_id"] for _ in range(20)}
    logged = set()
    for log in live.folder.glob("decisions.jsonl.*"):    # one log per worker process
        if log.suffix[1:].isdigit():
            logged |= {json.loads(line)["decision_id"]
                       for line in log.read_text(encoding="utf-8").splitlines()}
    assert ids <= logged


@pytest.mark.parametrize(("request_args", "status", "code", "field"), BAD_INPUTS)
def test_bad_input_gets_a_json_error_over_the_socket(live: Live, request_args: Any,
                                                     status: int, code: str,
                                                     field: str | None) -> None:
    response = live.client.post("/v1/decide", **request_args)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["field"] == field and error["message"]
    assert "Traceback" not in response.text


def test_token_guards_every_endpoint_but_the_health_checks(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=5) as bare:
        assert bare.get("/healthz").status_code == 200
        assert bare.get("/readyz").status_code == 200
        for method, path in [("GET", "/v1/policies"), ("GET", "/metrics"),
                             ("POST", "/v1/decide"), ("POST", "/v1/decide/batch"),
                             ("POST", "/v1/check"), ("POST", "/v1/reload")]:
            for headers in ({}, {"authorization": "Bearer wrong"},
                            {"authorization": TOKEN}, {"authorization": f"bearer {TOKEN}x"}):
                response = bare.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers)
                assert response.json()["error"]["code"] == "unauthorized"
                assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.usefixtures("restore")
def test_post_reload_reaches_every_worker(live: Live) -> None:
    live.edit('version "1"', 'version "2"')
    assert live.client.post("/v1/reload").json()["accepted"] == ["collection"]
    seen = live.workers_until(lambda seen: _both_workers(seen, lambda p: p["version"] == "2"))
    assert len(seen) == 2, "only one worker ever answered"
    assert {p["version"] for p in seen.values()} == {"2"}
    assert len({p["digest"] for p in seen.values()}) == 1


@pytest.mark.usefixtures("restore")
def test_a_refused_version_leaves_every_worker_on_the_old_one(live: Live) -> None:
    before = live.client.get("/v1/policies").json()["policies"][0]
    live.edit("param letter_day = 7 days", "param letter_day = 30 days")   # tests fail
    assert live.client.post("/v1/reload").json()["rejected"] == ["collection"]
    seen = live.workers_until(lambda seen: _both_workers(
        seen, lambda p: p["last_rejected"] is not None))
    assert len(seen) == 2
    for policy in seen.values():
        assert policy["digest"] == before["digest"] and policy["serving"]
        assert policy["last_rejected"]["reason"] == "the policy's tests fail"


@pytest.mark.usefixtures("restore")
def test_sighup_reloads_the_workers_in_place(live: Live) -> None:
    pids = set(live.workers_until(lambda seen: len(seen) == 2))
    live.edit('version "1"', 'version "3"')
    live.process.send_signal(signal.SIGHUP)
    seen = live.workers_until(lambda seen: _both_workers(seen, lambda p: p["version"] == "3"))
    assert {p["version"] for p in seen.values()} == {"3"}
    assert set(seen) == pids, "SIGHUP replaced workers instead of reloading them"


@pytest.mark.usefixtures("restore")
def test_a_worker_restarted_after_a_crash_serves_what_its_siblings_serve(live: Live) -> None:
    first = live.workers_until(lambda seen: len(seen) == 2)
    digest = next(iter(first.values()))["digest"]
    live.edit('version "1"', 'version "1" broken')          # refused when loaded
    victim = next(iter(first))
    os.kill(victim, signal.SIGKILL)
    seen = live.workers_until(lambda seen: any(pid not in first for pid in seen),
                              seconds=30)
    newcomers = {pid: p for pid, p in seen.items() if pid not in first}
    assert newcomers, "the supervisor did not replace the killed worker"
    for policy in newcomers.values():
        assert policy["serving"] and policy["digest"] == digest
        assert policy["last_rejected"]["reason"] == "the policy has errors"
    answer = live.fresh("POST", "/v1/decide", json={"policy": "collection", "facts": FACTS})
    assert answer.status_code == 200 and answer.json()["digest"] == digest


@pytest.mark.usefixtures("restore")
def test_decisions_during_reloads_carry_the_old_or_the_new_version(live: Live) -> None:
    versions = [(live.folder / "collection.policy").read_text(encoding="utf-8")]
    versions.append(versions[0].replace('version "1"', 'version "2"'))
    seen: list[tuple[str, str]] = []
    failures: list[str] = []
    stop = threading.Event()

    def decide() -> None:
        with httpx.Client(base_url=live.url, timeout=5, headers=AUTH) as client:
            while not stop.is_set():
                answer = client.post("/v1/decide", json={"policy": "collection",
                                                         "facts": FACTS})
                if answer.status_code != 200:
                    failures.append(answer.text)
                else:
                    seen.append((answer.json()["version"], answer.json()["digest"]))

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    for turn in range(8):
        (live.folder / "collection.policy").write_text(versions[(turn + 1) % 2],
                                                       encoding="utf-8")
        live.client.post("/v1/reload")
        time.sleep(0.15)
    stop.set()
    for thread in threads:
        thread.join()
    digests: dict[str, set[str]] = {}
    for version, digest in seen:
        digests.setdefault(version, set()).add(digest)
    assert not failures and len(seen) > 50
    assert set(digests) == {"1", "2"} and all(len(d) == 1 for d in digests.values())


PROTECTED = [("GET", "/v1/policies"), ("GET", "/metrics"), ("POST", "/v1/decide"),
             ("POST", "/v1/decide/batch"), ("POST", "/v1/check"), ("POST", "/v1/reload")]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    str.strip)                              # a client sends no edge spaces


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(PROTECTED),
       header=st.one_of(HEADER_TEXT, HEADER_TEXT.map(lambda text: f"Bearer {text}".strip()),
                        st.sampled_from([f"bearer {TOKEN}", f"Bearer  {TOKEN}", TOKEN,
                                         f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}",
                                         f"Bearer {TOKEN}{TOKEN}"])))
def test_any_other_authorization_is_a_401_never_a_5xx(live: Live, where: tuple[str, str],
                                                       header: str) -> None:
    method, path = where
    with httpx.Client(base_url=live.url, timeout=5) as bare:
        response = bare.request(method, path, headers={"authorization": header},
                                json={"policy": "collection", "facts": FACTS})
    assert response.status_code == 401, (method, path, header, response.text)
    assert response.json()["error"]["code"] == "unauthorized"
