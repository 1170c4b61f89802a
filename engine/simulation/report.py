"""report.html: a replay's figures for an analyst, in one self-contained page.

No scripts, no external files: inline CSS and an inline SVG chart, so the page can be
mailed or archived with the run and prints as it shows. Built only from summary.json's
figures (and the first differences), so it can never disagree with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from engine.simulation.output import Difference

DIFFERENCES_SHOWN = 200

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #4a78b0; height: .8em; display: inline-block; }
code { font-size: .95em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
"""


def render_report(summary: Mapping[str, Any], found: Sequence[Difference] | None) -> str:
    """The whole page."""
    policy = summary["policy"]
    title = f"Replay of {policy['name']} {policy['version'] or ''}".rstrip()
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _overview(summary),
        "<h2>Actions per month</h2>", _month_chart(summary["by_month"]),
        "<h2>Actions</h2>", _counts_table("action", summary["by_action"]),
        "<h2>Highest stage reached per loan</h2>",
        _counts_table("stage", summary["loans_by_highest_stage"], unit="loans"),
        "<h2>Rules</h2>", _counts_table("rule", summary["by_rule"]),
    ]
    if "against" in summary:
        parts += ["<h2>Differences from the other policy</h2>",
                  _differences(summary["against"], found or ())]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _overview(summary: Mapping[str, Any]) -> str:
    policy = summary["policy"]
    rows = [("policy", f"{policy['name']} {policy['version'] or ''}"),
            ("digest", policy["digest"]),
            ("engine", summary["engine"]),
            ("days", f"{summary['from'] or 'each origination'} to {summary['to'] or '-'}"),
            ("loans", str(summary["loans"])),
            ("loans set aside (bad input)", str(len(summary["loans_skipped"]))),
            ("loan-days evaluated", str(summary["loan_days"])),
            ("actions", str(summary["actions"]))]
    rows += [(f"param {name}", value) for name, value in summary["params"].items()]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="overview">{body}</table>'


def _counts_table(what: str, counts: Mapping[str, int], unit: str = "count") -> str:
    if not counts:
        return "<p>none</p>"
    top = max(counts.values()) or 1
    rows = "".join(
        f"<tr><td><code>{escape(str(name))}</code></td><td class=\"n\">{count}</td>"
        f'<td><span class="bar" style="width:{round(12 * count / top, 2)}em"></span></td></tr>'
        for name, count in counts.items())
    return (f'<table><tr><th>{escape(what)}</th><th class="n">{escape(unit)}</th><th></th></tr>'
            f"{rows}</table>")


def _month_chart(by_month: Mapping[str, int]) -> str:
    """An SVG bar chart, one bar per month."""
    if not by_month:
        return "<p>no actions</p>"
    width, height, gap = 18, 160, 4
    top = max(by_month.values()) or 1
    bars = []
    for index, (month, count) in enumerate(by_month.items()):
        bar = round(height * count / top, 1)
        x = index * (width + gap)
        bars.append(f'<rect x="{x}" y="{height - bar}" width="{width}" height="{bar}" '
                    f'fill="#4a78b0"><title>{escape(month)}: {count}</title></rect>'
                    f'<text x="{x + width / 2}" y="{height + 12}" font-size="9" '
                    f'text-anchor="middle">{escape(month[2:])}</text>')
    total = len(by_month) * (width + gap)
    return (f'<svg class="months" role="img" aria-label="actions per month" '
            f'width="{total}" height="{height + 16}" viewBox="0 0 {total} {height + 16}">'
            f'{"".join(bars)}</svg>')


def _differences(against: Mapping[str, Any], found: Sequence[Difference]) -> str:
    other = against["policy"]
    head = (f"<p>Against <code>{escape(other['name'])} {escape(other['version'] or '')}</code>: "
            f"{against['loan_days_differing']} loan-days differ, on "
            f"{against['loans_differing']} loans.</p>")
    if not found:
        return head
    rows = "".join(f"<tr><td>{escape(d.loan_id)}</td><td>{d.day}</td><td>{escape(d.old)}</td>"
                   f"<td>{escape(d.new)}</td></tr>" for d in found[:DIFFERENCES_SHOWN])
    more = (f"<p>The first {DIFFERENCES_SHOWN} are shown; differences.csv has all.</p>"
            if len(found) > DIFFERENCES_SHOWN else "")
    return (f"{head}<table><tr><th>loan</th><th>date</th><th>other policy</th>"
            f"<th>this policy</th></tr>{rows}</table>{more}")
