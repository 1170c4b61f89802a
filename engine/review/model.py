"""The review's content: everything the document shows, gathered once, in one language.

Stage: the first step of `policylang doc`. Input: a checked policy (and optionally the
previous version, checked). Output: a `Review` of plain values that the HTML and
Markdown renderers lay out; the two can therefore never disagree on content.
Assertions are proved by the analyser (`analyse`), differences found by `compare`:
the review states only what those proved or refuted, with their witnesses.
Must not: format HTML or Markdown, print, or read files.
"""

from __future__ import annotations

import attrs

from engine.api import compile_checked
from engine.review.texts import text
from engine.review.timeline import Timeline, build_timeline
from engine.review.words import (
    Phrases,
    action_string_words,
    action_words,
    chart_action_words,
    fact_words,
    label_in,
)
from policylang import nodes
from policylang.analysis.diff import compare
from policylang.analysis.findings import analyse
from policylang.analysis.witness import compact
from policylang.checked import CheckedPolicy
from policylang.printer import literal_text

GUARD_GROUP = 0          # the group key of guard rules; stages are 1 and up


@attrs.frozen(slots=True)
class RuleView:
    name: str
    label: str | None
    source: str | None           # the label's closing parenthesis: where the rule comes from
    file: str
    line: int
    priority: int
    final: bool
    condition: str
    actions: tuple[str, ...]


@attrs.frozen(slots=True)
class AssertionView:
    text: str                    # as written in the policy
    words: str                   # in plain words
    status: str                  # "proved" | "refuted" | "undecided"
    message: str | None = None
    witness: str | None = None


@attrs.frozen(slots=True)
class DifferenceView:
    rules: tuple[str, ...]
    witness: str
    old: tuple[str, ...]
    new: tuple[str, ...]


@attrs.frozen(slots=True)
class Review:
    lang: str
    name: str
    title: str | None
    version: str | None
    digest: str
    schema: str
    guards: tuple[tuple[str, str | None], ...]
    params: tuple[tuple[str, str], ...]
    lets: tuple[tuple[str, str], ...]
    facts: tuple[tuple[str, str, str], ...]          # name, words, doc
    groups: tuple[tuple[int, tuple[RuleView, ...]], ...]   # (stage or GUARD_GROUP, rules)
    stages: dict[int, str] = attrs.field(eq=False)   # stage -> the catalogue's verbs in it
    timeline: Timeline
    ladder_labels: dict[str, str] = attrs.field(eq=False)   # action -> its words, labelled
    chart_labels: dict[str, str] = attrs.field(eq=False)    # action -> the chart's y label
    assertions: tuple[AssertionView, ...]
    against: str | None = None
    equivalent: bool | None = None
    differences: tuple[DifferenceView, ...] = ()
    undecided: tuple[str, ...] = ()

    def group_heading(self, stage: int) -> str:
        """The heading of a group of rules: the guards', or a stage with its verbs."""
        if stage == GUARD_GROUP:
            return text(self.lang, "guard_group")
        return text(self.lang, "stage", stage, self.stages.get(stage, ""))


def build_review(checked: CheckedPolicy, *, lang: str, days: int, lead: int,
                 previous: CheckedPolicy | None = None,
                 previous_name: str | None = None) -> Review:
    """The review of `checked` (against `previous` when given)."""
    phrases = Phrases(checked, lang)
    timeline = build_timeline(compile_checked(checked), days=days, lead=lead, lang=lang)
    review = Review(
        lang=lang, name=checked.name, title=checked.title, version=checked.version,
        digest=checked.digest, schema=checked.schema.path,
        guards=tuple((g.name, g.version) for g in checked.guards),
        params=tuple((name, literal_text(info.node.value))
                     for name, info in checked.params.items() if "." not in name),
        lets=tuple((name, phrases.condition(info.node.expr))
                   for name, info in checked.lets.items() if "." not in name),
        facts=_facts(checked, lang),
        groups=_groups(checked, phrases), stages=_stages(checked, lang),
        timeline=timeline,
        ladder_labels={a: action_string_words(checked.schema, a, lang)
                       for a in timeline.actions},
        chart_labels={a: chart_action_words(checked.schema, a, lang) for a in timeline.actions},
        assertions=_assertions(checked, phrases))
    if previous is None:
        return review
    return _with_differences(review, previous, checked, previous_name or previous.name)


def _facts(checked: CheckedPolicy, lang: str) -> tuple[tuple[str, str, str], ...]:
    """The facts the policy reads (its rules, lets and assertions), in schema order."""
    used: set[str] = set()
    for rule in checked.own_rules:
        used.update(checked.facts_used_by(rule))
    for statement in checked.asserts:
        if isinstance(statement, nodes.Assert):
            used.update(checked.facts_used_by(_probe(statement.condition)))
        else:
            used.add(statement.fact.text)
    schema = checked.schema
    return tuple((name, fact_words(schema, name, lang), " ".join((fact.doc or "").split()))
                 for name, fact in schema.facts.items() if name in used)


def _probe(condition: nodes.Expr) -> nodes.Rule:
    return nodes.Rule(name=None, label=None, priority=None, final=False,
                      condition=condition, actions=())


def _groups(checked: CheckedPolicy, phrases: Phrases
            ) -> tuple[tuple[int, tuple[RuleView, ...]], ...]:
    groups: dict[int, list[RuleView]] = {}
    for rule in checked.rules:
        key = GUARD_GROUP if checked.is_guard_rule(rule) else _stage(checked, rule)
        groups.setdefault(key, []).append(_rule_view(checked, rule, phrases))
    return tuple((key, tuple(groups[key])) for key in sorted(groups))


def _stages(checked: CheckedPolicy, lang: str) -> dict[int, str]:
    verbs: dict[int, list[str]] = {}
    for verb, action in checked.schema.actions.items():
        shown = label_in(action, lang) or verb
        verbs.setdefault(action.stage, []).append(shown)
    separator = "、" if lang == "zh" else ", "
    return {stage: separator.join(names) for stage, names in verbs.items()}


def _stage(checked: CheckedPolicy, rule: nodes.Rule) -> int:
    """The highest catalogue stage of the rule's actions (a suppression: its verb's)."""
    actions = checked.schema.actions
    return max((actions[a.verb.text].stage for a in rule.actions if a.verb.text in actions),
               default=1)


def _rule_view(checked: CheckedPolicy, rule: nodes.Rule, phrases: Phrases) -> RuleView:
    label = rule.label
    source_file = checked.source_of(rule).name
    return RuleView(
        name=checked.rule_name(rule), label=label,
        source=label_source(label),
        file=source_file, line=rule.span.line,
        priority=rule.priority or 0, final=rule.final,
        condition=phrases.condition(rule.condition),
        actions=tuple(action_words(checked.schema, a, phrases.lang) for a in rule.actions))


def label_source(label: str | None) -> str | None:
    """The closing parenthesis of a label, where this project writes a rule's source:
    `…（篇4 二(一)2(1)）` -> `篇4 二(一)2(1)`; None when the label does not end in one."""
    text = (label or "").rstrip()
    if not text.endswith(("）", ")")):
        return None
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        depth += {"）": 1, ")": 1, "（": -1, "(": -1}.get(text[index], 0)
        if depth == 0:
            return text[index + 1:-1].strip() or None
    return None


def _assertions(checked: CheckedPolicy, phrases: Phrases) -> tuple[AssertionView, ...]:
    findings = analyse(checked).diagnostics
    views = []
    for statement in checked.asserts:
        span = statement.span
        found = [d for d in findings if d.span.start == span.start and d.span.end == span.end]
        refuted = next((d for d in found if d.code == "E605"), None)
        undecided = next((d for d in found if d.code == "W607"), None)
        text = " ".join(checked.source.text[span.start:span.end].split())
        words = _assertion_words(checked, statement, phrases)
        if refuted is not None:
            views.append(AssertionView(text, words, "refuted", refuted.message,
                                       refuted.witness_text))
        elif undecided is not None:
            views.append(AssertionView(text, words, "undecided", undecided.message))
        else:
            views.append(AssertionView(text, words, "proved"))
    return tuple(views)


def _assertion_words(checked: CheckedPolicy, statement: nodes.Assert | nodes.AssertMonotone,
                     phrases: Phrases) -> str:
    zh = phrases.lang == "zh"
    if isinstance(statement, nodes.AssertMonotone):
        fact = fact_words(checked.schema, statement.fact.text, phrases.lang)
        return (f"{fact}增加时，结果的最高阶段不降低" if zh
                else f"raising {fact} never lowers the highest stage of the result")
    condition = phrases.condition(statement.condition)
    expect = statement.expect
    if isinstance(expect, nodes.ExpectAny):
        outcome = "至少有一个动作" if zh else "some action is taken"
    else:
        action = action_words(checked.schema, expect.action, phrases.lang)
        if expect.action.using is None:
            action += "（任何模板）" if zh else " (any template)"
        outcome = ((f"不得{action}" if zh else f"never {action}") if expect.negated
                   else (f"必有{action}" if zh else f"always {action}"))
    return f"当 {condition} 时，{outcome}" if zh else f"when {condition}: {outcome}"


def _with_differences(review: Review, previous: CheckedPolicy, checked: CheckedPolicy,
                      previous_name: str) -> Review:
    result = compare(previous, checked)
    schema, lang = checked.schema, review.lang
    views = tuple(DifferenceView(
        rules=d.rules, witness=compact(d.witness, schema, ()),
        old=tuple(action_string_words(schema, a, lang) for a in d.old),
        new=tuple(action_string_words(schema, a, lang) for a in d.new))
        for d in result.differences)
    return attrs.evolve(review, against=previous_name, equivalent=result.equivalent,
                        differences=views, undecided=result.undecided)
