"""Guarded: a checked policy with its guards' rules put in force.

Input: the policy checked on its own and its guards, each checked on its own
(and found compatible by guards.py). Output: one `CheckedPolicy` whose
rules are the guards' rules followed by the policy's, flagged in
`guard_of`, so every later stage (compile, ordering, columnar, explain,
analysis) runs them with no special path: `evaluation_order` puts them
first, they are never `final`, so no `final` rule can cut them off, and a
`suppress` removes what any other matched rule produces.
A guard's lets and params are renamed `GUARD.NAME` in the side tables (the
names written in the files do not change), so they never clash with the
policy's; a guard's params stay at their values (engine/params.py refuses
an override). The digest covers the policy, its schema and every guard.
Must not: mutate any tree or side table of the inputs; re-check anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import attrs

from policylang.checked import (
    CheckedPolicy,
    GuardUse,
    LetInfo,
    NameKind,
    ParamInfo,
    Resolution,
)


def guard_key(guard: str, name: str) -> str:
    """The side-table name of a guard's let or param (not a valid policy name)."""
    return f"{guard}.{name}"


def with_guards(policy: CheckedPolicy, guards: Sequence[CheckedPolicy]) -> CheckedPolicy:
    """`policy` with `guards` (in `guards` line order) in force."""
    if not guards:
        return policy
    uses = tuple(GuardUse(g.name, g.version, g) for g in guards)
    lets: dict[str, LetInfo] = {}
    params: dict[str, ParamInfo] = {}
    names: dict[int, Resolution] = {}
    types = {}
    guard_of: dict[int, GuardUse] = {}
    for use in uses:
        guard = use.checked
        for name, let in guard.lets.items():
            key = guard_key(use.name, name)
            lets[key] = LetInfo(key, let.type, let.node)
        for name, param in guard.params.items():
            key = guard_key(use.name, name)
            params[key] = ParamInfo(key, param.type, param.value, param.node)
        names.update({node: _renamed(use.name, r) for node, r in guard.names.items()})
        types.update(guard.types)
        guard_of.update({id(rule): use for rule in guard.rules})
    guard_rules = tuple(rule for use in uses for rule in use.checked.rules)
    return attrs.evolve(
        policy, params={**policy.params, **params}, lets={**lets, **policy.lets},
        rules=guard_rules + policy.rules, types={**types, **policy.types},
        names={**names, **policy.names}, digest=guarded_digest(policy.digest, uses),
        guards=uses, guard_of=guard_of)


def _renamed(guard: str, resolution: Resolution) -> Resolution:
    if resolution.kind in (NameKind.LET, NameKind.PARAM):
        return Resolution(resolution.kind, guard_key(guard, resolution.name), resolution.type)
    return resolution


def guarded_digest(policy_digest: str, guards: Sequence[GuardUse]) -> str:
    """sha256 over the policy's digest and each guard's name and digest (which covers the
    guard's text and schema): editing a guard changes the digest of its policies."""
    digest = hashlib.sha256(policy_digest.encode("utf-8"))
    for use in guards:
        digest.update(b"\0guard\0" + use.name.encode("utf-8") + b"\0")
        digest.update(use.checked.digest.encode("utf-8"))
    return "sha256:" + digest.hexdigest()
