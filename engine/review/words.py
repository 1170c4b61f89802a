"""Plain words: conditions, actions and facts as a reviewer reads them, in zh or en.

Stage: part of the review document. Input: AST nodes of a checked policy and its
schema. Output: text. A fact appears under its schema label in the document's
language: `label` in Chinese, `label_en` in English (`overdue` -> 逾期天数, "days
overdue"). Without that label it appears by its name with spaces for underscores
(`days_to_limitation` -> "days to limitation"), never under the other language's label:
the name is what the policy's text says, so the reader can still find it there, and
an English reader may not read the Chinese label. (The schema's `doc` is a sentence,
not a name: the facts list shows it beside the fact.) Lets and params appear by their
names (the review lists what each stands for). An action: the verb's label in the
document's language before the exact `verb target using template` words
(`电话催收（call borrower using repayment_reminder）`, "phone call (call borrower using
repayment_reminder)"), the words alone when the verb has no such label. The ladder
chart's y axis puts the label over the words (`chart_action_words`).
Must not: evaluate anything, or change the meaning: every operator is rendered, and
parentheses are kept where the policy's text has them.
"""

from __future__ import annotations

from policylang import nodes
from policylang.checked import CheckedPolicy, NameKind
from policylang.printer import action_text, literal_text
from policylang.schema_model import ActionDef, FactDef, Schema

LANGS = ("zh", "en")
_OPS = {
    "zh": {"==": "为", "!=": "不为", "<": "<", "<=": "≤", ">": ">", ">=": "≥"},
    "en": {"==": "is", "!=": "is not", "<": "<", "<=": "≤", ">": ">", ">=": "≥"},
}
_WORDS = {
    "zh": {"and": "且", "or": "或", "not": "非", "between": "介于 {} 与 {} 之间",
           "in": "属于 {}", "not in": "不属于 {}", "day": "天", "days": "天", "week": "周",
           "weeks": "周"},
    "en": {"and": "and", "or": "or", "not": "not", "between": "between {} and {}",
           "in": "is one of {}", "not in": "is none of {}", "day": "day", "days": "days",
           "week": "week", "weeks": "weeks"},
}


def label_in(definition: FactDef | ActionDef | None, lang: str) -> str | None:
    """The schema label of a fact or verb in `lang` (`label` zh, `label_en` en), or None."""
    if definition is None:
        return None
    return (definition.label if lang == "zh" else definition.label_en) or None


def fact_words(schema: Schema, name: str, lang: str) -> str:
    """A fact's name for a reader: its label in `lang`, else its name with spaces."""
    return label_in(schema.facts.get(name), lang) or name.replace("_", " ")


def action_words(schema: Schema, action: nodes.ActionItem, lang: str) -> str:
    """`电话催收（call borrower using overdue_consequences）` (zh), `phone call (call
    borrower using overdue_consequences)` (en), or the words alone without a label."""
    return action_string_words(schema, action_text(action), lang)


def action_string_words(schema: Schema, words: str, lang: str) -> str:
    """The same for an action already in `verb target [using template]` form."""
    label = _verb_label(schema, words, lang)
    if label is None:
        return words
    return f"{label}（{words}）" if lang == "zh" else f"{label} ({words})"


def chart_action_words(schema: Schema, words: str, lang: str) -> str:
    """The ladder chart's y label: the verb's label in `lang` over the exact words, on two
    lines (`电话催收` / `call borrower using repayment_reminder`), so the axis is no wider
    than the words and two templates of a verb never look alike; the words alone
    without a label."""
    label = _verb_label(schema, words, lang)
    return words if label is None else f"{label}\n{words}"


def _verb_label(schema: Schema, words: str, lang: str) -> str | None:
    """The label in `lang` of the verb that `verb target [using template]` starts with."""
    return label_in(schema.actions.get(words.split(" ", 1)[0]), lang)


class Phrases:
    """Renders the expressions of one checked policy in one language."""

    def __init__(self, checked: CheckedPolicy, lang: str) -> None:
        self.checked, self.lang = checked, lang
        self.words = _WORDS[lang]

    def condition(self, expr: nodes.Expr) -> str:
        return self._text(expr, top=True)

    def _text(self, expr: nodes.Expr, *, top: bool = False) -> str:
        words = self.words
        match expr:
            case nodes.Or(operands=ops):
                return self._group(f" {words['or']} ".join(self._text(o) for o in ops), top)
            case nodes.And(operands=ops):
                return self._group(f" {words['and']} ".join(self._text(o) for o in ops), top)
            case nodes.Not(operand=operand):
                return f"{words['not']} {self._text(operand)}"
            case nodes.Compare(op=op, left=left, right=right):
                return f"{self._text(left)} {_OPS[self.lang][op.value]} {self._text(right)}"
            case nodes.Between(subject=subject, low=low, high=high):
                return f"{self._text(subject)} " + words["between"].format(
                    self._text(low), self._text(high))
            case nodes.InSet(subject=subject, items=items, negated=negated):
                body = "{" + ", ".join(self._text(i) for i in items) + "}"
                return f"{self._text(subject)} " + words["not in" if negated else "in"].format(body)
            case nodes.Arith(op=op, left=left, right=right):
                return f"({self._text(left)} {op.value} {self._text(right)})"
            case nodes.Negate(operand=operand):
                return f"-{self._text(operand)}"
            case nodes.Name(text=text):
                return self._name(expr, text)
            case nodes.Duration(amount=amount, unit=unit):
                plural = unit.value + ("" if abs(amount) == 1 else "s")
                return f"{literal_text(nodes.Number(value=amount))} {words[plural]}"
        return literal_text(expr)

    def _name(self, expr: nodes.Name, text: str) -> str:
        resolution = self.checked.names.get(id(expr))
        if resolution is not None and resolution.kind is NameKind.FACT:
            return fact_words(self.checked.schema, resolution.name, self.lang)
        return text

    @staticmethod
    def _group(text: str, top: bool) -> str:
        return text if top else f"({text})"
