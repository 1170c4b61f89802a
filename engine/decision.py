"""The decision: what evaluating a policy on one loan's facts produced.

Stage: the last one of an evaluation. Input: the ordered, deduplicated
actions and suppressions from `ordering.py` and the matched rule names.
Output: immutable `Decision`, `Action` and `SuppressedAction` records and
their JSON form, exactly the contract's `eval --format json` object.
Must not: evaluate anything or reorder what it is given.
"""

from __future__ import annotations

from typing import Any

import attrs


def action_words(verb: str, target: str, using: str | None) -> str:
    """`verb target [using template]`, as policies, tests and output write an action."""
    return f"{verb} {target} using {using}" if using is not None else f"{verb} {target}"


@attrs.frozen(slots=True)
class Action:
    """One action of the result: `verb target [using template]`, its catalogue
    stage and the rules that produced it (first producer first)."""

    verb: str
    target: str
    using: str | None
    stage: int
    rules: tuple[str, ...]

    def __str__(self) -> str:
        return action_words(self.verb, self.target, self.using)

    def to_json(self) -> dict[str, Any]:
        return {"verb": self.verb, "target": self.target, "using": self.using,
                "stage": self.stage, "rules": list(self.rules)}


@attrs.frozen(slots=True)
class SuppressedAction:
    """An action that matched rules produced but a `suppress` removed: `by` is the
    suppressing rule, `rules` the producers whose action it removed."""

    verb: str
    target: str
    using: str | None
    stage: int
    by: str
    rules: tuple[str, ...]

    def __str__(self) -> str:
        return action_words(self.verb, self.target, self.using)

    def to_json(self) -> dict[str, Any]:
        return {"verb": self.verb, "target": self.target, "using": self.using,
                "stage": self.stage, "by": self.by, "rules": list(self.rules)}


@attrs.frozen(slots=True)
class Decision:
    """The result of one evaluation. `matched` lists matched rules in evaluation
    order (priority, then source order); `stopped_by` names the final rule that
    cut off the rest, or is None."""

    policy: str
    version: str | None
    digest: str
    actions: tuple[Action, ...]
    suppressed: tuple[SuppressedAction, ...]
    matched: tuple[str, ...]
    stopped_by: str | None

    def to_json(self) -> dict[str, Any]:
        """The contract's `eval --format json` object (a dict with its keys in order)."""
        return {"policy": self.policy, "version": self.version, "digest": self.digest,
                "actions": [a.to_json() for a in self.actions],
                "suppressed": [s.to_json() for s in self.suppressed],
                "matched": list(self.matched), "stopped_by": self.stopped_by}

    def action_strings(self) -> tuple[str, ...]:
        """The actions as `verb target [using template]` strings, in order."""
        return tuple(str(a) for a in self.actions)
