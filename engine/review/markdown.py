"""The review document as Markdown: the same sections as the HTML page, as text.

Stage: the Markdown output of `policylang doc`. Input: a `Review`. Output: text. The
ladder is a table instead of a chart: one per typical loan, a row per run of days
with the same actions (`8–29`), a column per action (headed by its words as the rules
show them, with the verb's label), `●` where it fires.
Must not: compute content (model.py does).
"""

from __future__ import annotations

from engine.review.model import Review
from engine.review.texts import SECTIONS, section_title, text


def render_markdown(review: Review) -> str:
    lang = review.lang
    bodies = {"metadata": _metadata(review), "params": _params(review),
              "rules": _rules(review), "ladder": _ladder(review),
              "assertions": _assertions(review)}
    if review.against is not None:
        bodies["against"] = _against(review)
    parts = [f"# {text(lang, 'title', review.title or review.name)}"]
    parts += [f"## {section_title(lang, key)}\n\n{bodies[key]}"
              for key, _, _ in SECTIONS if key in bodies]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _metadata(review: Review) -> str:
    lang = review.lang
    guards = ", ".join(f"{name} {version or ''}".strip() for name, version in review.guards)
    rows = [(text(lang, "name"), f"`{review.name}`" + (f" {review.title}" if review.title else "")),
            (text(lang, "version"), review.version or text(lang, "none")),
            (text(lang, "digest"), f"`{review.digest}`"),
            (text(lang, "schema"), f"`{review.schema}`"),
            (text(lang, "guards"), guards or text(lang, "none"))]
    if review.against is not None:
        rows.append(("", text(lang, "against_of", review.against)))
    return _table(("", ""), rows)


def _params(review: Review) -> str:
    lang = review.lang
    return (_table((text(lang, "param"), text(lang, "value")),
                   [(f"`{n}`", v) for n, v in review.params])
            + f"\n### {text(lang, 'definitions')}\n\n"
            + _table((text(lang, "name"), text(lang, "when")),
                     [(f"`{n}`", v) for n, v in review.lets])
            + f"\n### {text(lang, 'facts')}\n\n"
            + _table((text(lang, "fact"), text(lang, "label"), text(lang, "doc")),
                     [(f"`{n}`", w, d) for n, w, d in review.facts]))


def _rules(review: Review) -> str:
    lang = review.lang
    parts = []
    for stage, rules in review.groups:
        heading = review.group_heading(stage)
        parts.append(f"### {heading}\n")
        for rule in rules:
            flags = [f"{text(lang, 'priority')} {rule.priority}"] + (
                [text(lang, "final")] if rule.final else [])
            source = f"{text(lang, 'source')}: {rule.source} · " if rule.source else ""
            parts.append(
                f"- **`{rule.name}`**{' ' + rule.label if rule.label else ''}\n"
                f"  - {text(lang, 'when')}: {rule.condition}\n"
                f"  - {text(lang, 'then')}: {'; '.join(rule.actions)}\n"
                f"  - {source}{text(lang, 'where')}: `{rule.file}:{rule.line}` · "
                f"{' · '.join(flags)}")
        parts.append("")
    return "\n".join(parts)


def _ladder(review: Review) -> str:
    lang = review.lang
    timeline = review.timeline
    parts = [text(lang, "ladder_note"), ""]
    for profile in timeline.profiles:
        fired = timeline.fired[profile.key]
        actions = [a for a in timeline.actions if any(a in day for day in fired.values())]
        rows = [(days, *("●" if a in fired[first] else "" for a in actions))
                for days, first in _day_runs(fired)]
        head = (review.ladder_labels.get(a, a) for a in actions)
        parts += [f"### {profile.name}", "", _table((text(lang, "days"), *head), rows)]
    return "\n".join(parts)


def _day_runs(fired: dict[int, tuple[str, ...]]) -> list[tuple[str, int]]:
    """(`first–last` or `day`, first day) for each run of days with the same actions."""
    found: list[tuple[int, int]] = []
    for day in sorted(fired):
        if found and set(fired[found[-1][0]]) == set(fired[day]):
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return [(str(a) if a == b else f"{a} … {b}", a) for a, b in found]


def _assertions(review: Review) -> str:
    lang = review.lang
    counts = [sum(a.status == s for a in review.assertions)
              for s in ("proved", "refuted", "undecided")]
    lines = [text(lang, "summary", len(review.assertions), *counts), ""]
    for assertion in review.assertions:
        lines.append(f"- **{text(lang, assertion.status)}**: {assertion.words}  \n"
                     f"  `{assertion.text}`")
        if assertion.message:
            lines.append(f"  - {assertion.message}")
        if assertion.witness:
            lines.append(f"  - {text(lang, 'witness')}: `{assertion.witness}`")
    return "\n".join(lines) + "\n"


def _against(review: Review) -> str:
    lang = review.lang
    notes = "".join(f"\n{text(lang, 'could_not', u)}\n" for u in review.undecided)
    if review.equivalent:
        return text(lang, "equivalent") + "\n" + notes
    none = text(lang, "no_action")
    lines = [text(lang, "differs", len(review.differences)), ""]
    for difference in review.differences:
        rules = ", ".join(difference.rules) or text(lang, "whole")
        lines += [f"- {text(lang, 'rule')} `{rules}`",
                  f"  - {text(lang, 'witness')}: `{difference.witness}`",
                  f"  - {text(lang, 'old')}: {'; '.join(difference.old) or none}",
                  f"  - {text(lang, 'new')}: {'; '.join(difference.new) or none}"]
    return "\n".join(lines) + "\n" + notes
