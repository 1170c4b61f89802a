"""HTTP in front of the engine: requests become engine calls, engine errors JSON errors.

Input: a `PolicyStore` and the service options. Output: a FastAPI application.
Bodies are read and parsed here, not by pydantic, so that every bad input gets the
one error shape `{"error": {"code", "message", "field"}}` with the right status
(400 bad JSON, 401 token, 404 policy, 413 size, 415 type, 422 facts and params).
Must not: let an exception reach the client as a traceback, or let a request see
two versions of a policy (it takes the store's snapshot once).
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import msgspec
import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from engine.decision import Decision
from engine.facts import FactsError
from engine.params import ParamError
from engine.service.metrics import Metrics
from engine.service.openapi_bodies import REQUEST_BODIES
from engine.service.store import POLICY_NAME, PolicyStore, Served, now_iso

log = logging.getLogger("policylang.service")


class DecisionLog(Protocol):
    def append(self, record: dict[str, Any]) -> None: ...


class ServiceError(Exception):
    """A refused request: its status and the error object the client receives."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.field, self.extra = status, code, field, extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self), "field": self.field, **self.extra}


def create_app(store: PolicyStore, *, token: str | None = None, max_body: int = 4_000_000,
               decision_log: DecisionLog | None = None,
               on_reload: Callable[[], None] | None = None) -> FastAPI:
    """The service over `store`. With `token`, every endpoint but /healthz and /readyz
    wants `Authorization: Bearer <token>`. `on_reload` runs after `POST /v1/reload`
    reloaded this process (with several workers: to reload the others too)."""
    app = FastAPI(title="policylang decision service", version="1",
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    app.state.internal_errors = 0
    metrics = Metrics()
    _install_handlers(app)
    check_token = _token_guard(token)
    guard = [Depends(check_token)]
    _add_health_routes(app, store, metrics, guard)
    _add_policy_routes(app, store, guard, (max_body, on_reload))
    _add_decision_routes(app, store, check_token, metrics, (max_body, decision_log))
    return app


def _add_health_routes(app: FastAPI, store: PolicyStore, metrics: Metrics,
                       guard: list[Any]) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """200 once every policy has loaded cleanly at least once, else 503."""
        ready = store.ready
        return JSONResponse({"status": "ready" if ready else "not ready"},
                            status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], dependencies=guard,
             response_class=PlainTextResponse)
    async def metrics_text() -> PlainTextResponse:
        """Prometheus text format."""
        return PlainTextResponse(metrics.render(store.reloads_total, store.rejected_total),
                                 media_type="text/plain; version=0.0.4")


def _add_policy_routes(app: FastAPI, store: PolicyStore, guard: list[Any],
                       options: tuple[int, Callable[[], None] | None]) -> None:
    max_body, on_reload = options

    @app.get("/v1/policies", tags=["policies"], dependencies=guard)
    async def policies() -> dict[str, Any]:
        """Every policy served, with its version, digest, files and last refused reload."""
        served, refused = store.snapshot, store.rejections
        items = []
        for name in sorted(set(served) | set(refused)):
            entry = served[name].to_json() if name in served else {"name": name}
            entry["serving"] = name in served
            entry["last_rejected"] = refused[name].to_json() if name in refused else None
            items.append(entry)
        return {"policies": items, "worker": os.getpid()}

    @app.post("/v1/reload", tags=["policies"], dependencies=guard)
    async def reload() -> dict[str, Any]:
        """Re-check the changed policies; refused versions leave the old ones in force."""
        report = await run_in_threadpool(store.reload)
        if on_reload is not None:
            on_reload()
        return report.to_json()

    @app.post("/v1/check", tags=["policies"], dependencies=guard,
              openapi_extra=REQUEST_BODIES["check"])
    async def check(request: Request) -> dict[str, Any]:
        """Diagnostics for policy text, as `policylang check --format json`; loads nothing."""
        from engine.service.checking import check_text  # noqa: PLC0415 (the analyser is heavy)

        body = await _read_json(request, max_body)
        text = _string(body, "policy_text", required=True)
        schema = _string(body, "schema_text", required=False)
        return await run_in_threadpool(check_text, text, schema, store.directory)


def _add_decision_routes(app: FastAPI, store: PolicyStore, check_token: Any,
                         metrics: Metrics, options: tuple[int, DecisionLog | None]) -> None:
    # The hot paths: the token is checked in the endpoint rather than by a dependency,
    # and the answer is encoded here (`response_model` only documents it).
    max_body, decision_log = options

    @app.post("/v1/decide", tags=["decisions"], response_model=dict[str, Any],
              openapi_extra=REQUEST_BODIES["decide"])
    async def decide(request: Request) -> Response:
        """One decision: the `eval --format json` object plus `decision_id`."""
        await check_token(request)
        body = await _read_json(request, max_body)
        served = _policy(store, body)
        facts = _mapping(body, "facts", required=True)
        params = _mapping(body, "params", required=False)
        explain = _field(body, "explain", bool, "true or false", required=False) or False
        started = time.perf_counter()
        try:
            result, shown = _evaluate(served, facts, params, explain=explain)
        except ServiceError:
            metrics.observe(served.name, "refused", time.perf_counter() - started)
            raise
        metrics.observe(served.name, _outcome(result), time.perf_counter() - started)
        answer = _record(served, result, shown, facts=facts, params=params,
                         log_to=decision_log)
        return Response(answer, media_type="application/json")

    @app.post("/v1/decide/batch", tags=["decisions"], response_model=dict[str, Any],
              openapi_extra=REQUEST_BODIES["batch"])
    async def decide_batch(request: Request) -> Response:
        """One result per item, in order; a bad item fails alone with its index."""
        await check_token(request)
        body = await _read_json(request, max_body)
        served = _policy(store, body)
        items = _field(body, "items", list, "a list of facts objects", required=True)
        params = _mapping(body, "params", required=False)
        _bind(served, params)
        started = time.perf_counter()
        results, outcomes = await run_in_threadpool(_decide_items, served, items, params,
                                                    decision_log)
        seconds = time.perf_counter() - started
        for outcome in ("refused", "actions", "no_action"):
            count = outcomes.count(outcome)
            if count:
                metrics.observe(served.name, outcome, seconds, count)
        return Response(b'{"results":[' + b",".join(results) + b"]}",
                        media_type="application/json")


# -- reading requests -------------------------------------------------------------------

# msgspec reads JSON (strict RFC 8259: UTF-8, no NaN) about twice as fast as `json`;
# a number with a fraction or an exponent comes out as the Decimal of its text (no float
# money), a whole number as an exact int of any size.
_BODY_DECODER = msgspec.json.Decoder(float_hook=Decimal)


async def _read_json(request: Request, max_body: int) -> dict[str, Any]:
    """The body as a JSON object, refusing the wrong type, too many bytes (announced or
    streamed) and bad JSON. Numbers with a fraction become Decimal: no float money."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ServiceError(415, "unsupported_media_type",
                           "send the body as JSON with `Content-Type: application/json`")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > max_body):
        raise ServiceError(413, "body_too_large", f"the body is over {max_body} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > max_body:
            raise ServiceError(413, "body_too_large", f"the body is over {max_body} bytes")
    try:
        body = _BODY_DECODER.decode(data)
    except (msgspec.DecodeError, ValueError, RecursionError) as error:
        raise ServiceError(400, "malformed_json", f"the body is not valid JSON: {error}"
                           ) from None
    if not isinstance(body, dict):
        raise ServiceError(422, "invalid_request", "the body must be a JSON object")
    return body


def _field(body: Mapping[str, Any], key: str, kind: type, words: str, *,
           required: bool) -> Any:
    """`body[key]` when it is a `kind` (None when optional and absent); else a 422
    saying the key must be `words`."""
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        raise ServiceError(422, "invalid_request", f"`{key}` must be {words}", key)
    return value


def _string(body: Mapping[str, Any], key: str, *, required: bool) -> Any:
    return _field(body, key, str, "a string", required=required)


def _mapping(body: Mapping[str, Any], key: str, *, required: bool) -> Any:
    return _field(body, key, dict, "a JSON object", required=required)


def _policy(store: PolicyStore, body: Mapping[str, Any]) -> Served:
    """The policy the body names, from one snapshot; names are plain identifiers."""
    name = body.get("policy")
    if not isinstance(name, str):
        raise ServiceError(422, "invalid_request", "`policy` must be a policy name", "policy")
    served = store.get(name) if POLICY_NAME.match(name) else None
    if served is None:
        raise ServiceError(404, "unknown_policy", f"no policy named {name!r} is served",
                           "policy")
    return served


# -- deciding ---------------------------------------------------------------------------

def _evaluate(served: Served, facts: Mapping[str, Any], params: Mapping[str, Any] | None,
              *, explain: bool) -> tuple[Decision, list[dict[str, Any]] | None]:
    try:
        if explain:
            explanation = served.policy.explain(facts, params)
            return explanation.decision, explanation.to_json()
        return served.policy.evaluate(facts, params), None
    except FactsError as error:
        raise _facts_error(error) from None
    except ParamError as error:
        raise _param_error(error) from None


def _bind(served: Served, params: Mapping[str, Any] | None) -> None:
    try:
        served.policy.binder.bind(params)
    except ParamError as error:
        raise _param_error(error) from None


def _facts_error(error: FactsError) -> ServiceError:
    first = error.problems[0] if error.problems else None
    problems = [{"fact": p.fact, "expected": p.expected, "given": p.given,
                 "message": p.message, "rules": list(p.rules)} for p in error.problems]
    return ServiceError(422, "invalid_facts", first.message if first else str(error),
                        f"facts.{first.fact}" if first else "facts", problems=problems)


def _param_error(error: ParamError) -> ServiceError:
    return ServiceError(422, "invalid_params", "; ".join(error.problems) or str(error),
                        "params", codes=list(error.codes))


def _decide_items(served: Served, items: list[Any], params: Mapping[str, Any] | None,
                  decision_log: DecisionLog | None) -> tuple[list[bytes], list[str]]:
    """Each item's encoded result and outcome, in order. The whole batch goes through
    `evaluate_many` at once; when it refuses the batch, items are decided one by one, so
    that a bad item fails alone with its index."""
    decisions: list[Decision | ServiceError] = []
    if all(type(facts) is dict for facts in items):
        try:
            decisions.extend(served.policy.evaluate_many(items, params))
        except FactsError:
            decisions.clear()
    if len(decisions) != len(items):
        decisions = [_decide_item(served, index, facts, params)
                     for index, facts in enumerate(items)]
    results, outcomes = [], []
    ids = _decision_ids(len(items))
    prefixes: dict[int, bytes] = {}        # per distinct decision object of this batch
    for index, (facts, decision) in enumerate(zip(items, decisions, strict=True)):
        try:
            if isinstance(decision, ServiceError):
                raise decision
            prefix = prefixes.get(id(decision))
            if prefix is None:
                prefix = prefixes[id(decision)] = _decision_prefix(decision)
            results.append(_record(served, decision, None, facts=facts, params=params,
                                   log_to=decision_log, decision_id=ids[index],
                                   prefix=prefix))
            outcomes.append(_outcome(decision))
        except ServiceError as error:
            results.append(_encode({"index": index, "error": error.body()}))
            outcomes.append("refused")
    return results, outcomes


def _decide_item(served: Served, index: int, facts: Any, params: Mapping[str, Any] | None
                 ) -> Decision | ServiceError:
    if not isinstance(facts, dict):
        return ServiceError(422, "invalid_request", "an item must be a facts object",
                            f"items[{index}]")
    try:
        return _evaluate(served, facts, params, explain=False)[0]
    except ServiceError as error:
        return error


def _outcome(decision: Decision) -> str:
    return "actions" if decision.actions else "no_action"


def _encode(content: Any) -> bytes:
    """JSON as the service sends it: compact, UTF-8, no NaN."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False,
                      separators=(",", ":")).encode()


@functools.lru_cache(maxsize=4096)
def _decision_prefix(decision: Decision) -> bytes:
    """The encoded decision without its closing brace. Many loans get equal decisions, so
    this is cached (a Decision is frozen, and its digest names the policy version)."""
    return _encode(decision.to_json())[:-1]


def _decision_id() -> str:
    """A random (version 4) UUID as 32 hex digits, as `uuid.uuid4().hex`, but cheaper."""
    number = int.from_bytes(os.urandom(16), "big")
    return f"{number & ~(0xF000 << 64 | 0xC000 << 48) | 0x4000 << 64 | 0x8000 << 48:032x}"


def _decision_ids(count: int) -> list[str]:
    """`count` decision ids as `_decision_id` draws them, from one read of the random
    source: a batch of 1,000 would otherwise make 1,000 system calls."""
    octets = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    octets[:, 6] = octets[:, 6] & 0x0F | 0x40           # version 4
    octets[:, 8] = octets[:, 8] & 0x3F | 0x80           # the RFC 4122 variant
    text = octets.tobytes().hex()
    return [text[at:at + 32] for at in range(0, 32 * count, 32)]


def _record(served: Served, decision: Decision, shown: list[dict[str, Any]] | None,
            *, facts: Mapping[str, Any], params: Mapping[str, Any] | None,
            log_to: DecisionLog | None, decision_id: str | None = None,
            prefix: bytes | None = None) -> bytes:
    """The encoded response for one decision, after the decision log (when there is one)
    took it: a decision that cannot be logged is not given out. A batch passes the id it
    drew and the decision's encoded prefix it already has."""
    decision_id = decision_id or _decision_id()
    if log_to is not None:
        answer = decision.to_json()
        record = {"decision_id": decision_id, "timestamp": now_iso(),
                  "policy": served.name, "version": decision.version,
                  "digest": decision.digest, "params": dict(params or {}),
                  "facts": dict(facts), "actions": answer["actions"],
                  "suppressed": answer["suppressed"], "matched": answer["matched"]}
        try:
            log_to.append(record)
        except Exception:
            log.exception("the decision log refused a record")
            raise ServiceError(503, "decision_log_unavailable",
                               "the decision could not be logged, so it is not given") from None
    if shown is not None:
        return _encode({**decision.to_json(), "explain": shown, "decision_id": decision_id})
    return ((prefix or _decision_prefix(decision)) + b',"decision_id":"'
            + decision_id.encode() + b'"}')


# -- auth and errors --------------------------------------------------------------------

def _token_guard(token: str | None) -> Any:
    expected = f"Bearer {token}".encode() if token else None

    async def guard(request: Request) -> None:
        if expected is None:
            return
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise ServiceError(401, "unauthorized", "send `Authorization: Bearer <token>`")

    return guard


def _install_handlers(app: FastAPI) -> None:
    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ServiceError)
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return JSONResponse({"error": error.body()}, status_code=error.status, headers=headers)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http")
        return JSONResponse({"error": {"code": code, "message": str(error.detail),
                                       "field": None}}, status_code=error.status_code)

    async def internal(request: Request, error: Exception) -> JSONResponse:
        request.app.state.internal_errors += 1
        log.error("internal error on %s", request.url.path, exc_info=error)
        return JSONResponse({"error": {"code": "internal", "message":
                                       f"internal error: {type(error).__name__}",
                                       "field": None}}, status_code=500)

    app.add_exception_handler(ServiceError, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal)


def openapi_document(directory: str | Path = ".") -> str:
    """The OpenAPI document as committed in docs/openapi.json."""
    app = create_app(PolicyStore(directory))
    return json.dumps(app.openapi(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
