"""Requests every way of serving must refuse the same way: the in-process app
(test_app.py) and the real server on a socket (test_live.py) both run this table with
a body limit of MAX_BODY bytes."""

from __future__ import annotations

import json
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
FACTS = json.loads((EXAMPLES / "day7.facts.json").read_text(encoding="utf-8"))
MAX_BODY = 4000

# (request arguments, status, error code, error field)
BAD_INPUTS = [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
     "malformed_json", None),
    ({"content": b"policy=collection", "headers": {"content-type": "text/plain"}}, 415,
     "unsupported_media_type", None),
    ({"content": b"x" * (MAX_BODY + 1), "headers": {"content-type": "application/json"}}, 413,
     "body_too_large", None),
    ({"json": [1, 2]}, 422, "invalid_request", None),
    ({"json": {"policy": "nope", "facts": FACTS}}, 404, "unknown_policy", "policy"),
    ({"json": {"policy": "../collection", "facts": FACTS}}, 404, "unknown_policy", "policy"),
    ({"json": {"policy": 3, "facts": FACTS}}, 422, "invalid_request", "policy"),
    ({"json": {"policy": "collection"}}, 422, "invalid_request", "facts"),
    ({"json": {"policy": "collection", "facts": {k: v for k, v in FACTS.items()
                                                 if k != "overdue"}}},
     422, "invalid_facts", "facts.overdue"),
    ({"json": {"policy": "collection", "facts": {**FACTS, "principal": "lots"}}},
     422, "invalid_facts", "facts.principal"),
    ({"json": {"policy": "collection", "facts": FACTS, "params": {"nope": "1"}}},
     422, "invalid_params", "params"),
    ({"json": {"policy": "collection", "facts": FACTS, "params": {"letter_day": "soon"}}},
     422, "invalid_params", "params"),
    ({"json": {"policy": "collection", "facts": FACTS, "explain": "yes"}},
     422, "invalid_request", "explain"),
]

