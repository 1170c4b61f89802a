"""Declarations: the file's structure, its names and its action references.

Input: a parsed `Policy` and its `Schema`. Output: the header, params, lets
and rules by name, plus diagnostics for a misplaced header, duplicate
names, actions that the catalogue does not allow, and what a guard file
cannot hold (E113, E114). Expressions are left
to `checker.py`. Must not: type expressions.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR

import attrs

from policylang import nodes
from policylang.checked import ParamInfo, Value, literal_value
from policylang.diagnostics import Diagnostic, Label, diagnostic
from policylang.keywords import KEYWORDS
from policylang.schema_model import Schema
from policylang.suggest import did_you_mean
from policylang.typesys import BOOL, DAYS, ERROR, NUMBER, STRING, Type, money


@attrs.define
class Declarations:
    """What the statements declare; filled by `collect`."""

    header: nodes.Header | nodes.GuardHeader | None = None
    schema: nodes.SchemaDecl | None = None
    guards: nodes.GuardsDecl | None = None
    params: dict[str, ParamInfo] = attrs.field(factory=dict)
    lets: dict[str, nodes.Let] = attrs.field(factory=dict)
    rules: list[nodes.Rule] = attrs.field(factory=list)
    asserts: list[nodes.Assert | nodes.AssertMonotone] = attrs.field(factory=list)
    diagnostics: list[Diagnostic] = attrs.field(factory=list)


def read_header(policy: nodes.Policy, file: str) -> Declarations:
    """Find the header and the schema line; report them missing or misplaced."""
    decls = Declarations()
    first = policy.statements[0] if policy.statements else None
    headless = not isinstance(first, nodes.Header | nodes.GuardHeader)
    for index, statement in enumerate(policy.statements):
        match statement:
            case nodes.Header() | nodes.GuardHeader():
                if decls.header is not None or index != 0:
                    what = "the guard line" if isinstance(statement, nodes.GuardHeader) \
                        else "the policy line"
                    decls.diagnostics.append(_misplaced(statement, what, file))
                else:
                    decls.header = statement
            case nodes.SchemaDecl():
                if headless and index == 0:
                    continue          # the missing policy line is the one error here
                if decls.schema is not None or decls.header is None or index != 1:
                    decls.diagnostics.append(_misplaced(statement, "the schema line", file))
                else:
                    decls.schema = statement
            case nodes.GuardsDecl():
                if isinstance(decls.header, nodes.GuardHeader):
                    decls.diagnostics.append(diagnostic(
                        "E114", statement.span, "a guard file cannot name guards of its own",
                        "list every guard in the `guards` line of the policy that uses them",
                        file=file))
                elif decls.guards is not None or index != 2 or decls.schema is None:
                    decls.diagnostics.append(_misplaced(statement, "the guards line", file))
                else:
                    decls.guards = statement
    if decls.header is None:
        decls.diagnostics.append(diagnostic(
            "E104", first.span if first else policy.span,
            "the file must start with `policy NAME`",
            'begin with `policy my_policy version "1"` and then `schema "my.schema.yaml"`',
            file=file))
    elif decls.schema is None:
        decls.diagnostics.append(diagnostic(
            "E104", decls.header.span, 'the policy line must be followed by `schema "PATH"`',
            'add a line such as `schema "collection.schema.yaml"` right after it', file=file))
    if isinstance(decls.header, nodes.GuardHeader) and decls.header.version is None:
        decls.diagnostics.append(diagnostic(
            "E113", decls.header.span, f"the guard `{decls.header.name.text}` has no version",
            f'write `guard {decls.header.name.text} version "1"`: a guard is a rule book that '
            "changes by versions", file=file))
    return decls


def _misplaced(statement: nodes.Statement, what: str, file: str) -> Diagnostic:
    return diagnostic("E108", statement.span, f"{what} is given twice or in the wrong place",
                      "a file starts with the policy line, then the schema line, then "
                      "(optionally) the guards line, once each", file=file)


def collect(policy: nodes.Policy, schema: Schema, decls: Declarations, file: str) -> None:
    """Gather params, lets, rules and asserts; report duplicate names and bad actions."""
    rule_names: dict[str, nodes.Ident] = {}
    taken: dict[str, nodes.Ident] = {}
    in_guard = isinstance(decls.header, nodes.GuardHeader)
    for statement in policy.statements:
        _check_not_keyword(statement, decls, file)
        if in_guard:
            _check_guard_statement(statement, decls, file)
        match statement:
            case nodes.Param(name=name):
                if _claim(name, taken, schema, decls, file):
                    decls.params[name.text] = _param_info(statement, schema, decls, file)
            case nodes.Let(name=name):
                if _claim(name, taken, schema, decls, file):
                    decls.lets[name.text] = statement
            case nodes.Rule():
                _check_rule_name(statement, rule_names, decls, file)
                _check_rule_actions(statement, schema, decls, file)
                decls.rules.append(statement)
            case nodes.Assert(expect=nodes.ExpectAction(action=action)):
                _check_action(action, schema, decls, file)
                decls.asserts.append(statement)
            case nodes.Assert() | nodes.AssertMonotone():
                decls.asserts.append(statement)


def _check_guard_statement(statement: nodes.Statement, decls: Declarations,
                           file: str) -> None:
    """A guard holds only `suppress` rules (never `final`), lets, params and assertions
    that promise an action never happens: what a guard can guarantee on its own."""
    if isinstance(statement, nodes.Rule):
        _check_guard_rule(statement, decls, file)
    elif isinstance(statement, nodes.AssertMonotone) or (
            isinstance(statement, nodes.Assert)
            and not (isinstance(statement.expect, nodes.ExpectAction)
                     and statement.expect.negated)):
        decls.diagnostics.append(diagnostic(
            "E114", statement.span, "a guard can only promise that an action never happens "
            "(`assert COND -> no ACTION`): it produces no actions of its own",
            "state this assertion in the policy that uses the guard", file=file))


def _check_guard_rule(rule: nodes.Rule, decls: Declarations, file: str) -> None:
    if rule.final:          # only a named rule can be final: the caret goes on its name
        where = rule.name.span if rule.name is not None else rule.span
        decls.diagnostics.append(diagnostic(
            "E114", where, "a guard rule cannot be `final`",
            "remove `final`: guard rules are never cut off and cut off nothing", file=file))
    for item in rule.actions:
        if isinstance(item, nodes.ActionRef):
            decls.diagnostics.append(diagnostic(
                "E114", item.span, f"a guard rule can only suppress, but "
                f"`{_action_text(item)}` would produce an action",
                f"write `suppress {item.verb.text} {item.target.text}`, or move the "
                "action to the policy", file=file))


def _action_text(action: nodes.ActionRef) -> str:
    words = f"{action.verb.text} {action.target.text}"
    return words + (f" using {action.using.text}" if action.using is not None else "")


def _check_not_keyword(statement: nodes.Statement, decls: Declarations, file: str) -> None:
    if not isinstance(statement, nodes.Param | nodes.Let):
        return                  # rule names are never read inside expressions
    name = statement.name
    if name.text in KEYWORDS:
        decls.diagnostics.append(diagnostic(
            "E110", name.span, f"`{name.text}` is a word of the policy language, not a name",
            "choose another name", file=file))


def _claim(name: nodes.Ident, taken: dict[str, nodes.Ident], schema: Schema,
           decls: Declarations, file: str) -> bool:
    if name.text in schema.facts:
        decls.diagnostics.append(diagnostic(
            "E502", name.span, f"`{name.text}` is already a fact of the schema",
            "choose another name for this param or let", file=file))
        return False
    if name.text in taken:
        first = taken[name.text]
        decls.diagnostics.append(diagnostic(
            "E502", name.span, f"`{name.text}` is already declared on line {first.span.line}",
            "give each param and let its own name", file=file,
            labels=[Label(first.span, "first declared here")]))
        return False
    taken[name.text] = name
    return True


def _check_rule_name(rule: nodes.Rule, seen: dict[str, nodes.Ident],
                     decls: Declarations, file: str) -> None:
    if rule.name is None:
        return
    first = seen.get(rule.name.text)
    if first is None:
        seen[rule.name.text] = rule.name
        return
    decls.diagnostics.append(diagnostic(
        "E501", rule.name.span,
        f"there is already a rule named `{rule.name.text}` on line {first.span.line}",
        "rule names must be unique; rename one of them", file=file,
        labels=[Label(first.span, "first defined here")]))


def _check_rule_actions(rule: nodes.Rule, schema: Schema, decls: Declarations,
                        file: str) -> None:
    seen: set[nodes.ActionItem] = set()
    for item in rule.actions:
        if item in seen:
            decls.diagnostics.append(diagnostic(
                "W504", item.span, "this action is already listed in this rule",
                "remove the repeated action", file=file))
        seen.add(item)
        if isinstance(item, nodes.ActionRef):
            _check_action(item, schema, decls, file)
        else:
            _check_suppress(item, schema, decls, file)


def _check_verb(verb: nodes.Ident, schema: Schema, decls: Declarations, file: str) -> bool:
    if verb.text in schema.actions:
        return True
    decls.diagnostics.append(diagnostic(
        "E302", verb.span, f"`{verb.text}` is not an action of the schema's catalogue",
        did_you_mean(verb.text, schema.actions) or
        "known actions: " + ", ".join(schema.actions), file=file))
    return False


def _check_target(verb: nodes.Ident, target: nodes.Ident, schema: Schema,
                  decls: Declarations, file: str) -> None:
    allowed = schema.actions[verb.text].targets
    if target.text not in allowed:
        decls.diagnostics.append(diagnostic(
            "E303", target.span, f"`{verb.text}` cannot be aimed at `{target.text}`",
            did_you_mean(target.text, allowed) or
            f"`{verb.text}` allows: " + ", ".join(allowed), file=file))


def _check_action(action: nodes.ActionRef, schema: Schema, decls: Declarations,
                  file: str) -> None:
    if not _check_verb(action.verb, schema, decls, file):
        return
    _check_target(action.verb, action.target, schema, decls, file)
    if action.using is None:
        return
    templates = schema.actions[action.verb.text].templates
    if action.using.text not in templates:
        hint = did_you_mean(action.using.text, templates)
        if hint is None:
            hint = (f"`{action.verb.text}` allows the templates: " + ", ".join(templates)
                    if templates else f"`{action.verb.text}` takes no template; remove `using`")
        decls.diagnostics.append(diagnostic(
            "E304", action.using.span,
            f"`{action.using.text}` is not a template of `{action.verb.text}`", hint, file=file))


def _check_suppress(item: nodes.Suppress, schema: Schema, decls: Declarations,
                    file: str) -> None:
    if _check_verb(item.verb, schema, decls, file) and item.target is not None:
        _check_target(item.verb, item.target, schema, decls, file)


def _param_info(param: nodes.Param, schema: Schema, decls: Declarations,
                file: str) -> ParamInfo:
    kind = literal_type(param.value, schema, decls.diagnostics, file)
    value: Value = literal_value(param.value)
    return ParamInfo(param.name.text, kind, value, param)


def literal_type(literal: nodes.Literal, schema: Schema, diagnostics: list[Diagnostic],
                 file: str) -> Type:
    """The type of a literal; reports fractional days and currencies the schema lacks."""
    match literal:
        case nodes.Number() | nodes.Percent():
            return NUMBER
        case nodes.Duration(amount=amount, unit=unit):
            days = amount * 7 if unit is nodes.DurationUnit.WEEK else amount
            if days != days.to_integral_value():
                written = f"{amount} weeks is {days} days" if unit is nodes.DurationUnit.WEEK \
                    else f"{days} days"
                low = int(days.to_integral_value(rounding=ROUND_FLOOR))
                diagnostics.append(diagnostic(
                    "E208", literal.span, f"{written}, which is not a whole number of days",
                    f"use {low} days or {low + 1} days", file=file))
            return DAYS
        case nodes.Money(currency=currency):
            if currency not in schema.currencies:
                known = sorted(schema.currencies)
                diagnostics.append(diagnostic(
                    "E210", literal.span, f"no fact of the schema is in {currency}",
                    did_you_mean(currency, known) or
                    ("amounts here are in " + ", ".join(known) if known else None),
                    file=file))
                return ERROR        # reported once; whatever uses it says nothing more
            return money(currency)
        case nodes.String():
            return STRING
        case nodes.Bool():
            return BOOL
    raise TypeError(f"not a literal: {literal!r}")
