"""policylang: a policy language and rules engine for collecting overdue loans.

The public API for systems that embed the engine (see docs/embedding.md):

    from policylang import load_policy, PolicyError
    policy = load_policy("policies/retail.policy")
    decision = policy.evaluate({"overdue": 7, ...}, params={"letter_day": "5 days"})

The names are imported lazily (module `__getattr__`), so importing a
submodule such as `policylang.parser` never pulls in the engine, and the
engine may import `policylang` submodules without a cycle.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_policy": "engine.api", "load_policy_text": "engine.api",
    "compile_checked": "engine.api",
    "CompiledPolicy": "engine.api", "PolicyError": "engine.api",
    "FactsError": "engine.facts", "FactProblem": "engine.facts", "ParamError": "engine.facts",
    "Decision": "engine.decision", "Action": "engine.decision",
    "SuppressedAction": "engine.decision", "Explanation": "engine.explain",
}

__all__ = ["Action", "CompiledPolicy", "Decision", "Explanation", "FactProblem", "FactsError",
           "ParamError", "PolicyError", "SuppressedAction", "compile_checked", "load_policy",
           "load_policy_text"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'policylang' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
