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

import difflib
import os
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policylang.diagnostics import Diagnostic, Label, diagnostic, has_errors, sort_key
from policylang.keywords import KEYWORDS
from policylang.schema_model import ActionDef, ActionPattern, FactDef, FactType, HistorySpec, Schema
from policylang.source import NO_SPAN, SourceFile, Span

TOP_KEYS = ("facts", "actions", "exclusive")
FACT_KEYS = ("type", "min", "max", "default", "currency", "values", "label", "doc", "history")
ACTION_KEYS = ("targets", "stage", "templates", "channel", "requires", "label", "doc")
HISTORY_KINDS = {"days_since": FactType.DAYS, "count": FactType.INT, "ever": FactType.BOOL}
TYPE_NAMES = tuple(t.value for t in FactType)
WHOLE = frozenset({FactType.INT, FactType.DAYS})
NUMERIC = WHOLE | {FactType.DECIMAL, FactType.MONEY}
# keys that only some fact types may have: key -> (types, code when misplaced)
TYPED_KEYS = {"min": (NUMERIC, "E404"), "max": (NUMERIC, "E404"),
              "currency": ({FactType.MONEY}, "E408"), "values": ({FactType.ENUM}, "E408")}
# pattern shapes: is-"using" per word -> word index of (verb, target, template)
PATTERN_SHAPES = {(False,): (0, None, None), (False, False): (0, 1, None),
                  (False, True, False): (0, None, 2), (False, False, True, False): (0, 1, 3)}

_IDENT = re.compile(r"[^\W\d]\w*")
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DEC = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_WITH_UNIT = re.compile(r"([-+]?[0-9.]+)\s*[^\W\d]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_WITHIN = re.compile(r"([0-9]+)\s*(days?)?")
_WORD = re.compile(r"\S+")
_NULL_TAG, _STR_TAG, _BOOL_TAG = (f"tag:yaml.org,2002:{t}" for t in ("null", "str", "bool"))
_BOOL_TEXT = yaml.constructor.SafeConstructor.bool_values
_NAME_HINT = "use letters, digits and _, starting with a letter (Chinese letters are fine)"
_PATTERN_HINT = 'write "verb [target] [using template]", e.g. "notify borrower using letter"'
_PAIR_HINT = "write - [restructure borrower, refer legal]"
_YAML_HINTS = {
    "found character '\\t'": "indent with spaces; YAML does not allow tabs here",
    "mapping values are not allowed": "quote a value that contains ': ', or fix the indentation",
    "could not find expected ':'": "check for a missing colon or an unclosed quote",
    "expected ',' or": "close every { and [ that was opened, and separate items with commas",
    "expected a single document": "keep one document per schema file: remove the extra '---'",
    "found undefined alias": "define the anchor (&name) before using it as *name",
    "is not allowed": "delete the invisible control character (often pasted in by accident)",
}

Value = bool | int | Decimal | str
T = TypeVar("T")
Fields = dict[str, tuple[Node, Node]]   # key text -> (key node, value node), in file order


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
    hint = next((h for key, h in _YAML_HINTS.items() if key in problem),
                "check the indentation, colons and quotes at this point")
    return diagnostic("E402", source.span(index, end), f"the schema is not valid YAML: {problem}",
                      hint, file=source.name)


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean` hint naming the closest choice, if one is close."""
    choices = list(choices)
    folded = [c for c in choices if c.lower() == word.lower()]
    close = folded or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else None


def _usable(text: str) -> bool:
    """A name a policy can write: an identifier that is not a keyword."""
    return bool(_IDENT.fullmatch(text)) and text not in KEYWORDS


def _name_hint(text: str | None) -> str:
    if text in KEYWORDS:
        return f'"{text}" is a word of the policy language; choose another name'
    return _NAME_HINT


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    return "nothing" if node.tag == _NULL_TAG else f'"{node.value}"'


def _text(node: Node) -> str | None:
    """The text of a scalar that is not null; None for lists, mappings and nulls."""
    if isinstance(node, ScalarNode) and node.tag != _NULL_TAG:
        return str(node.value)
    return None


def _parse_number(node: Node, ftype: FactType) -> int | Decimal | None:
    """An exact number of `ftype` from the scalar's text (never via float); whole numbers
    must be plain, decimals may also be quoted ("0.10")."""
    text = _text(node)
    if text is None:
        return None
    if ftype in WHOLE:
        return int(text) if node.style is None and _INT.fullmatch(text) else None
    return Decimal(text) if _DEC.fullmatch(text) else None


def _expected(ftype: FactType, values: tuple[str, ...] = ()) -> str:
    if ftype in WHOLE:
        return "a whole number"
    if ftype in NUMERIC:
        return "a decimal number such as 0.10"
    if ftype is FactType.ENUM:
        return "one of the values " + ", ".join(values)
    return "true or false" if ftype is FactType.BOOL else "text"


def _number_hint(node: Node, ftype: FactType) -> str:
    text = _text(node) or ""
    unit = _WITH_UNIT.fullmatch(text)
    if unit:
        return f"write the number alone ({unit.group(1)}); the fact's type gives the unit"
    if ftype in WHOLE and _DEC.fullmatch(text):
        return f"{ftype.value} facts take whole numbers: leave out the fraction and quotes"
    return f"write {_expected(ftype)}"


class _Checker:
    """Walks the composed YAML once, collecting diagnostics; one method per schema part."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.fact_types: dict[str, FactType | None] = {}   # every declared fact, broken ones too
        self.verbs: set[str] = set()                        # every declared verb, broken ones too
        self.catalogue: dict[str, ActionDef] = {}   # actions whose targets and templates parse
        self.histories: dict[str, Node] = {}

    def span(self, node: Node) -> Span:
        """The node's span, without the line breaks and comment lines a block collection
        ends with (its end mark is where the next token starts)."""
        start, end = node.start_mark.index, node.end_mark.index
        lines = self.source.text[start:end].rstrip().split("\n")
        while len(lines) > 1 and lines[-1].lstrip().startswith("#"):
            lines.pop()
        return self.source.span(start, start + len("\n".join(lines).rstrip()))

    def error(self, code: str, where: Node | Span, message: str, hint: str | None = None,
              labels: Iterable[Label] = ()) -> None:
        span = where if isinstance(where, Span) else self.span(where)
        self.diagnostics.append(diagnostic(code, span, message, hint, labels=labels,
                                           file=self.source.name))

    def twice(self, node: Node, first: Node, message: str) -> None:
        self.error("E503", node, message, "remove one of the two",
                   [Label(self.span(first), "first declared here")])

    def pairs(self, node: MappingNode, subject: str, code: str) -> Fields:
        """The mapping's entries in file order; a key given twice is E503 (the first is kept)."""
        seen: Fields = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.error(code, key, "a key must be a plain name, not a list or a mapping",
                           "write the key as a plain name")
            elif key.value in seen:
                what = subject.replace("{}", key.value, 1)
                self.twice(key, seen[key.value][0], f"{what} is declared twice")
            else:
                seen[key.value] = (key, value)
        return seen

    def check_keys(self, fields: Fields, allowed: Iterable[str], owner: str, code: str) -> None:
        allowed = tuple(allowed)
        for name, (key, _) in fields.items():
            if name not in allowed:
                self.error(code, key, f'{owner} has an unknown key "{name}"',
                           _suggest(name, allowed) or "the keys allowed are " + ", ".join(allowed))

    def check_name(self, key: Node, what: str, code: str) -> bool:
        if _usable(key.value):
            return True
        self.error(code, key, f'{what} name "{key.value}" is not a name a policy can use',
                   _name_hint(key.value))
        return False

    def text_field(self, fields: Fields, key: str, owner: str, code: str) -> str | None:
        if key not in fields:
            return None
        node = fields[key][1]
        if _text(node) is None:
            self.error(code, node, f"the {key} of {owner} must be text, found {_describe(node)}",
                       f'write {key}: "..." or remove it')
        return _text(node)

    def names(self, node: Node, what: str, code: str, *, required: bool) -> tuple[str, ...]:
        """A list of distinct identifiers; malformed is `code`, a repeated name E503."""
        if not isinstance(node, SequenceNode) or (required and not node.value):
            size = "a non-empty list" if required else "a list"
            self.error(code, node, f"{what} must be {size} of names, found {_describe(node)}",
                       "write them as [first, second]")
            return ()
        seen: dict[str, Node] = {}
        for item in node.value:
            text = _text(item)
            if text is None or not _usable(text):
                self.error(code, item, f"{what} hold {_describe(item)}, which is not a name",
                           _name_hint(text))
            elif text in seen:
                self.twice(item, seen[text], f'"{text}" is declared twice in {what}')
            else:
                seen[text] = item
        return tuple(seen)

    def word_span(self, node: Node, offset: int, word: str) -> Span:
        """The span of one word inside a scalar (the whole scalar if it has escapes)."""
        start, end = node.start_mark.index, node.end_mark.index
        raw = self.source.text[start:end]
        if node.style in ('"', "'") and raw[1:-1] == node.value:
            start += 1
        elif node.style is not None or raw != node.value:
            return self.span(node)
        return self.source.span(start + offset, start + offset + len(word))

    def check_root(self, root: Node | None) -> Schema | None:
        """Facts come first (requires needs their types), then actions (patterns need them)."""
        if root is None:
            self.error("E411", NO_SPAN, "the schema file is empty",
                       'write a "facts:" and an "actions:" section')
            return None
        if not isinstance(root, MappingNode):
            self.error("E411", root, "the schema must be a mapping with facts, actions and "
                       f"(optionally) exclusive, found {_describe(root)}", 'start with "facts:"')
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
                       f"found {_describe(node)}", f"write one {name[:-1]} per line under it")
            return None
        return node

    def entries(self, node: MappingNode, what: str, code: str,
                check: Callable[[str, Node, Node], T | None]) -> dict[str, T]:
        """The valid entries of the facts or actions section, each checked by `check`."""
        found: dict[str, T] = {}
        for name, (key, value) in self.pairs(node, f'{what} "{{}}"', code).items():
            good_name = self.check_name(key, what, code)
            entry = check(name, key, value)   # checked even under a bad name: report it all
            if good_name and entry is not None:
                found[name] = entry
        return found

    def required(self, fields: Fields, key: str, owner: str, where: Node, *, code: str,
                 hint: str) -> Node | None:
        """The value of a key an entry must have; its absence is `code` at `where`."""
        if key not in fields:
            self.error(code, where, f"{owner} has no {key}", hint)
            return None
        return fields[key][1]

    def check_fact(self, name: str, key: Node, node: Node) -> FactDef | None:
        owner = f'fact "{name}"'
        self.fact_types[name] = None
        if not isinstance(node, MappingNode):
            self.error("E408", node, f"{owner} must be a mapping such as {{type: bool}}, "
                       f"found {_describe(node)}", "write {type: ...} after the name")
            return None
        before = len(self.diagnostics)
        fields = self.pairs(node, f'key "{{}}" of {owner}', "E408")
        self.check_keys(fields, FACT_KEYS, owner, "E408")
        label, doc = (self.text_field(fields, k, owner, "E408") for k in ("label", "doc"))
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
                       currency=currency, values=values, label=label, doc=doc,
                       span=self.span(key))

    def fact_type(self, owner: str, key: Node, fields: Fields) -> FactType | None:
        node = self.required(fields, "type", owner, key, code="E408",
                             hint="add type: with one of " + ", ".join(TYPE_NAMES))
        if node is None:
            return None
        text = _text(node) or ""
        if text in TYPE_NAMES:
            return FactType(text)
        self.error("E403", node, f"{owner} has the unknown type {_describe(node)}",
                   _suggest(text, TYPE_NAMES) or "use one of " + ", ".join(TYPE_NAMES))
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
        number = _parse_number(node, ftype)
        if number is None:
            self.error("E404", node, f"{owner} has {key} {_describe(node)}, which is not "
                       f"{_expected(ftype)}", _number_hint(node, ftype))
        return number

    def currency(self, owner: str, key: Node, fields: Fields) -> str | None:
        node = self.required(fields, "currency", owner, key, code="E408",
                             hint="add currency: with a three-letter ISO 4217 code such as CNY")
        text = None if node is None else _text(node)
        if node is not None and (text is None or not _CURRENCY.fullmatch(text)):
            self.error("E408", node, f"{owner} has currency {_describe(node)}, which is not a "
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
            self.error("E409", node, f"{owner} has default {_describe(node)}, which is not "
                       f"{_expected(ftype, values)}", hint or f"write {_expected(ftype, values)}")
        elif ftype is FactType.ENUM and values and value not in values:
            self.error("E409", node, f'{owner} has default "{value}", which is not one of its '
                       "values " + ", ".join(values),
                       _suggest(str(value), values) or "add it to the values, or choose another")
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
            return _parse_number(node, ftype)
        text = _text(node)
        if text is None or ftype is FactType.ENUM:
            return text
        if ftype is FactType.BOOL:
            return _BOOL_TEXT[text.lower()] if node.tag == _BOOL_TAG else None
        return text if node.tag == _STR_TAG else None

    def check_action(self, verb: str, key: Node, node: Node) -> ActionDef | None:
        owner = f'action "{verb}"'
        self.verbs.add(verb)
        if not isinstance(node, MappingNode):
            self.error("E410", node, f"{owner} must be a mapping such as {{targets: [borrower],"
                       f" stage: 1}}, found {_describe(node)}", "write {targets: [...], stage: N}")
            return None
        before = len(self.diagnostics)
        fields = self.pairs(node, f'key "{{}}" of {owner}', "E410")
        self.check_keys(fields, ACTION_KEYS, owner, "E408")
        lists_at = len(self.diagnostics)
        found = self.required(fields, "targets", owner, key, code="E410",
                              hint="add targets: [borrower]")
        targets = () if found is None else self.names(found, f"the targets of {owner}", "E410",
                                                      required=True)
        templates = self.names(fields["templates"][1], f"the templates of {owner}", "E410",
                               required=False) if "templates" in fields else ()
        lists_ok = len(self.diagnostics) == lists_at
        stage = self.stage(owner, key, fields)
        requires = self.requires(owner, fields, targets)
        channel, label, doc = (self.text_field(fields, k, owner, "E410")
                               for k in ("channel", "label", "doc"))
        action = ActionDef(verb=verb, targets=targets, stage=stage or 0, templates=templates,
                           channel=channel, requires=requires, label=label, doc=doc,
                           span=self.span(key))
        if lists_ok:   # patterns are checked against it even when other keys are wrong
            self.catalogue[verb] = action
        return action if len(self.diagnostics) == before and stage is not None else None

    def stage(self, owner: str, key: Node, fields: Fields) -> int | None:
        node = self.required(fields, "stage", owner, key, code="E410",
                             hint="add stage: a whole number, 0 or more (gentle actions lowest)")
        stage = None if node is None else _parse_number(node, FactType.INT)
        if node is not None and (stage is None or stage < 0):
            self.error("E410", node, f"the stage of {owner} must be a whole number, 0 or more, "
                       f"found {_describe(node)}", "write stage: 1")
        return None if stage is None or stage < 0 else int(stage)

    def requires(self, owner: str, fields: Fields, targets: tuple[str, ...]) -> dict[str, str]:
        if "requires" not in fields:
            return {}
        node = fields["requires"][1]
        if not isinstance(node, MappingNode):
            self.error("E410", node, f"requires of {owner} must map targets to bool facts, "
                       f"found {_describe(node)}", "write requires: {guarantor: has_guarantor}")
            return {}
        found: dict[str, str] = {}
        for target, (key, value) in self.pairs(node, f'requires "{{}}" of {owner}', "E410").items():
            if targets and target not in targets:
                self.error("E410", key, f'{owner} requires a fact for "{target}", which is not '
                           "one of its targets " + ", ".join(targets), _suggest(target, targets))
            fact = self.bool_fact(owner, value)
            if fact is not None:
                found[target] = fact
        return found

    def bool_fact(self, owner: str, node: Node) -> str | None:
        fact = _text(node)
        bools = [n for n, t in self.fact_types.items() if t is FactType.BOOL]
        if fact is None or fact not in self.fact_types:
            self.error("E406", node, f"{owner} requires {_describe(node)}, which is not a fact",
                       _suggest(fact or "", bools or self.fact_types)
                       or "declare it under facts with type: bool")
            return None
        ftype = self.fact_types[fact]   # None: the fact is broken and reported already
        if ftype is not None and ftype is not FactType.BOOL:
            self.error("E406", node, f'{owner} requires fact "{fact}", which is {ftype.value}, '
                       "not bool", _suggest(fact, bools) or "name a bool fact")
        return fact

    def pattern(self, node: Node, owner: str, codes: tuple[str, str]) -> ActionPattern | None:
        """An action pattern naming catalogue entries; codes are (malformed, unknown)."""
        words = list(_WORD.finditer(_text(node) or ""))
        shape = tuple(w.group() == "using" for w in words)
        where = PATTERN_SHAPES.get(shape)
        if where is None or not all(_IDENT.fullmatch(w.group()) for w in words):
            self.error(codes[0], node, f"{owner}: {_describe(node)} is not an action pattern",
                       _PATTERN_HINT)
            return None
        verb = words[0].group()
        target, using = (None if i is None else words[i].group() for i in where[1:])
        spans = [None if i is None else self.word_span(node, words[i].start(), words[i].group())
                 for i in where]
        action = self.catalogue.get(verb)
        if action is None:
            if verb not in self.verbs:   # a declared but broken verb is reported already
                self.error(codes[1], spans[0], f'{owner}: "{verb}" is not an action of the '
                           "catalogue", _suggest(verb, self.verbs) or "declare it under actions")
        elif target is not None and target not in action.targets:
            self.error(codes[1], spans[1], f'{owner}: action "{verb}" has no target "{target}";'
                       " its targets are " + ", ".join(action.targets),
                       _suggest(target, action.targets) or f'add it to the targets of "{verb}"')
        elif using is not None and using not in action.templates:
            self.error(codes[1], spans[2], f'{owner}: action "{verb}" has no template "{using}";'
                       " its templates are " + (", ".join(action.templates) or "none"),
                       _suggest(using, action.templates) or f'add it to the templates of "{verb}"')
        else:
            return ActionPattern(verb, target, using)
        return None

    def add_histories(self, facts: dict[str, FactDef]) -> dict[str, FactDef]:
        for name, node in self.histories.items():
            spec = self.history(name, node, self.fact_types.get(name))
            if spec is not None and name in facts:
                facts[name] = attrs.evolve(facts[name], history=spec)
        return facts

    def history(self, name: str, node: Node, ftype: FactType | None) -> HistorySpec | None:
        owner = f'the history of fact "{name}"'
        if not isinstance(node, MappingNode):
            self.error("E408", node, f"{owner} must be a mapping such as "
                       f'{{ever: "notify guarantor"}}, found {_describe(node)}',
                       "write one of days_since, count or ever with an action pattern")
            return None
        fields = self.pairs(node, f'key "{{}}" of {owner}', "E408")
        self.check_keys(fields, (*HISTORY_KINDS, "within"), owner, "E408")
        kinds = [k for k in fields if k in HISTORY_KINDS]
        if len(kinds) != 1:
            self.error("E408", node, f"{owner} must have exactly one of days_since, count or "
                       f"ever; found {' and '.join(kinds) or 'none'}", "keep exactly one")
            return None
        kind, before = kinds[0], len(self.diagnostics)
        within = self.within(owner, kind, fields)
        pattern = self.pattern(fields[kind][1], owner, ("E408", "E410"))
        wanted = HISTORY_KINDS[kind]
        if ftype is not None and ftype is not wanted:
            self.error("E408", fields[kind][0], f'history "{kind}" gives a {wanted.value} value,'
                       f' but fact "{name}" is {ftype.value}', f"make it type: {wanted.value}")
        if pattern is None or len(self.diagnostics) > before:
            return None
        return HistorySpec(kind=kind, pattern=pattern, within_days=within)

    def within(self, owner: str, kind: str, fields: Fields) -> int | None:
        if kind != "count":
            if "within" in fields:
                self.error("E408", fields["within"][0], f'{owner}: "within" only goes with '
                           "count", 'remove "within"')
            return None
        node = self.required(fields, "within", owner, fields[kind][0], code="E408",
                             hint="count needs it: add within: 7 days")
        if node is None:
            return None
        match = _WITHIN.fullmatch(_text(node) or "")
        if match is None or int(match.group(1)) < 1:
            self.error("E408", node, f"{owner}: within must be a number of days, 1 or more, "
                       f"found {_describe(node)}", "write within: 7 days")
            return None
        return int(match.group(1))

    def check_exclusive(self, node: Node) -> tuple[tuple[ActionPattern, ActionPattern], ...]:
        if not isinstance(node, SequenceNode):
            self.error("E411", node, '"exclusive" must be a list of pairs, found '
                       f"{_describe(node)}", _PAIR_HINT)
            return ()
        pairs: list[tuple[ActionPattern, ActionPattern]] = []
        for item in node.value:
            if not isinstance(item, SequenceNode) or len(item.value) != 2:
                found = f"a list of {len(item.value)}" if isinstance(item, SequenceNode) else \
                    _describe(item)
                self.error("E407", item, "an exclusive pair must be a list of exactly two "
                           f"actions, found {found}", _PAIR_HINT)
                continue
            first, second = (self.pattern(p, "exclusive pair", ("E407", "E407"))
                             for p in item.value)
            if first is not None and first == second:
                self.error("E407", item, f'the exclusive pair names "{first}" twice; an action '
                           "cannot exclude itself", "name two different actions")
            elif first is not None and second is not None:
                pairs.append((first, second))
        return tuple(pairs)
