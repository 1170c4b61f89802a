"""Schema YAML nodes: the shared vocabulary of the schema checker.

Stage: part of schema loading (`schema.py`). Input: composed YAML nodes and
the source text. Output: spans, diagnostics and plain values read off nodes
(names, texts, numbers from their scalar text), for the fact checks in
`schema.py` and the catalogue checks in `schema_catalogue.py`.
Must not: know what a fact or an action means; read numbers through float.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policylang.diagnostics import Diagnostic, Label, diagnostic
from policylang.keywords import KEYWORDS
from policylang.schema_model import ActionDef, FactType
from policylang.source import SourceFile, Span
from policylang.suggest import closest

TOP_KEYS = ("facts", "actions", "exclusive")
FACT_KEYS = ("type", "min", "max", "default", "currency", "values", "label", "label_en", "doc",
             "history")
ACTION_KEYS = ("targets", "stage", "templates", "channel", "requires", "cost", "label",
               "label_en", "doc", "signed_demand")
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

IDENT = re.compile(r"[^\W\d]\w*")
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DEC = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_WITH_UNIT = re.compile(r"([-+]?[0-9.]+)\s*[^\W\d]+")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
WITHIN_RE = re.compile(r"([0-9]+)\s*(days?)?")
WORD_RE = re.compile(r"\S+")
NULL_TAG, STR_TAG, BOOL_TAG = (f"tag:yaml.org,2002:{t}" for t in ("null", "str", "bool"))
BOOL_TEXT = yaml.constructor.SafeConstructor.bool_values
_NAME_HINT = "use letters, digits and _, starting with a letter (Chinese letters are fine)"
PATTERN_HINT = 'write "verb [target] [using template]", e.g. "notify borrower using letter"'
PAIR_HINT = "write - [restructure borrower, refer legal]"
YAML_HINTS = {
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


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """A `did you mean` hint naming the closest choice (quoted, as YAML names are)."""
    best = closest(word, choices)
    return f'did you mean "{best}"?' if best is not None else None


def _usable(text: str) -> bool:
    """A name a policy can write: an identifier that is not a keyword."""
    return bool(IDENT.fullmatch(text)) and text not in KEYWORDS


def _name_hint(text: str | None) -> str:
    if text in KEYWORDS:
        return f'"{text}" is a word of the policy language; choose another name'
    return _NAME_HINT


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    return "nothing" if node.tag == NULL_TAG else f'"{node.value}"'


def text_of(node: Node) -> str | None:
    """The text of a scalar that is not null; None for lists, mappings and nulls."""
    if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
        return str(node.value)
    return None


def parse_number(node: Node, ftype: FactType) -> int | Decimal | None:
    """An exact number of `ftype` from the scalar's text (never via float); whole numbers
    must be plain, decimals may also be quoted ("0.10")."""
    text = text_of(node)
    if text is None:
        return None
    if ftype in WHOLE:
        return int(text) if node.style is None and _INT.fullmatch(text) else None
    return Decimal(text) if _DEC.fullmatch(text) else None


def expected_words(ftype: FactType, values: tuple[str, ...] = ()) -> str:
    if ftype in WHOLE:
        return "a whole number"
    if ftype in NUMERIC:
        return "a decimal number such as 0.10"
    if ftype is FactType.ENUM:
        return "one of the values " + ", ".join(values)
    return "true or false" if ftype is FactType.BOOL else "text"


def number_hint(node: Node, ftype: FactType) -> str:
    text = text_of(node) or ""
    unit = _WITH_UNIT.fullmatch(text)
    if unit:
        return f"write the number alone ({unit.group(1)}); the fact's type gives the unit"
    if ftype in WHOLE and _DEC.fullmatch(text):
        return f"{ftype.value} facts take whole numbers: leave out the fraction and quotes"
    return f"write {expected_words(ftype)}"


class NodeChecks:
    """Diagnostics and values read off YAML nodes; the base of the schema checker."""

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
                           suggest(name, allowed) or "the keys allowed are " + ", ".join(allowed))

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
        if text_of(node) is None:
            self.error(code, node, f"the {key} of {owner} must be text, found {describe(node)}",
                       f'write {key}: "..." or remove it')
        return text_of(node)

    def names(self, node: Node, what: str, code: str, *, required: bool) -> tuple[str, ...]:
        """A list of distinct identifiers; malformed is `code`, a repeated name E503."""
        if not isinstance(node, SequenceNode) or (required and not node.value):
            size = "a non-empty list" if required else "a list"
            self.error(code, node, f"{what} must be {size} of names, found {describe(node)}",
                       "write them as [first, second]")
            return ()
        seen: dict[str, Node] = {}
        for item in node.value:
            text = text_of(item)
            if text is None or not _usable(text):
                self.error(code, item, f"{what} hold {describe(item)}, which is not a name",
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
