"""The engine: compiles checked policies into closures and evaluates them on facts.

Modules, one stage each: `facts` (validate and coerce inputs), `compile`
(conditions into closures), `ordering` (priority, final, suppress, dedup,
result order), `decision` (the result and its JSON), `explain` (why each
rule matched or not) and `api` (`load_policy`, `CompiledPolicy`).
Names are imported lazily so that importing `engine` costs nothing and
creates no import cycle with `policylang`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_policy": "engine.api", "load_policy_text": "engine.api",
    "compile_checked": "engine.api",
    "CompiledPolicy": "engine.api", "PolicyError": "engine.api",
    "FactsError": "engine.facts", "FactProblem": "engine.facts", "ParamError": "engine.params",
    "Decision": "engine.decision", "Action": "engine.decision",
    "SuppressedAction": "engine.decision", "Explanation": "engine.explain",
}

__all__ = ["Action", "CompiledPolicy", "Decision", "Explanation", "FactProblem", "FactsError",
           "ParamError", "PolicyError", "SuppressedAction", "compile_checked", "load_policy",
           "load_policy_text"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
