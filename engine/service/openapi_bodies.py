"""The request bodies as JSON Schema, for the OpenAPI document only.

The app reads bodies itself (see app.py: one error shape for every bad input), so
FastAPI cannot infer them; these keep docs/openapi.json telling clients the truth.
Must not: be used to validate; app.py does that.
"""

from __future__ import annotations

from typing import Any

_FACTS = {"type": "object", "description": "fact name to value, as the policy's schema "
                                           "declares (money as a string or number)",
          "additionalProperties": True}
_PARAMS = {"type": "object", "description": "param overrides, e.g. {\"letter_day\": "
                                            "\"10 days\"}", "additionalProperties": True}
_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
         "description": "the policy file's stem"}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "decide": _body({"policy": _NAME, "facts": _FACTS, "params": _PARAMS,
                     "explain": {"type": "boolean", "default": False}}, ["policy", "facts"]),
    "batch": _body({"policy": _NAME, "items": {"type": "array", "items": _FACTS},
                    "params": _PARAMS}, ["policy", "items"]),
    "check": _body({"policy_text": {"type": "string"}, "schema_text": {"type": "string"}},
                   ["policy_text"]),
}
