"""Explain: why each rule matched or not, in words, for one evaluation.

Stage: on demand, beside an evaluation (`policylang eval --explain`).
Input: a `CompiledPolicy`, facts and param overrides.
Output: an `Explanation`: the decision plus, for every rule in evaluation
order, whether it matched, the reason (for a rule that did not match, the
first part of its condition that failed, with the actual values:
`overdue >= 7 days is false: overdue is 5 days`) and the final rule that cut
it off, if any. Rendered as text or as the JSON list added to the decision
JSON under "explain".
Truth values come from the same compiled closures as the decision, on the
same value list, so the explanation always agrees with the decision.
Must not: evaluate conditions any other way than through the compiled code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from engine.compile import UNDEFINED, Program
from engine.decision import Decision
from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind
from policylang.typesys import Type, TypeKind

if TYPE_CHECKING:
    from engine.api import CompiledPolicy


@attrs.frozen(slots=True)
class RuleExplanation:
    """One rule's part of an explanation."""

    rule: str
    matched: bool
    reason: str
    cut_off_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "matched": self.matched, "reason": self.reason,
                "cut_off_by": self.cut_off_by}


@attrs.frozen(slots=True)
class Explanation:
    """A decision and, for every rule in evaluation order, why it did or did not fire."""

    decision: Decision
    rules: tuple[RuleExplanation, ...]

    def to_json(self) -> list[dict[str, Any]]:
        """The list that goes under the "explain" key of the decision JSON."""
        return [r.to_json() for r in self.rules]

    def to_text(self) -> str:
        """The explanation for people: one line per rule, then the suppressions."""
        lines = ["explain:"]
        width = max((len(r.rule) for r in self.rules), default=0)
        for r in self.rules:
            verdict = "matched" if r.matched else "cut off" if r.cut_off_by else "no match"
            lines.append(f"  {r.rule:<{width}}  {verdict:<8}  {r.reason}")
        for item in self.decision.suppressed:
            by = item.by if item.by.startswith("guard ") else f"rule {item.by}"
            lines.append(f"  suppressed: {item} (from {', '.join(item.rules)}) by {by}")
        return "\n".join(lines)


def explain(policy: CompiledPolicy, facts: Mapping[str, Any],
            params: Mapping[str, Any] | None = None) -> Explanation:
    """Evaluate `facts` and explain every rule (FactsError/ParamError as `evaluate`).
    Each rule's verdict is worked out here, from its condition's value and the
    `final` rules before it, independently of the decision's own loop."""
    env = policy.prepare(facts, params)
    decision = policy.decide(env)
    words = _Words(policy.checked, policy.program, env)
    cut_by: str | None = None
    found = []
    for plan in policy.plans:
        condition = plan.node.condition
        words.source = policy.checked.source_of(plan.node)     # a guard's rule: its file
        if cut_by is not None:
            holds = "holds" if words.value(condition) else "does not hold"
            reason = f"not tried: final rule {cut_by} matched first (its own condition {holds})"
            found.append(RuleExplanation(plan.name, False, reason, cut_by))
            continue
        matched = bool(words.value(condition))
        found.append(RuleExplanation(plan.name, matched, words.why(condition), None))
        if matched and plan.final:
            cut_by = plan.name
    return Explanation(decision, tuple(found))


class _Words:
    """Says why an expression has its value on one value list."""

    def __init__(self, checked: CheckedPolicy, program: Program, env: list[Any]) -> None:
        self.checked, self.program, self.env = checked, program, env
        self.source = checked.source        # the file of the rule being explained

    def value(self, expr: nodes.Expr) -> Any:
        return self.program.code(expr).fn(self.env)

    def why(self, expr: nodes.Expr) -> str:
        """Why `expr` (a condition) is true or false here."""
        truth = bool(self.value(expr))
        if isinstance(expr, nodes.And | nodes.Or):
            deciding = truth if isinstance(expr, nodes.Or) else not truth
            parts = [op for op in expr.operands if bool(self.value(op)) is truth]
            return self.why(parts[0]) if deciding else "; ".join(self.why(p) for p in parts)
        if isinstance(expr, nodes.Not):
            return self.why(expr.operand)
        if isinstance(expr, nodes.Name):
            return self.name_truth(expr)
        return f"{self.text(expr)} is {_bool(truth)}{self.values_in(expr)}"

    def name_truth(self, name: nodes.Name) -> str:
        resolution = self.checked.resolve(name)
        value = self.value(name)
        if resolution.kind is NameKind.LET:
            inner = self.checked.lets[resolution.name].node.expr
            return f"{name.text} is {_bool(value)} because {self.why(inner)}"
        prefix = "param " if resolution.kind is NameKind.PARAM else ""
        return f"{prefix}{name.text} is {_bool(value)}"

    def values_in(self, expr: nodes.Expr) -> str:
        """`: overdue is 5 days, letter_day is 7 days` for the names inside `expr`."""
        said: dict[str, str] = {}
        for name in nodes.name_nodes(expr):
            resolution = self.checked.resolve(name)
            if resolution.kind is NameKind.ENUM_VALUE or name.text in said:
                continue
            shown = show_value(self.value(name), resolution.type)
            said[name.text] = f"{name.text} is {shown}"
        shown_undefined = any(self.value(name) is UNDEFINED for name in nodes.name_nodes(expr))
        if not shown_undefined and any(self.value(sub) is UNDEFINED
                                       for sub in _subexpressions(expr)):
            said["/"] = "a division by zero makes it false"
        return (": " + ", ".join(said.values())) if said else ""

    def text(self, expr: nodes.Expr) -> str:
        """The expression as written, on one line."""
        source = self.source.text[expr.span.start:expr.span.end]
        return re.sub(r"\s+", " ", source).strip()


def show_value(value: Any, kind: Type) -> str:
    """A run-time value in the policy's own words: `5 days`, `1062.67 CNY`, `true`."""
    if value is UNDEFINED:
        return "undefined (a division by zero), which makes the comparison false"
    match kind.kind:
        case TypeKind.BOOL:
            return _bool(value)
        case TypeKind.DAYS:
            return "1 day" if value == 1 else f"{_number(value)} days"
        case TypeKind.MONEY:
            return f"{_number(value)} {kind.currency}"
        case TypeKind.NUMBER:
            return _number(value)
        case TypeKind.STRING:
            return json.dumps(value, ensure_ascii=False)
    return str(value)


def _number(value: int | Decimal) -> str:
    return str(value)


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _subexpressions(expr: Any) -> Iterator[Any]:
    yield expr
    for field in attrs.fields(type(expr)):
        value = getattr(expr, field.name)
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, nodes.Expr):
                yield from _subexpressions(child)
