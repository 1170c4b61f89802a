"""Schema catalogue checks: actions, action patterns, history and exclusive pairs.

Stage: part of schema loading (`schema.py`), after the facts (a `requires`
or a history needs their types). Input: the YAML nodes of the `actions` and
`exclusive` sections and of each fact's `history`. Output: `ActionDef`s,
`ActionPattern`s, `HistorySpec`s and diagnostics with spans.
Must not: raise on user error; accept a pattern naming no catalogue entry.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
from yaml.nodes import MappingNode, Node, SequenceNode

from policylang.schema_model import ActionDef, ActionPattern, FactDef, FactType, HistorySpec
from policylang.schema_nodes import (
    ACTION_KEYS,
    HISTORY_KINDS,
    IDENT,
    PAIR_HINT,
    PATTERN_HINT,
    PATTERN_SHAPES,
    WITHIN_RE,
    WORD_RE,
    Fields,
    NodeChecks,
    describe,
    parse_number,
    suggest,
    text_of,
)


class CatalogueChecks(NodeChecks):
    """The checks of the action catalogue and of everything that names its actions."""

    def check_action(self, verb: str, key: Node, node: Node) -> ActionDef | None:
        owner = f'action "{verb}"'
        self.verbs.add(verb)
        if not isinstance(node, MappingNode):
            self.error("E410", node, f"{owner} must be a mapping such as {{targets: [borrower],"
                       f" stage: 1}}, found {describe(node)}", "write {targets: [...], stage: N}")
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
        cost = self.cost(owner, fields)
        signed = self.signed_demand(owner, fields, targets, templates) if lists_ok else {}
        channel, label, label_en, doc = (self.text_field(fields, k, owner, "E410")
                                         for k in ("channel", "label", "label_en", "doc"))
        action = ActionDef(verb=verb, targets=targets, stage=stage or 0, templates=templates,
                           channel=channel, requires=requires, cost=cost, label=label,
                           label_en=label_en, doc=doc, signed_demand=signed,
                           span=self.span(key))
        if lists_ok:   # patterns are checked against it even when other keys are wrong
            self.catalogue[verb] = action
        return action if len(self.diagnostics) == before and stage is not None else None

    def stage(self, owner: str, key: Node, fields: Fields) -> int | None:
        node = self.required(fields, "stage", owner, key, code="E410",
                             hint="add stage: a whole number, 0 or more (gentle actions lowest)")
        stage = None if node is None else parse_number(node, FactType.INT)
        if node is not None and (stage is None or stage < 0):
            self.error("E410", node, f"the stage of {owner} must be a whole number, 0 or more, "
                       f"found {describe(node)}", "write stage: 1")
        return None if stage is None or stage < 0 else int(stage)

    def cost(self, owner: str, fields: Fields) -> Decimal | None:
        """`cost: 2.50`: money in the schema's currency per action, exact, 0 or more."""
        if "cost" not in fields:
            return None
        node = fields["cost"][1]
        cost = parse_number(node, FactType.MONEY)
        if cost is None or cost < 0 or not cost.is_finite():
            self.error("E410", node, f"the cost of {owner} must be an amount of money, 0 or more, "
                       f"in the schema's currency, found {describe(node)}",
                       "write a plain number such as cost: 2.50; the currency is the schema's")
            return None
        return Decimal(cost)

    def requires(self, owner: str, fields: Fields, targets: tuple[str, ...]) -> dict[str, str]:
        if "requires" not in fields:
            return {}
        node = fields["requires"][1]
        if not isinstance(node, MappingNode):
            self.error("E410", node, f"requires of {owner} must map targets to bool facts, "
                       f"found {describe(node)}", "write requires: {guarantor: has_guarantor}")
            return {}
        found: dict[str, str] = {}
        for target, (key, value) in self.pairs(node, f'requires "{{}}" of {owner}', "E410").items():
            if targets and target not in targets:
                self.error("E410", key, f'{owner} requires a fact for "{target}", which is not '
                           "one of its targets " + ", ".join(targets), suggest(target, targets))
            fact = self.bool_fact(owner, value)
            if fact is not None:
                found[target] = fact
        return found

    def signed_demand(self, owner: str, fields: Fields, targets: tuple[str, ...],
                      templates: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """`signed_demand: {borrower: [overdue_notice], guarantor: [guarantor_demand]}`:
        per target, the templates whose notice is a signed, dated written demand (the
        simulation's deadline facts count them; docs/deadlines.md)."""
        if "signed_demand" not in fields:
            return {}
        node = fields["signed_demand"][1]
        hint = "write signed_demand: {borrower: [overdue_notice]}"
        if not isinstance(node, MappingNode) or not node.value:
            self.error("E410", node, f"signed_demand of {owner} must map targets to lists of "
                       f"its templates, found {describe(node)}", hint)
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for target, (key, value) in self.pairs(
                node, f'signed_demand "{{}}" of {owner}', "E410").items():
            if target not in targets:
                self.error("E410", key, f'signed_demand of {owner} names "{target}", which is '
                           "not one of its targets " + ", ".join(targets),
                           suggest(target, targets))
                continue
            names = self.names(value, f'the signed_demand templates of {owner} for "{target}"',
                               "E410", required=True)
            unknown = [name for name in names if name not in templates]
            for name in unknown:
                item = next(i for i in value.value if text_of(i) == name)
                self.error("E410", item, f'signed_demand of {owner} names template "{name}", '
                           "which is not one of its templates",
                           suggest(name, templates) or "add it to templates first")
            if names and not unknown:
                found[target] = names
        return found

    def bool_fact(self, owner: str, node: Node) -> str | None:
        fact = text_of(node)
        bools = [n for n, t in self.fact_types.items() if t is FactType.BOOL]
        if fact is None or fact not in self.fact_types:
            self.error("E406", node, f"{owner} requires {describe(node)}, which is not a fact",
                       suggest(fact or "", bools or self.fact_types)
                       or "declare it under facts with type: bool")
            return None
        ftype = self.fact_types[fact]   # None: the fact is broken and reported already
        if ftype is not None and ftype is not FactType.BOOL:
            self.error("E406", node, f'{owner} requires fact "{fact}", which is {ftype.value}, '
                       "not bool", suggest(fact, bools) or "name a bool fact")
        return fact

    def pattern(self, node: Node, owner: str, codes: tuple[str, str]) -> ActionPattern | None:
        """An action pattern naming catalogue entries; codes are (malformed, unknown)."""
        words = list(WORD_RE.finditer(text_of(node) or ""))
        shape = tuple(w.group() == "using" for w in words)
        where = PATTERN_SHAPES.get(shape)
        if where is None or not all(IDENT.fullmatch(w.group()) for w in words):
            self.error(codes[0], node, f"{owner}: {describe(node)} is not an action pattern",
                       PATTERN_HINT)
            return None
        verb = words[0].group()
        target, using = (None if i is None else words[i].group() for i in where[1:])
        spans = [None if i is None else self.word_span(node, words[i].start(), words[i].group())
                 for i in where]
        action = self.catalogue.get(verb)
        if action is None:
            if verb not in self.verbs:   # a declared but broken verb is reported already
                self.error(codes[1], spans[0], f'{owner}: "{verb}" is not an action of the '
                           "catalogue", suggest(verb, self.verbs) or "declare it under actions")
        elif target is not None and target not in action.targets:
            self.error(codes[1], spans[1], f'{owner}: action "{verb}" has no target "{target}";'
                       " its targets are " + ", ".join(action.targets),
                       suggest(target, action.targets) or f'add it to the targets of "{verb}"')
        elif using is not None and using not in action.templates:
            self.error(codes[1], spans[2], f'{owner}: action "{verb}" has no template "{using}";'
                       " its templates are " + (", ".join(action.templates) or "none"),
                       suggest(using, action.templates) or f'add it to the templates of "{verb}"')
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
                       f'{{ever: "notify guarantor"}}, found {describe(node)}',
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
        match = WITHIN_RE.fullmatch(text_of(node) or "")
        if match is None or int(match.group(1)) < 1:
            self.error("E408", node, f"{owner}: within must be a number of days, 1 or more, "
                       f"found {describe(node)}", "write within: 7 days")
            return None
        return int(match.group(1))

    def check_exclusive(self, node: Node) -> tuple[tuple[ActionPattern, ActionPattern], ...]:
        if not isinstance(node, SequenceNode):
            self.error("E411", node, '"exclusive" must be a list of pairs, found '
                       f"{describe(node)}", PAIR_HINT)
            return ()
        pairs: list[tuple[ActionPattern, ActionPattern]] = []
        for item in node.value:
            if not isinstance(item, SequenceNode) or len(item.value) != 2:
                found = f"a list of {len(item.value)}" if isinstance(item, SequenceNode) else \
                    describe(item)
                self.error("E407", item, "an exclusive pair must be a list of exactly two "
                           f"actions, found {found}", PAIR_HINT)
                continue
            first, second = (self.pattern(p, "exclusive pair", ("E407", "E407"))
                             for p in item.value)
            if first is not None and first == second:
                self.error("E407", item, f'the exclusive pair names "{first}" twice; an action '
                           "cannot exclude itself", "name two different actions")
            elif first is not None and second is not None:
                pairs.append((first, second))
        return tuple(pairs)
