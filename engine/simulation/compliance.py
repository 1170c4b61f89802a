"""Compliance checks over a replayed timeline: caps, bans and deadline duties.

Stage: after the replay, beside the figures. Input: a compliance file (YAML, e.g.
`policies/retail.compliance.yaml`) read against the policy's action catalogue, then
one loan's reported days at a time. Output: `Finding`s, one per check a loan breaks,
with the first day it broke it and how many days it did.

A policy can promise things the replay shows it does not keep: a `suppress` that
caps calls at seven a week still lets the seventh and an eighth land in one window
when they fall on either side of a decision; a letter "every 30 days" slips when
another rule fires first. The checks are written by compliance staff, not by the
policy's author, so they are a separate file and never change what the policy does.

Four kinds, each judged on the replayed days of one loan (days before `--from` are
not seen):

- `cap`: at most `max` matching actions in any `within` days (the window ending on
  the day, that day included).
- `never`: no matching action on a day when `while` holds.
- `every`: while `while` holds, a matching action at least every `at_least_every`
  days: broken on the day the condition has held for that many days in a row with
  no matching action among them.
- `by`: when `when` first holds, a matching action within the `within` days ending
  that day (the day included): e.g. a written demand in the 60 days before the
  limitation period runs out.

Must not: raise on a bad file before every problem in it is collected; evaluate
anything but the condition language below (`overdue OP N days`, `overdue between
A and B days`, joined by `and`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.simulation.replay import LoanDay
from policylang.schema_model import ActionDef, ActionPattern
from policylang.suggest import closest

KINDS = {"cap": ("action", "max", "within"), "never": ("action", "while"),
         "every": ("action", "at_least_every", "while"), "by": ("action", "when", "within")}
OPTIONAL = ("name", "label")
_DAYS = re.compile(r"([0-9]+)\s*(?:day|days)")
_COMPARE = re.compile(r"overdue\s*(>=|<=|==|!=|>|<)\s*([0-9]+)\s*(?:day|days)")
_BETWEEN = re.compile(r"overdue\s+between\s+([0-9]+)\s*(?:days?)?\s+and\s+([0-9]+)\s*(?:day|days)")
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}
CONDITION_HINT = 'write e.g. "overdue >= 7 days" or "overdue between 1 and 3 days"'


class ComplianceError(Exception):
    """A compliance file that cannot be used; `problems` are `file:line:column: …` lines."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@attrs.frozen(slots=True)
class Condition:
    """`overdue` bounds joined by `and`: each a (operator, days) pair; empty holds always."""

    text: str
    tests: tuple[tuple[str, int], ...]

    def holds(self, overdue: int) -> bool:
        return all(_OPS[op](overdue, days) for op, days in self.tests)


@attrs.frozen(slots=True)
class Check:
    """One compliance check of the file, as written (see the module docstring)."""

    name: str
    kind: str
    pattern: ActionPattern
    label: str | None = None
    limit: int = 0                       # cap: max
    days: int = 0                        # cap, by: within; every: at_least_every
    condition: Condition | None = None   # never, every: while; by: when
    line: int = 0

    def describe(self) -> str:
        """The check in one line, as an analyst reads it in the report."""
        cond = self.condition.text if self.condition else ""
        return {"cap": f"at most {self.limit} × {self.pattern} in any {self.days} days",
                "never": f"no {self.pattern} while {cond}",
                "every": f"{self.pattern} at least every {self.days} days while {cond}",
                "by": f"{self.pattern} within the {self.days} days up to when {cond}",
                }[self.kind]


@attrs.frozen(slots=True)
class Finding:
    """A loan breaking a check: the first day it did, how overdue it was then, and on
    how many reported days the check was broken."""

    check: str
    loan_id: str
    day: date
    overdue: int
    days: int


@attrs.frozen
class Compliance:
    """The checks of one file, in file order."""

    path: str
    checks: tuple[Check, ...]

    def check_loan(self, days: Sequence[LoanDay]) -> list[Finding]:
        """Every check this loan's reported days (in date order) break, in file order."""
        found = []
        for check in self.checks:
            broken = list(_BREAKERS[check.kind](check, days))
            if broken:
                first = broken[0]
                found.append(Finding(check.name, first.loan_id, first.day, first.overdue,
                                     len(broken)))
        return found


def _matches(check: Check, loan_day: LoanDay) -> int:
    return sum(1 for a in loan_day.actions if check.pattern.matches(a.verb, a.target, a.using))


def _cap(check: Check, days: Sequence[LoanDay]) -> Iterable[LoanDay]:
    window: deque[tuple[date, int]] = deque()
    total = 0
    for loan_day in days:
        while window and window[0][0] <= loan_day.day - timedelta(days=check.days):
            total -= window.popleft()[1]
        count = _matches(check, loan_day)
        if count:
            window.append((loan_day.day, count))
            total += count
        if total > check.limit:
            yield loan_day


def _never(check: Check, days: Sequence[LoanDay]) -> Iterable[LoanDay]:
    assert check.condition is not None
    return (d for d in days if check.condition.holds(d.overdue) and _matches(check, d))


def _every(check: Check, days: Sequence[LoanDay]) -> Iterable[LoanDay]:
    assert check.condition is not None
    quiet = 0                      # days in a row the condition held without the action
    previous: date | None = None
    for loan_day in days:
        contiguous = previous is not None and loan_day.day - previous == timedelta(days=1)
        previous = loan_day.day
        if not check.condition.holds(loan_day.overdue) or _matches(check, loan_day):
            quiet = 0
            continue
        quiet = quiet + 1 if contiguous else 1
        if quiet >= check.days:
            yield loan_day
            quiet = 0              # the next breach is a whole period later


def _by(check: Check, days: Sequence[LoanDay]) -> Iterable[LoanDay]:
    assert check.condition is not None
    done: list[date] = []
    for loan_day in days:
        if _matches(check, loan_day):
            done.append(loan_day.day)
        if check.condition.holds(loan_day.overdue):
            since = loan_day.day - timedelta(days=check.days - 1)
            if not any(day >= since for day in done):
                yield loan_day
            return


_BREAKERS: Mapping[str, Callable[[Check, Sequence[LoanDay]], Iterable[LoanDay]]] = {
    "cap": _cap, "never": _never, "every": _every, "by": _by}


def load_compliance(path: str | Path, actions: Mapping[str, ActionDef]) -> Compliance:
    """The checks of a compliance file, every action named checked against the catalogue;
    raises ComplianceError listing every problem, each with file, line and field."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ComplianceError([f"{name}: cannot read the compliance file: "
                               f"{error.strerror or error}"]) from None
    return parse_compliance(text, name, actions)


def parse_compliance(text: str, name: str, actions: Mapping[str, ActionDef]) -> Compliance:
    """As `load_compliance`, from the file's text."""
    reader = _Reader(name, actions)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ComplianceError([f"{where}: not valid YAML: "
                               f"{getattr(error, 'problem', None) or error}"]) from None
    checks = reader.read(root)
    if reader.problems:
        raise ComplianceError(reader.problems)
    return Compliance(name, tuple(checks))


class _Reader:
    """Walks the YAML nodes, collecting every problem with its line and field."""

    def __init__(self, name: str, actions: Mapping[str, ActionDef]) -> None:
        self.name = name
        self.actions = actions
        self.problems: list[str] = []

    def fail(self, node: Node, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.problems.append(f"{self.name}:{mark.line + 1}:{mark.column + 1}: {message}"
                             + (f" ({hint})" if hint else ""))

    def read(self, root: Node | None) -> list[Check]:
        if root is None:
            self.problems.append(f"{self.name}: the file is empty; write checks: [...]")
            return []
        fields = self.mapping(root, "the file")
        if fields is None:
            return []
        for key, (node, _) in fields.items():
            if key != "checks":
                self.fail(node, f'unknown key "{key}" at the top', 'the file holds "checks:"')
        if "checks" not in fields:
            self.fail(root, 'no "checks:" list', "write checks: followed by a list")
            return []
        items = fields["checks"][1]
        if not isinstance(items, SequenceNode):
            self.fail(items, '"checks" must be a list of checks', "start each with '- kind:'")
            return []
        checks: list[Check] = []
        seen: set[str] = set()
        for index, item in enumerate(items.value, 1):
            check = self.check(item, index)
            if check is not None and check.name in seen:
                self.fail(item, f'check "{check.name}" is named twice', "give each a new name")
            elif check is not None:
                seen.add(check.name)
                checks.append(check)
        return checks

    def mapping(self, node: Node, what: str) -> dict[str, tuple[Node, Node]] | None:
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping of keys to values")
            return None
        return {str(k.value): (k, v) for k, v in node.value}

    def check(self, node: Node, index: int) -> Check | None:
        fields = self.mapping(node, f"check {index}")
        if fields is None:
            return None
        before = len(self.problems)
        kind = self.kind(node, index, fields)
        if kind is None:
            return None
        owner = f'check {index} ("{kind}")'
        allowed = (*KINDS[kind], *OPTIONAL, "kind")
        for key, (key_node, _) in fields.items():
            if key not in allowed:
                hint = closest(key, allowed)
                self.fail(key_node, f'{owner}: unknown field "{key}"',
                          f"did you mean {hint}?" if hint else "fields: " + ", ".join(allowed))
        for key in KINDS[kind]:
            if key not in fields:
                self.fail(node, f'{owner}: field "{key}" is missing', _EXAMPLES[kind])
        if len(self.problems) > before:
            return None
        return self.build(kind, index, fields, before)

    def kind(self, node: Node, index: int, fields: dict[str, tuple[Node, Node]]) -> str | None:
        if "kind" not in fields:
            self.fail(node, f'check {index}: field "kind" is missing',
                      "kind is one of " + ", ".join(KINDS))
            return None
        value = fields["kind"][1]
        text = value.value if isinstance(value, ScalarNode) else None
        if text not in KINDS:
            hint = closest(str(text), KINDS)
            self.fail(value, f'check {index}: field "kind": {text!r} is not a kind',
                      f"did you mean {hint}?" if hint else "one of " + ", ".join(KINDS))
            return None
        return str(text)

    def build(self, kind: str, index: int, fields: dict[str, tuple[Node, Node]],
              before: int) -> Check | None:
        owner = f'check {index} ("{kind}")'
        pattern = self.pattern(fields["action"][1], owner)
        name = self.text(fields, "name", owner) or f"{kind} {index}"
        label = self.text(fields, "label", owner)
        limit = self.whole(fields["max"][1], owner, "max", low=0) if "max" in fields else 0
        days_key = {"every": "at_least_every", "cap": "within", "by": "within"}.get(kind)
        days = self.days(fields[days_key][1], owner, days_key) if days_key else 0
        cond_key = {"never": "while", "every": "while", "by": "when"}.get(kind)
        condition = self.condition(fields[cond_key][1], owner, cond_key) if cond_key else None
        if len(self.problems) > before or pattern is None:
            return None
        return Check(name=name, kind=kind, pattern=pattern, label=label, limit=limit or 0,
                     days=days or 0, condition=condition,
                     line=fields["kind"][0].start_mark.line + 1)

    def text(self, fields: dict[str, tuple[Node, Node]], key: str, owner: str) -> str | None:
        if key not in fields:
            return None
        node = fields[key][1]
        if not isinstance(node, ScalarNode) or not str(node.value).strip():
            self.fail(node, f'{owner}: field "{key}" must be text')
            return None
        return str(node.value)

    def whole(self, node: Node, owner: str, key: str, *, low: int) -> int | None:
        text = str(node.value) if isinstance(node, ScalarNode) else ""
        if not text.isdigit() or int(text) < low:
            self.fail(node, f'{owner}: field "{key}" must be a whole number, {low} or more, '
                      f"found {text or 'a ' + type(node).__name__}", f"write {key}: 7")
            return None
        return int(text)

    def days(self, node: Node, owner: str, key: str) -> int | None:
        text = str(node.value).strip() if isinstance(node, ScalarNode) else ""
        match = _DAYS.fullmatch(text)
        if match is None or int(match.group(1)) < 1:
            self.fail(node, f'{owner}: field "{key}" must be a number of days, 1 or more, '
                      f"found {text!r}", f"write {key}: 7 days")
            return None
        return int(match.group(1))

    def condition(self, node: Node, owner: str, key: str) -> Condition | None:
        text = str(node.value).strip() if isinstance(node, ScalarNode) else ""
        tests: list[tuple[str, int]] = []
        for part in re.split(r"\s+and\s+(?!\d)", text):
            compare, between = _COMPARE.fullmatch(part.strip()), _BETWEEN.fullmatch(part.strip())
            if compare:
                tests.append((compare.group(1), int(compare.group(2))))
            elif between:
                tests += [(">=", int(between.group(1))), ("<=", int(between.group(2)))]
            else:
                self.fail(node, f'{owner}: field "{key}": {part!r} is not a condition on '
                          "overdue", CONDITION_HINT)
                return None
        return Condition(text, tuple(tests))

    def pattern(self, node: Node, owner: str) -> ActionPattern | None:
        text = str(node.value) if isinstance(node, ScalarNode) else ""
        words = text.split()
        where = {1: (0, None, None), 2: (0, 1, None), 3: (0, None, 2), 4: (0, 1, 3)}
        shape = where.get(len(words))
        if shape is None or (len(words) >= 3 and words[-2] != "using"):
            self.fail(node, f'{owner}: field "action": {text!r} is not an action',
                      'write "verb [target] [using template]", e.g. "call borrower"')
            return None
        verb = words[0]
        target = words[1] if shape[1] is not None else None
        using = words[-1] if shape[2] is not None else None
        return self.known(node, owner, ActionPattern(verb, target, using))

    def known(self, node: Node, owner: str, pattern: ActionPattern) -> ActionPattern | None:
        action = self.actions.get(pattern.verb)
        problem, choices, word = None, (), ""
        if action is None:
            problem, choices, word = "is not an action of the schema", self.actions, pattern.verb
        elif pattern.target is not None and pattern.target not in action.targets:
            problem, choices, word = (f'is not a target of "{pattern.verb}"', action.targets,
                                     pattern.target)
        elif pattern.using is not None and pattern.using not in action.templates:
            problem, choices, word = (f'is not a template of "{pattern.verb}"', action.templates,
                                     pattern.using)
        if problem is None:
            return pattern
        hint = closest(word, choices)
        self.fail(node, f'{owner}: field "action": "{word}" {problem}',
                  f"did you mean {hint}?" if hint else "choose one of " + ", ".join(choices))
        return None


_EXAMPLES = {
    "cap": 'e.g. {kind: cap, action: "call borrower", max: 7, within: 7 days}',
    "never": 'e.g. {kind: never, action: "notify borrower", while: "overdue < 3 days"}',
    "every": 'e.g. {kind: every, action: "notify borrower", at_least_every: 30 days, '
             'while: "overdue >= 7 days"}',
    "by": 'e.g. {kind: by, action: "notify borrower", within: 60 days, '
          'when: "overdue >= 1095 days"}',
}


def describe_all(compliance: Compliance) -> list[dict[str, Any]]:
    """The checks as summary.json lists them."""
    return [{"name": c.name, "kind": c.kind, "rule": c.describe(), "label": c.label,
             "line": c.line} for c in compliance.checks]
