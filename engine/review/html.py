"""The review document as one self-contained HTML page, for the screen and for paper.

Stage: the HTML output of `policylang doc`. Input: a `Review`. Output: the page's text:
inline CSS (with print rules: A4 margins, no breaks inside a rule or the chart), the
ladder chart as inline SVG, no script and no external file, so the page opens
offline, prints as it shows and can be archived with the sign-off.
Must not: compute content (model.py does); embed anything that varies between runs.
"""

from __future__ import annotations

from html import escape

from engine.review.chart import ladder_svg
from engine.review.model import Review, RuleView
from engine.review.texts import SECTIONS, section_title, text

_STYLE = """
body { font: 14px/1.5 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 60em; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #bbb; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .5em 0; width: 100%; }
td, th { padding: .25em .6em; border-bottom: 1px solid #e4e4e4; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
code { font-size: .92em; overflow-wrap: anywhere; }
td:first-child > code { white-space: nowrap; }
.rule { border-left: 3px solid #4a78b0; padding: .2em .8em; margin: .8em 0; }
.rule h4 { margin: .1em 0; font-size: 1em; } .rule p { margin: .15em 0; }
.note { color: #555; font-size: .9em; }
.proved { color: #2d7a3a; font-weight: bold; } .refuted { color: #a3281f; font-weight: bold; }
.undecided { color: #9a6a00; font-weight: bold; }
svg.chart { display: block; max-width: 100%; height: auto; margin: .6em 0; }
nav a { margin-right: .8em; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; } nav { display: none; }
  h2, h3 { break-after: avoid; } .rule, tr, svg.chart { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(review: Review) -> str:
    """The whole page."""
    lang = review.lang
    title = text(lang, "title", review.title or review.name)
    bodies = {"metadata": _metadata(review), "params": _params(review),
              "rules": _rules(review), "ladder": _ladder(review),
              "assertions": _assertions(review)}
    if review.against is not None:
        bodies["against"] = _against(review)
    keys = [key for key, _, _ in SECTIONS if key in bodies]
    nav = "".join(f'<a href="#{key}">{escape(section_title(lang, key))}</a>' for key in keys)
    body = "\n".join(f'<section id="{key}"><h2>{escape(section_title(lang, key))}</h2>\n'
                     f"{bodies[key]}</section>" for key in keys)
    html_lang = "zh-CN" if lang == "zh" else "en"
    return ("<!DOCTYPE html>\n"
            f'<html lang="{html_lang}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n"
            f"<nav>{nav}</nav>\n{body}\n</body></html>\n")


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A table of already escaped cells."""
    top = "".join(f"<th>{h}</th>" for h in head)
    lines = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>\n{lines}</tbody></table>\n"


def _metadata(review: Review) -> str:
    lang = review.lang
    guards = ", ".join(f"{name} {version or ''}".strip() for name, version in review.guards)
    rows = [(text(lang, "name"), f"<code>{escape(review.name)}</code>"
             + (f" {escape(review.title)}" if review.title else "")),
            (text(lang, "version"), escape(review.version or text(lang, "none"))),
            (text(lang, "digest"), f"<code>{escape(review.digest)}</code>"),
            (text(lang, "schema"), f"<code>{escape(review.schema)}</code>"),
            (text(lang, "guards"), escape(guards or text(lang, "none")))]
    if review.against is not None:
        rows.append(("", escape(text(lang, "against_of", review.against))))
    return "<table><tbody>" + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>"
                                      for k, v in rows) + "</tbody></table>\n"


def _params(review: Review) -> str:
    lang = review.lang
    params = _table((text(lang, "param"), text(lang, "value")),
                    [(f"<code>{escape(n)}</code>", escape(v)) for n, v in review.params])
    lets = _table((text(lang, "name"), text(lang, "when")),
                  [(f"<code>{escape(n)}</code>", escape(v)) for n, v in review.lets])
    facts = _table((text(lang, "fact"), text(lang, "label"), text(lang, "doc")),
                   [(f"<code>{escape(n)}</code>", escape(w), escape(d))
                    for n, w, d in review.facts])
    return (params + f"<h3>{escape(text(lang, 'definitions'))}</h3>\n{lets}"
            f"<h3>{escape(text(lang, 'facts'))}</h3>\n{facts}")


def _rules(review: Review) -> str:
    lang = review.lang
    parts = []
    for stage, rules in review.groups:
        heading = review.group_heading(stage)
        parts.append(f'<h3 data-stage="{stage}">{escape(heading)}</h3>')
        parts.extend(_rule(lang, rule) for rule in rules)
    return "\n".join(parts) + "\n"


def _rule(lang: str, rule: RuleView) -> str:
    label = f" {escape(rule.label)}" if rule.label else ""
    flags = [f"{text(lang, 'priority')} {rule.priority}"] + (
        [text(lang, "final")] if rule.final else [])
    where = f"{rule.file}:{rule.line}"
    source = (f"{escape(text(lang, 'source'))}: {escape(rule.source)} · " if rule.source
              else "")
    return (f'<div class="rule"><h4><code>{escape(rule.name)}</code>{label}</h4>'
            f"<p><b>{escape(text(lang, 'when'))}</b> {escape(rule.condition)}</p>"
            f"<p><b>{escape(text(lang, 'then'))}</b> {escape('; '.join(rule.actions))}</p>"
            f'<p class="note">{source}{escape(text(lang, "where"))}: <code>{escape(where)}'
            f"</code> · {escape(' · '.join(flags))}</p></div>")


def _ladder(review: Review) -> str:
    lang = review.lang
    svg = ladder_svg(review.timeline, labels=review.chart_labels,
                     day_label=text(lang, "day"), due_label=text(lang, "due"))
    return f'<p class="note">{escape(text(lang, "ladder_note"))}</p>\n{svg}\n'


def _assertions(review: Review) -> str:
    lang = review.lang
    counts = {s: sum(a.status == s for a in review.assertions)
              for s in ("proved", "refuted", "undecided")}
    summary = text(lang, "summary", len(review.assertions), counts["proved"],
                   counts["refuted"], counts["undecided"])
    rows = []
    for assertion in review.assertions:
        status = (f'<span class="{assertion.status}">'
                  f"{escape(text(lang, assertion.status))}</span>")
        if assertion.message:
            status += f"<br>{escape(assertion.message)}"
        if assertion.witness:
            witness = escape(assertion.witness)
            status += f"<br>{escape(text(lang, 'witness'))}: <code>{witness}</code>"
        rows.append((f"{escape(assertion.words)}<br><code>{escape(assertion.text)}</code>",
                     status))
    return (f"<p>{escape(summary)}</p>\n"
            + _table((text(lang, "assertion"), text(lang, "status")), rows))


def _against(review: Review) -> str:
    lang = review.lang
    notes = "".join(f'<p class="note">{escape(text(lang, "could_not", u))}</p>'
                    for u in review.undecided)
    if review.equivalent:
        return f"<p>{escape(text(lang, 'equivalent'))}</p>\n{notes}"
    rows = []
    none = text(lang, "no_action")
    for difference in review.differences:
        rules = ", ".join(difference.rules) or text(lang, "whole")
        rows.append((f"<code>{escape(rules)}</code>",
                     f'<code class="witness">{escape(difference.witness)}</code>',
                     escape("; ".join(difference.old) or none),
                     escape("; ".join(difference.new) or none)))
    head = (text(lang, "rule"), text(lang, "witness"), text(lang, "old"), text(lang, "new"))
    return (f"<p>{escape(text(lang, 'differs', len(review.differences)))}</p>\n"
            + _table(head, rows) + notes)
