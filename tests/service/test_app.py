"""The service app in process (TestClient): every endpoint, every class of bad input,
the token, guarded reloads and the atomic swap of a policy under load."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service.app import create_app, openapi_document
from engine.service.store import PolicyStore
from service.cases import BAD_INPUTS, MAX_BODY

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
DOCS = EXAMPLES.parent
FACTS = json.loads((EXAMPLES / "day7.facts.json").read_text(encoding="utf-8"))
DAY7 = ["visit borrower", "notify guarantor using guarantor_demand",
        "notify borrower using overdue_notice"]


class ListLog:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def append(self, record: dict[str, Any]) -> None:
        self.records.append(record)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    for name in ("collection.policy", "docs.schema.yaml", "collection.test.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def store(policy_dir: Path) -> PolicyStore:
    store = PolicyStore(policy_dir)
    store.reload()
    return store


@pytest.fixture
def client(store: PolicyStore) -> TestClient:
    return TestClient(create_app(store))


def words(decision: dict[str, Any]) -> list[str]:
    return [" ".join(filter(None, (a["verb"], a["target"], a["using"] and
                                   f"using {a['using']}"))) for a in decision["actions"]]


def test_decide_returns_the_decision_json_with_an_id(client: TestClient) -> None:
    answer = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS}).json()
    assert words(answer) == DAY7
    assert answer["policy"] == "docs_collection" and answer["version"] == "1"
    assert len(answer["decision_id"]) == 32 and "explain" not in answer


def test_decide_explains_when_asked_and_applies_params(client: TestClient) -> None:
    answer = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS,
                                             "params": {"letter_day": "10 days"},
                                             "explain": True}).json()
    assert words(answer) == DAY7[:2]
    assert {"rule": "letter", "matched": False} .items() <= answer["explain"][-1].items()


def test_batch_decides_in_order_and_a_bad_item_fails_alone(client: TestClient) -> None:
    items = [FACTS, {**FACTS, "overdue": "soon"}, 7, {**FACTS, "overdue": 2}]
    results = client.post("/v1/decide/batch", json={"policy": "collection",
                                                    "items": items}).json()["results"]
    assert words(results[0]) == DAY7
    assert results[1]["index"] == 1 and results[1]["error"]["field"] == "facts.overdue"
    assert results[2]["index"] == 2 and results[2]["error"]["code"] == "invalid_request"
    assert "decision_id" in results[3] and "error" not in results[3]


def test_policies_lists_version_digest_and_files(client: TestClient) -> None:
    (entry,) = client.get("/v1/policies").json()["policies"]
    assert entry["name"] == "collection" and entry["serving"] and entry["version"] == "1"
    assert entry["digest"].startswith("sha256:") and entry["last_rejected"] is None
    assert [Path(f).name for f in entry["files"]] == ["collection.policy", "docs.schema.yaml"]


def test_check_reports_diagnostics_without_loading(client: TestClient) -> None:
    text = (EXAMPLES / "broken.policy").read_text(encoding="utf-8")
    answer = client.post("/v1/check", json={"policy_text": text}).json()
    codes = [d["code"] for d in answer["files"][0]["diagnostics"]]
    assert codes[:3] == ["E202", "E206", "E303"]
    assert [p["name"] for p in client.get("/v1/policies").json()["policies"]] == ["collection"]


def test_check_reads_no_schema_outside_the_served_folder(client: TestClient) -> None:
    text = (EXAMPLES / "collection.policy").read_text(encoding="utf-8")
    escaping = text.replace('"docs.schema.yaml"', '"../../etc/passwd"')
    answer = client.post("/v1/check", json={"policy_text": escaping}).json()
    assert "root:" not in json.dumps(answer)
    clean = client.post("/v1/check", json={"policy_text": text}).json()
    assert not any(d["severity"] == "error" for d in clean["files"][0]["diagnostics"])


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.post("/v1/decide", json={"policy": "collection", "facts": FACTS})
    text = client.get("/metrics").text
    assert 'policylang_decisions_total{policy="collection",outcome="actions"} 1' in text
    assert 'policylang_decision_seconds_count{policy="collection"} 1' in text
    assert "policylang_reloads_total 1" in text and "policylang_reload_rejected_total 0" in text


def test_not_ready_until_every_policy_loaded(policy_dir: Path) -> None:
    (policy_dir / "other.policy").write_text("policy broken\n", encoding="utf-8")
    store = PolicyStore(policy_dir)
    client = TestClient(create_app(store))
    assert client.get("/readyz").status_code == 503
    store.reload()
    assert client.get("/readyz").status_code == 503
    (policy_dir / "other.policy").unlink()
    assert client.get("/readyz").status_code == 200




@pytest.mark.parametrize(("request_args", "status", "code", "field"), BAD_INPUTS)
def test_bad_input_gets_a_json_error_never_a_500(store: PolicyStore, request_args: Any,
                                                 status: int, code: str,
                                                 field: str | None) -> None:
    app = create_app(store, max_body=MAX_BODY)
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/v1/decide", **request_args)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["field"] == field and error["message"]
    assert "Traceback" not in response.text and app.state.internal_errors == 0


def test_oversize_body_is_refused_while_streaming(store: PolicyStore) -> None:
    app = create_app(store, max_body=MAX_BODY)
    client = TestClient(app)
    chunks = iter([b'{"policy": "', b"x" * (MAX_BODY // 2), b"y" * (MAX_BODY // 2), b'"}'])
    response = client.post("/v1/decide", content=chunks,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and app.state.internal_errors == 0


def test_batch_with_bad_params_or_items_is_refused_whole(client: TestClient) -> None:
    bad = client.post("/v1/decide/batch", json={"policy": "collection", "items": [FACTS],
                                                "params": {"nope": 1}})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_params"
    assert client.post("/v1/decide/batch", json={"policy": "collection",
                                                 "items": {}}).status_code == 422


def test_unexpected_errors_are_json_without_a_trace(store: PolicyStore) -> None:
    class Broken:
        def append(self, record: dict[str, Any]) -> None:
            raise RuntimeError("disk on fire")

    app = create_app(store, decision_log=Broken())
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS})
    assert response.status_code == 503 and "disk on fire" not in response.text

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    response = client.get("/boom")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal"
    assert "secret detail" not in response.text and "Traceback" not in response.text


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    assert client.get("/v2/nothing").json()["error"]["code"] == "not_found"
    assert client.get("/v1/decide").status_code == 405


def test_token_protects_all_but_health(store: PolicyStore) -> None:
    client = TestClient(create_app(store, token="s3cret"))
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    for method, path in [("GET", "/v1/policies"), ("GET", "/metrics"),
                         ("POST", "/v1/decide"), ("POST", "/v1/decide/batch"),
                         ("POST", "/v1/check"), ("POST", "/v1/reload")]:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret"}):
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (path, headers)
            assert response.json()["error"]["code"] == "unauthorized"
    good = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS},
                       headers={"authorization": "Bearer s3cret"})
    assert good.status_code == 200


def test_decision_log_receives_every_decision(store: PolicyStore) -> None:
    log = ListLog()
    client = TestClient(create_app(store, decision_log=log))
    one = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS}).json()
    client.post("/v1/decide/batch", json={"policy": "collection", "items": [FACTS, 1]})
    assert len(log.records) == 2
    record = log.records[0]
    assert set(record) == {"decision_id", "timestamp", "policy", "version", "digest",
                           "params", "facts", "actions", "suppressed", "matched"}
    assert record["decision_id"] == one["decision_id"] and record["policy"] == "collection"
    assert record["facts"] == FACTS and record["matched"] == one["matched"]


def _edit(policy_dir: Path, old: str, new: str) -> None:
    path = policy_dir / "collection.policy"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_reload_accepts_a_clean_version(policy_dir: Path, client: TestClient) -> None:
    _edit(policy_dir, 'version "1"', 'version "2"')
    assert client.post("/v1/reload").json()["accepted"] == ["collection"]
    answer = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS}).json()
    assert answer["version"] == "2"
    assert client.post("/v1/reload").json()["unchanged"] == ["collection"]


@pytest.mark.parametrize(("old", "new", "reason"), [
    ('version "1"', 'version "2" broken', "the policy has errors"),
    ("param letter_day = 7 days", "param letter_day = 30 days", "the policy's tests fail"),
])
def test_reload_refuses_a_bad_version_and_keeps_the_old(policy_dir: Path, client: TestClient,
                                                        old: str, new: str,
                                                        reason: str) -> None:
    before = client.get("/v1/policies").json()["policies"][0]
    _edit(policy_dir, old, new)
    assert client.post("/v1/reload").json()["rejected"] == ["collection"]
    after = client.get("/v1/policies").json()["policies"][0]
    assert after["digest"] == before["digest"] and after["serving"]
    assert after["last_rejected"]["reason"] == reason
    assert "policylang_reload_rejected_total 1" in client.get("/metrics").text
    answer = client.post("/v1/decide", json={"policy": "collection", "facts": FACTS}).json()
    assert answer["digest"] == before["digest"]


def test_swap_is_atomic_under_concurrent_decisions(policy_dir: Path,
                                                   store: PolicyStore) -> None:
    path = policy_dir / "collection.policy"
    versions = [path.read_text(encoding="utf-8")]
    versions.append(versions[0].replace('version "1"', 'version "2"'))
    client = TestClient(create_app(store))
    digests = {"1": store.snapshot["collection"].policy.digest}
    seen: list[tuple[str, str]] = []
    stop = threading.Event()

    def decide() -> None:
        while not stop.is_set():
            answer = client.post("/v1/decide", json={"policy": "collection",
                                                     "facts": FACTS}).json()
            seen.append((answer["version"], answer["digest"]))

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for thread in threads:
        thread.start()
    for turn in range(10):
        path.write_text(versions[(turn + 1) % 2], encoding="utf-8")
        store.reload()
        version = "2" if turn % 2 == 0 else "1"
        digests[version] = store.snapshot["collection"].policy.digest
    stop.set()
    for thread in threads:
        thread.join()
    assert len(digests) == 2 and len(seen) > 10
    assert all(digests[version] == digest for version, digest in seen)


def test_committed_openapi_document_matches_the_app() -> None:
    committed = (DOCS / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document(), (
        "regenerate: python -c 'from engine.service.app import openapi_document as o; "
        "print(o(), end=\"\")' > docs/openapi.json")


def test_check_reads_no_guard_file_outside_the_served_folder(policy_dir: Path,
                                                              client: TestClient) -> None:
    outside = policy_dir.parent / "secret.policy"
    outside.write_text('guard secret version "1"\nschema "docs.schema.yaml"\n',
                       encoding="utf-8")
    (policy_dir / "guards").mkdir()
    inside = policy_dir / "guards" / "conduct.policy"
    inside.write_text('guard conduct version "1"\nschema "../../etc/passwd"\n',
                      encoding="utf-8")
    text = (EXAMPLES / "collection.policy").read_text(encoding="utf-8").replace(
        'schema "docs.schema.yaml"',
        'schema "docs.schema.yaml"\nguards "../secret.policy", "guards/conduct.policy"')
    answer = client.post("/v1/check", json={"policy_text": text}).json()
    found = [(f["file"], d["code"], d["message"]) for f in answer["files"]
             for d in f["diagnostics"]]
    assert any(code == "E115" and "outside" in message and "secret" in message
               for _, code, message in found), found
    assert "root:" not in json.dumps(answer)      # /etc/passwd was not read: no schema
    assert ("../../etc/passwd", "E411", "the schema file is empty") in found, found
