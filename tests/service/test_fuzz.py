"""The service fuzzed from its own OpenAPI document: for every operation, bodies drawn
from its request schema, then broken (required keys dropped, wrong types, extra keys,
huge numbers, deep nesting, bytes that are not JSON, wrong content types), and every
path with every method. Whatever comes in, the answer is never a 5xx, and every 4xx is
the one error shape `{"error": {"code", "message", ...}}`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.service.app import create_app
from engine.service.store import PolicyStore
from service.serving import running_server

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = DOCS / "examples"
OPENAPI = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
FACTS = json.loads((EXAMPLES / "day7.facts.json").read_text(encoding="utf-8"))
OPERATIONS = [(path, method, spec) for path, methods in sorted(OPENAPI["paths"].items())
              for method, spec in sorted(methods.items())]
BODY_OPERATIONS = [(path, method, spec["requestBody"]["content"]["application/json"]
                    ["schema"]) for path, method, spec in OPERATIONS if "requestBody" in spec]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# -- values -----------------------------------------------------------------------------

HUGE = st.sampled_from([10**30, -(10**30), 2**63, -(2**63) - 1, 10**4000, 1e308, -1e308,
                        5e-324, 0.1, -0.0])
SCALARS = (st.none() | st.booleans() | st.integers() | HUGE
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
ANY_JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                        max_leaves=12)
# Strings a fact or a param might be given as: durations, money, dates, enum words.
WORDY = st.sampled_from(["7 days", "1 day", "-3 days", "10 days", "1e9999 days", "NaN",
                         "Infinity", "-0", "1e-999999", "1E+999999", "12.345", "CNY 10",
                         "2026-02-30", "reachable", "", " ", "\u0000", "逾期", "9" * 5000])


def schema_values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that satisfy `schema` (the JSON Schema subset the OpenAPI document uses)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return _objects(schema)
    if kind == "array":
        return st.lists(schema_values(schema.get("items", {})), max_size=5)
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=40) | WORDY
    if kind == "integer":
        return st.integers() | HUGE.filter(lambda n: isinstance(n, int))
    if kind == "number":
        return st.integers() | st.floats(allow_nan=False, allow_infinity=False) | HUGE
    if kind == "boolean":
        return st.booleans()
    return ANY_JSON


def _objects(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {key: schema_values(sub) for key, sub in properties.items() if key in required}
    optional = {key: schema_values(sub) for key, sub in properties.items()
                if key not in required}
    built = st.fixed_dictionaries(fixed, optional=optional)
    if schema.get("additionalProperties"):
        extra = st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=3)
        built = st.builds(lambda known, more: {**more, **known}, built, extra)
    return built


def _facts_like() -> st.SearchStrategy[dict[str, Any]]:
    """The example's facts with some replaced by anything: reaches the facts checks."""
    names = st.sampled_from([*sorted(FACTS), "penalty_rate", "ability", "branch",
                                             "days_since_letter", "逾期期数", "nope"])
    return st.builds(lambda changes: {**FACTS, **changes},
                     st.dictionaries(names, ANY_JSON | WORDY | HUGE, max_size=3))


def _known_policy(body: dict[str, Any]) -> dict[str, Any]:
    """The body aimed at the served policy with near-valid facts, so it gets past 404."""
    if "policy" not in body:
        return body
    return {**body, "policy": "collection"}


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def mutations(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Bodies that break `schema` one way each: a required key gone, a value of the
    wrong type, extra keys, huge numbers, deep nesting, not an object at all."""
    valid = schema_values(schema)
    keys = sorted(schema.get("properties", {}))
    required = sorted(schema.get("required", ()))

    def drop(body: dict[str, Any], key: str) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != key}

    def retype(body: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
        return {**body, key: value}

    return st.one_of(
        st.builds(drop, valid, st.sampled_from(required)),
        st.builds(retype, valid.map(_known_policy), st.sampled_from(keys), ANY_JSON | HUGE),
        st.builds(lambda body, extra: {**extra, **body}, valid,
                  st.dictionaries(st.text(min_size=1, max_size=8), ANY_JSON, min_size=1)),
        st.builds(retype, valid.map(_known_policy), st.sampled_from(keys),
                  st.integers(50, 900).map(_nested)),
        ANY_JSON.filter(lambda v: not isinstance(v, dict)),
    )


def near_valid(path: str) -> st.SearchStrategy[Any]:
    """Bodies for the served policy whose facts and params are almost right."""
    params = st.none() | st.dictionaries(st.sampled_from(["letter_day", "nope"]),
                                         ANY_JSON | WORDY | HUGE, max_size=2)
    if path == "/v1/decide":
        return st.fixed_dictionaries({"policy": st.just("collection"),
                                      "facts": _facts_like()},
                                     optional={"params": params, "explain": st.booleans()})
    if path == "/v1/decide/batch":
        return st.fixed_dictionaries({"policy": st.just("collection"), "items":
                                      st.lists(_facts_like() | ANY_JSON, max_size=4)},
                                     optional={"params": params})
    text = (EXAMPLES / "collection.policy").read_text(encoding="utf-8")
    return st.builds(lambda cut, junk: {"policy_text": text[:cut] + junk + text[cut:]},
                     st.integers(0, len(text)), st.text(max_size=12) | WORDY)


# -- the app under fuzz ------------------------------------------------------------------

@pytest.fixture(scope="module", params=["in-process", "socket"])
def client(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The app in process (TestClient: exceptions are counted), then the real server on
    a loopback socket, logging every decision (as a bank would run it)."""
    folder = tmp_path_factory.mktemp("fuzz_policies")
    for name in ("collection.policy", "docs.schema.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    if request.param == "socket":
        with running_server(folder, "--decision-log", str(folder / "decisions.jsonl")
                            ) as (client, _):
            yield client
        return
    store = PolicyStore(folder)
    store.reload()
    assert store.ready
    app = create_app(store)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    assert app.state.internal_errors == 0


def assert_answer_is_sound(response: Any, request: str) -> None:
    assert response.status_code < 500, f"{response.status_code} for {request}"
    if 400 <= response.status_code < 500:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), request


def send_json(client: httpx.Client, path: str, method: str, body: Any) -> None:
    content = json.dumps(body, ensure_ascii=False).encode()
    response = client.request(method, path, content=content,
                              headers={"content-type": "application/json"})
    assert_answer_is_sound(response, f"{method.upper()} {path} {content[:300]!r}")


# -- the tests ---------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "method", "schema"), BODY_OPERATIONS,
                         ids=[path for path, _, _ in BODY_OPERATIONS])
@FUZZ
@given(data=st.data())
def test_bodies_from_the_schema_and_broken_ones_never_get_a_5xx(
        client: httpx.Client, path: str, method: str, schema: dict[str, Any],
        data: st.DataObject) -> None:
    valid = schema_values(schema)
    body = data.draw(st.one_of(valid, valid.map(_known_policy), mutations(schema),
                               near_valid(path), near_valid(path)))
    send_json(client, path, method, body)


RAW_BODIES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b"{", b"\xff\xfe{}", b"null", b"[]", b'"x"', b"1e999999",
                     b'{"policy": NaN}', b'{"policy": "collection", "facts": '
                     b'{"overdue": NaN, "due_in": Infinity}}',
                     b'{"policy": "collection", "facts": {"overdue": -Infinity}}',
                     b'{"policy": "collection", "items": [{"overdue": NaN}]}',
                     b'{"policy": "collection", "facts": {"overdue": 1e400}}',
                     b'{"policy": "collection", "facts": {"principal": 1e400}}',
                     b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000,
                     b'{"policy": "collection", "facts": {"overdue": ' + b"[" * 5000
                     + b"]" * 5000 + b"}}",
                     b'{"policy": "collection", "items": [' + b"[" * 5000 + b"]" * 5000
                     + b"]}"]),
)
CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8",
                                 "APPLICATION/JSON", "text/plain", "application/x-www-form-"
                                 "urlencoded", "multipart/form-data; boundary=x", "", "json",
                                 "application/json-patch+json"])


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, m, _ in BODY_OPERATIONS],
                         ids=[p for p, _, _ in BODY_OPERATIONS])
@FUZZ
@given(raw=RAW_BODIES, kind=CONTENT_TYPES)
def test_bytes_that_are_not_json_and_wrong_content_types_are_4xx(
        client: httpx.Client, path: str, method: str, raw: bytes, kind: str) -> None:
    headers = {"content-type": kind} if kind else {}
    response = client.request(method, path, content=raw, headers=headers)
    assert_answer_is_sound(response, f"{method.upper()} {path} {kind!r} {raw[:200]!r}")


PATHS = st.sampled_from([path for path, _, _ in OPERATIONS]) | st.sampled_from(
    ["/", "/v1", "/v1/", "/v1/decide/", "/v1/decide/batch/x", "/v1/policies/collection",
     "/openapi.json", "/docs", "/v1/../healthz", "/%00", "/v1/decide%2Fbatch"])
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])


@settings(FUZZ, max_examples=120)
@given(path=PATHS, method=METHODS, body=st.none() | ANY_JSON)
def test_every_path_with_every_method_is_never_a_5xx(
        client: httpx.Client, path: str, method: str, body: Any) -> None:
    content = None if body is None else json.dumps(body).encode()
    response = client.request(method, path, content=content,
                              headers={"content-type": "application/json"})
    request = f"{method} {path} {content!r}"
    assert response.status_code < 500, f"{response.status_code} for {request}"
    if 400 <= response.status_code < 500 and method != "HEAD":
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), request
