"""Schema loading: YAML text -> a validated `Schema` and its diagnostics.

Stage: the first step of every policy load; resolve, check, the engine and
the analyser read the `Schema` it returns. Input: a path, or YAML text with
a display name. Output: `SchemaResult(schema, diagnostics, source)`, where
`schema` is None whenever an error was found. Every error in the file is
reported in one run, each with a span on the offending key or value (the
YAML is only composed into nodes, which keep their marks, never constructed).
Must not: raise on user error, read a number through float (bounds and
defaults are parsed from the scalar's text), or know policy syntax beyond
action patterns (`verb [target] [using template]`).
"""

from __future__ import annotations

import os
from decimal import Decimal

import attrs
import yaml
from yaml.nodes import MappingNode, Node

from policylang.diagnostics import Diagnostic, Label, diagnostic, has_errors, sort_key
from policylang.schema_catalogue import CatalogueChecks
from policylang.schema_model import FactDef, FactType, Schema
from policylang.schema_nodes import (
    BOOL_TAG,
    BOOL_TEXT,
    CURRENCY_RE,
    FACT_KEYS,
    NUMERIC,
    STR_TAG,
    TOP_KEYS,
    TYPE_NAMES,
    TYPED_KEYS,
    YAML_HINTS,
    Fields,
    Value,
    describe,
    expected_words,
    number_hint,
    parse_number,
    suggest,
    text_of,
)
from policylang.source import NO_SPAN, SourceFile


@attrs.frozen
class SchemaResult:
    """What loading a schema gives: the schema (None on any error), every diagnostic,
    and the source for rendering carets (None when the file could not be read)."""

    schema: Schema | None
    diagnostics: tuple[Diagnostic, ...]
    source: SourceFile | None


def load_schema(path: str | os.PathLike[str]) -> SchemaResult:
    """Read and validate the schema at `path`; an unreadable file is E401, never an exception."""
    name = os.fsdecode(path)
    try:
        with open(path, encoding="utf-8", newline="") as stream:
            text = stream.read()
    except OSError as exc:
        message = f'cannot read the schema file "{name}": {(exc.strerror or str(exc)).lower()}'
    except UnicodeDecodeError as exc:
        message = f'cannot read the schema file "{name}": byte {exc.start} is not UTF-8 text'
    else:
        return parse_schema(text, name)
    hint = "check the path, and that the file exists, is readable and is saved as UTF-8"
    return SchemaResult(None, (diagnostic("E401", NO_SPAN, message, hint, file=name),), None)


def parse_schema(text: str, name: str) -> SchemaResult:
    """Validate schema YAML `text`; `name` is used in diagnostics and as `Schema.path`."""
    source = SourceFile(name, text)
    try:
        root = _compose(text)
    except (yaml.YAMLError, RecursionError) as exc:   # RecursionError: absurdly deep nesting
        return SchemaResult(None, (_yaml_error(exc, source),), source)
    checker = _Checker(source)
    schema = checker.check_root(root)
    diagnostics = tuple(sorted(checker.diagnostics, key=sort_key))
    return SchemaResult(None if has_errors(diagnostics) else schema, diagnostics, source)


def _compose(text: str) -> Node | None:
    """The YAML node tree. Pure-Python SafeLoader on purpose: libyaml's marks count
    bytes, not characters, so spans after a Chinese label would be wrong."""
    return yaml.compose(text, Loader=yaml.SafeLoader)  # type: ignore[no-any-return]


def _yaml_error(exc: Exception, source: SourceFile) -> Diagnostic:
    """E402 at the place the YAML parser stopped, in words a reader can act on."""
    index, problem = 0, ("the lists and mappings are nested too deeply"
                         if isinstance(exc, RecursionError) else "the text cannot be read")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        index = mark.index if mark is not None else 0
        parts = [p for p in (exc.context, exc.problem) if p]
        problem = ", ".join(parts) or problem
    elif isinstance(exc, yaml.reader.ReaderError):
        index, problem = exc.position, f"the character U+{exc.character:04X} is not allowed"
    index = min(index, len(source.text))
    end = index + 1 if index < len(source.text) and source.text[index] not in "\r\n" else index
    hint = next((h for key, h in YAML_HINTS.items() if key in problem),
                "check the indentation, colons and quotes at this point")
    return diagnostic("E402", source.span(index, end), f"the schema is not valid YAML: {problem}",
                      hint, file=source.name)


class _Checker(CatalogueChecks):
    """Walks the composed YAML once, collecting diagnostics; one method per schema part."""

    def check_root(self, root: Node | None) -> Schema | None:
        """Facts come first (requires needs their types), then actions (patterns need them)."""
        if root is None:
            self.error("E411", NO_SPAN, "the schema file is empty",
                       'write a "facts:" and an "actions:" section')
            return None
        if not isinstance(root, MappingNode):
            self.error("E411", root, "the schema must be a mapping with facts, actions and "
                       f"(optionally) exclusive, found {describe(root)}", 'start with "facts:"')
            return None
        top = self.pairs(root, 'the top-level key "{}"', "E411")
        self.check_keys(top, TOP_KEYS, "the schema", "E411")
        anchor = root.value[0][0] if root.value else root
        facts_node, actions_node = (self.section(top, n, anchor) for n in ("facts", "actions"))
        facts = self.entries(facts_node, "fact", "E408", self.check_fact) if facts_node else {}
        actions = self.entries(actions_node, "action", "E410",
                               self.check_action) if actions_node else {}
        facts = self.add_histories(facts)
        exclusive = self.check_exclusive(top["exclusive"][1]) if "exclusive" in top else ()
        return Schema(path=self.source.name, text=self.source.text, facts=facts,
                      actions=actions, exclusive=exclusive)

    def section(self, top: Fields, name: str, anchor: Node) -> MappingNode | None:
        if name not in top:
            self.error("E411", anchor, f'the schema has no "{name}" section',
                       f'add "{name}:" with one entry per {name[:-1]}')
            return None
        node = top[name][1]
        if not isinstance(node, MappingNode):
            self.error("E411", node, f'"{name}" must be a mapping from names to entries, '
                       f"found {describe(node)}", f"write one {name[:-1]} per line under it")
            return None
        return node

    def check_fact(self, name: str, key: Node, node: Node) -> FactDef | None:
        owner = f'fact "{name}"'
        self.fact_types[name] = None
        if not isinstance(node, MappingNode):
            self.error("E408", node, f"{owner} must be a mapping such as {{type: bool}}, "
                       f"found {describe(node)}", "write {type: ...} after the name")
            return None
        before = len(self.diagnostics)
        fields = self.pairs(node, f'key "{{}}" of {owner}', "E408")
        self.check_keys(fields, FACT_KEYS, owner, "E408")
        label, label_en, doc = (self.text_field(fields, k, owner, "E408")
                                for k in ("label", "label_en", "doc"))
        ftype = self.fact_types[name] = self.fact_type(owner, key, fields)
        if "history" in fields:
            self.histories[name] = fields["history"][1]
        if ftype is None:
            return None
        self.check_typed_keys(owner, ftype, fields)
        low, high = self.bounds(owner, ftype, fields) if ftype in NUMERIC else (None, None)
        currency = self.currency(owner, key, fields) if ftype is FactType.MONEY else None
        values = self.enum_values(owner, key, fields) if ftype is FactType.ENUM else ()
        default = self.default(owner, ftype, fields, (low, high), values)
        if len(self.diagnostics) > before:
            return None
        return FactDef(name=name, type=ftype, minimum=low, maximum=high,
                       default=default[0] if default else None, has_default=bool(default),
                       currency=currency, values=values, label=label, label_en=label_en, doc=doc,
                       span=self.span(key))

    def fact_type(self, owner: str, key: Node, fields: Fields) -> FactType | None:
        node = self.required(fields, "type", owner, key, code="E408",
                             hint="add type: with one of " + ", ".join(TYPE_NAMES))
        if node is None:
            return None
        text = text_of(node) or ""
        if text in TYPE_NAMES:
            return FactType(text)
        self.error("E403", node, f"{owner} has the unknown type {describe(node)}",
                   suggest(text, TYPE_NAMES) or "use one of " + ", ".join(TYPE_NAMES))
        return None

    def check_typed_keys(self, owner: str, ftype: FactType, fields: Fields) -> None:
        """min/max only on numbers, currency only on money, values only on enums."""
        for key, (types, code) in TYPED_KEYS.items():
            if key in fields and ftype not in types:
                kinds = ", ".join(sorted(t.value for t in types))
                self.error(code, fields[key][0], f'{owner} is {ftype.value} and cannot have '
                           f'"{key}"', f'remove "{key}": only {kinds} facts have it')

    def bounds(self, owner: str, ftype: FactType, fields: Fields
               ) -> tuple[int | Decimal | None, int | Decimal | None]:
        low, high = (self.bound(owner, ftype, fields[k][1], k) if k in fields else None
                     for k in ("min", "max"))
        if low is not None and high is not None and low > high:
            self.error("E404", fields["max"][1], f"{owner} has min {low} greater than max "
                       f"{high}", "swap the two, or correct one of them",
                       [Label(self.span(fields["min"][1]), "min given here")])
            return None, None   # no domain to check a default against
        return low, high

    def bound(self, owner: str, ftype: FactType, node: Node, key: str) -> int | Decimal | None:
        number = parse_number(node, ftype)
        if number is None:
            self.error("E404", node, f"{owner} has {key} {describe(node)}, which is not "
                       f"{expected_words(ftype)}", number_hint(node, ftype))
        return number

    def currency(self, owner: str, key: Node, fields: Fields) -> str | None:
        node = self.required(fields, "currency", owner, key, code="E408",
                             hint="add currency: with a three-letter ISO 4217 code such as CNY")
        text = None if node is None else text_of(node)
        if node is not None and (text is None or not CURRENCY_RE.fullmatch(text)):
            self.error("E408", node, f"{owner} has currency {describe(node)}, which is not a "
                       "three-letter upper-case code", "write an ISO 4217 code such as CNY")
        return text

    def enum_values(self, owner: str, key: Node, fields: Fields) -> tuple[str, ...]:
        node = self.required(fields, "values", owner, key, code="E405",
                             hint="add values: [first, second]")
        return self.names(node, f"the values of {owner}", "E405", required=True) if node else ()

    def default(self, owner: str, ftype: FactType, fields: Fields,
                bounds: tuple[int | Decimal | None, int | Decimal | None],
                values: tuple[str, ...]) -> tuple[Value] | None:
        """The default as a 1-tuple (a default is never confused with none), or None."""
        if "default" not in fields:
            return None
        node = fields["default"][1]
        value = self.typed_value(node, ftype)
        low, high = bounds
        if value is None:
            hint = 'put it in quotes: "..."' if ftype is FactType.STRING else None
            wanted = expected_words(ftype, values)
            self.error("E409", node, f"{owner} has default {describe(node)}, which is not "
                       f"{wanted}", hint or f"write {wanted}")
        elif ftype is FactType.ENUM and values and value not in values:
            self.error("E409", node, f'{owner} has default "{value}", which is not one of its '
                       "values " + ", ".join(values),
                       suggest(str(value), values) or "add it to the values, or choose another")
        elif (low is not None and value < low) or (high is not None and value > high):
            shown = f"{'' if low is None else low}..{'' if high is None else high}"
            self.error("E409", node, f"{owner} has default {value} outside its domain {shown}",
                       "choose a default inside min..max, or widen the bounds")
        else:
            return (value,)
        return None

    @staticmethod
    def typed_value(node: Node, ftype: FactType) -> Value | None:
        if ftype in NUMERIC:
            return parse_number(node, ftype)
        text = text_of(node)
        if text is None or ftype is FactType.ENUM:
            return text
        if ftype is FactType.BOOL:
            return BOOL_TEXT[text.lower()] if node.tag == BOOL_TAG else None
        return text if node.tag == STR_TAG else None
