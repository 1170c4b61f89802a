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

from typing import Any

import engine
from engine import __all__ as __all__


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'policylang' has no attribute {name!r}")
    return getattr(engine, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
