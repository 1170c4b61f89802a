"""The review document's fixed words, in Chinese and English.

Stage: part of the review document. Input: a language code. Output: headings and
labels. Both renderers (HTML, Markdown) take every fixed word from here, so the two
always have the same sections, in the same order.
Must not: hold policy content.
"""

from __future__ import annotations

# The sections, in document order: (id, zh, en). `against` only with --against.
SECTIONS = (
    ("metadata", "基本信息", "Metadata"),
    ("params", "参数", "Parameters"),
    ("rules", "规则", "Rules"),
    ("ladder", "催收阶梯：逐日时间线", "The ladder: day by day"),
    ("assertions", "保证（断言）", "Guarantees (assertions)"),
    ("against", "与上一版本的差异", "Differences from the previous version"),
)

_TEXTS = {
    "zh": {
        "title": "策略审阅：{}", "name": "名称", "version": "版本", "digest": "摘要",
        "schema": "模式文件", "guards": "守则", "none": "无", "param": "参数",
        "value": "取值", "definitions": "定义", "facts": "所用事实", "fact": "事实",
        "label": "本文称谓", "doc": "说明", "guard_group": "守则规则（任何策略不得推翻）",
        "stage": "阶段 {}（{}）", "rule": "规则", "when": "条件", "then": "动作",
        "source": "出处", "where": "位置", "priority": "优先级",
        "final": "终止（其后规则不再执行）",
        "day": "距还款日天数（负数：还款日前；正数：逾期天数）", "due": "还款日",
        "days": "日", "action": "动作",
        "ladder_note": "每个典型贷款按模式默认值取值（历史事实为“尚未发生”），第0日为一期还款日，"
                       "此后每30日一期。图中标出每一日决定的动作：即该动作在哪些日子应当执行，"
                       "不是回放历史后实际执行的次数（见 policylang simulate）。",
        "proved": "已证明", "refuted": "不成立", "undecided": "无法判定",
        "status": "状态", "assertion": "断言", "witness": "反例",
        "summary": "{} 条断言：{} 条已证明，{} 条不成立，{} 条无法判定。",
        "equivalent": "两版本对所有贷款的决定完全相同（已证明）。",
        "differs": "两版本对以下贷款的决定不同（{} 个反例）：",
        "old": "旧版本", "new": "新版本", "no_action": "（无动作）",
        "whole": "整体结果", "against_of": "对照：{}",
        "could_not": "无法判定两版本是否相同：{}",
    },
    "en": {
        "title": "Policy review: {}", "name": "name", "version": "version", "digest": "digest",
        "schema": "schema", "guards": "guards", "none": "none", "param": "param",
        "value": "value", "definitions": "Definitions", "facts": "Facts read",
        "fact": "fact", "label": "shown as", "doc": "meaning",
        "guard_group": "Guard rules (no policy can override them)",
        "stage": "Stage {} ({})", "rule": "rule", "when": "when", "then": "then",
        "source": "source", "where": "where", "priority": "priority",
        "final": "final (no rule after it fires)",
        "day": "days from the due date (negative: before it; positive: days overdue)",
        "due": "due date", "days": "day", "action": "action",
        "ladder_note": "Each typical loan has the schema's defaults (history facts at "
                       "'nothing happened yet'); day 0 is an instalment's due date, with "
                       "another every 30 days. The chart marks the actions decided on each "
                       "day: the days an action is due, not how often a replay with "
                       "history would repeat it (see policylang simulate).",
        "proved": "proved", "refuted": "does not hold", "undecided": "could not decide",
        "status": "status", "assertion": "assertion", "witness": "witness",
        "summary": "{} assertions: {} proved, {} do not hold, {} could not be decided.",
        "equivalent": "The two versions decide every loan the same way (proved).",
        "differs": "The two versions decide these loans differently ({} witnesses):",
        "old": "old", "new": "new", "no_action": "(no action)",
        "whole": "the result as a whole", "against_of": "against: {}",
        "could_not": "could not decide whether the versions differ: {}",
    },
}


def text(lang: str, key: str, *args: object) -> str:
    """The fixed word `key` in `lang`, with `args` filled in."""
    found = _TEXTS[lang][key]
    return found.format(*args) if args else found


def section_title(lang: str, key: str) -> str:
    for ident, zh, en in SECTIONS:
        if ident == key:
            return zh if lang == "zh" else en
    raise KeyError(key)
