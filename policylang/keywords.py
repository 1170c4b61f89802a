"""The reserved words of the policy language (English keywords).

A schema may not use them as names of facts, actions, targets, templates or
enum values: such a name could never be written in a policy. The list is
tested against the grammar so the two cannot drift apart.
"""

KEYWORDS: frozenset[str] = frozenset({
    "policy", "version", "schema", "guards", "guard", "param", "let", "rule",
    "priority", "final", "and", "or", "not", "between", "in", "using",
    "suppress", "assert", "monotone", "any", "no", "true", "false",
    "day", "days", "week", "weeks",
})
