"""report.html: a replay's figures for an analyst, in one self-contained page.

Stage: the last output of `simulate`. Input: a `Figures` accumulator, after every
chunk was added. Output: the page's text.

The page is drawn from `figures.summary()` alone, the dict summary.json holds, so the
two can never disagree. Charts are static inline SVG (report_charts.py explains why);
there are no scripts and no external files, so the page opens offline, can be mailed
or archived with the run, and prints as it shows. Same figures, same bytes.

Must not: compute figures of its own from loan-days; embed anything that varies
between runs (time, paths of temporary files, random ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from engine.simulation import report_charts as charts
from engine.simulation.figures import BANDS, PER_LOAN, Figures, band_of

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2.2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: .2em .6em; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs td { background: #fff4e0; }
.note { color: #555; font-size: .92em; }
svg.chart { display: block; max-width: 100%; height: auto; margin: .6em 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1em; }
.breach { color: #a3281f; font-weight: bold; } .ok { color: #2d7a3a; }
nav a { margin-right: .8em; }
code { font-size: .95em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
               svg.chart { break-inside: avoid; } }
"""
FINDINGS_SHOWN = 10
COUNT_BUCKETS = ("0", "1", "2", "3", "4", "5-9", "10+")


def render_report(figures: Figures) -> str:
    """The whole page."""
    summary = figures.summary()
    policy = summary["policy"]
    title = f"Replay of {policy['name']} {policy['version'] or ''}".rstrip()
    sections = [
        ("overview", "Overview", _overview(summary)),
        ("actions", "Actions by type", _actions(summary)),
        ("bands", "Actions by days overdue", _bands(summary)),
        ("first", "When each action first fires", _first_fire(summary)),
        ("per-loan", "Letters, visits and legal referrals per loan", _per_loan(summary)),
        ("stages", "Highest stage reached", _stages(summary)),
        ("workload", "Workload per calendar day", _workload(summary)),
        ("cost", "Cost", _cost(summary)),
        ("compliance", "Compliance", _compliance(summary)),
        ("deadlines", "Deadlines and guard suppressions", _deadlines(summary)),
        ("rules", "Rules", _table(("rule", "actions"), summary["by_rule"].items())),
    ]
    if "against" in summary:
        sections.append(("against", "Against the policy in force", _against(summary)))
    nav = "".join(f'<a href="#{key}">{escape(name)}</a>' for key, name, _ in sections)
    body = "\n".join(f'<section id="{key}"><h2>{escape(name)}</h2>\n{html}</section>'
                     for key, name, html in sections)
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{_STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n"
            f"<nav>{nav}</nav>\n{body}\n</body></html>\n")


def _overview(summary: Mapping[str, Any]) -> str:
    policy = summary["policy"]
    currency = summary["currency"] or ""
    rows = [("policy", f"{policy['name']} {policy['version'] or ''}"),
            ("digest", policy["digest"]),
            ("engine", summary["engine"]),
            ("days", f"{summary['from'] or 'each origination'} to {summary['to'] or '-'}"),
            ("loans", f"{summary['loans']:,}"),
            ("loans set aside (bad input)", str(len(summary["loans_skipped"]))),
            ("loan-days evaluated", f"{summary['loan_days']:,}"),
            ("actions", f"{summary['actions']:,}"),
            ("cost of the actions", f"{_money(summary['cost']['total'])} {currency}")]
    rows += [(f"param {name}", value) for name, value in summary["params"].items()]
    if summary["compliance"] is not None:
        broken = sum(1 for c in summary["compliance"]["checks"] if c["loans"])
        rows.append(("compliance checks broken",
                     f"{broken} of {len(summary['compliance']['checks'])}"))
    if "against" in summary:
        other = summary["against"]
        rows.append(("against", f"{other['policy']['name']} {other['policy']['version'] or ''}"
                     f": {other['loans_differing']:,} loans differ"))
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="overview">{body}</table>'


def _actions(summary: Mapping[str, Any]) -> str:
    by_action = summary["by_action"]
    if not by_action:
        return "<p>The policy took no action.</p>"
    total = summary["actions"]
    rows = ((name, count, _share(count, total)) for name, count in by_action.items())
    return (charts.barh("actions", by_action, xlabel="actions") +
            _table(("action", "actions", "share"), rows))


def _bands(summary: Mapping[str, Any]) -> str:
    bands = summary["by_overdue_band"]
    if not bands:
        return "<p>No actions.</p>"
    names = [band for band, _, _ in BANDS]
    by_verb: dict[str, list[int]] = {}
    for action, counts in bands.items():
        verb = action.split(" ", 1)[0]
        row = by_verb.setdefault(verb, [0] * len(names))
        for index, band in enumerate(names):
            row[index] += counts[band]
    rows = ((action, *(counts[b] for b in names)) for action, counts in bands.items())
    return (charts.stacked_bands("bands", names, by_verb) +
            _table(("action", *(f"{b} days" for b in names)), rows))


def _first_fire(summary: Mapping[str, Any]) -> str:
    stats = summary["first_fire_overdue"]
    if not stats:
        return "<p>No actions.</p>"
    ordered = dict(sorted(stats.items(), key=lambda kv: (kv[1]["median"], kv[0])))
    keys = ("loans", "min", "p25", "median", "p75", "p90", "max")
    rows = ((name, *(s[k] for k in keys)) for name, s in ordered.items())
    return ('<p class="note">For each loan, the days overdue on the first day an action was '
            "taken for it; the box spans the middle half of the loans, the dot is the 90th "
            "percentile.</p>" + charts.boxes("first-fire", ordered) +
            _table(("action", *keys), rows))


def _bucket(counts: Mapping[str, int]) -> dict[str, int]:
    out = dict.fromkeys(COUNT_BUCKETS, 0)
    for times, loans in counts.items():
        n = int(times)
        out[str(n) if n < 5 else "5-9" if n < 10 else "10+"] += loans
    return out


def _per_loan(summary: Mapping[str, Any]) -> str:
    per_loan = summary["per_loan"]
    loans = sum(per_loan[PER_LOAN[0]].values())
    if not loans:
        return "<p>No loan-days.</p>"
    panels = {kind: _bucket(per_loan[kind]) for kind in PER_LOAN}
    rows = []
    for kind in PER_LOAN:
        counts = {int(k): v for k, v in per_loan[kind].items()}
        total = sum(k * v for k, v in counts.items())
        rows.append((kind, loans - counts.get(0, 0), total,
                     f"{Decimal(total) / loans:.2f}", max(counts)))
    return ('<p class="note">Letters are actions sent by the catalogue\'s <code>letter</code> '
            "channel; visits are <code>visit</code>; legal referrals are "
            "<code>refer legal</code>.</p>" +
            charts.small_bars("per-loan", panels, xlabel="times per loan") +
            _table(("", "loans with any", "in all", "per loan", "most for one loan"), rows))


def _stages(summary: Mapping[str, Any]) -> str:
    stages = summary["loans_by_highest_stage"]
    if not stages:
        return "<p>No loans.</p>"
    labels = {f"stage {s}": n for s, n in stages.items()}
    other = summary.get("against", {}).get("loans_by_highest_stage")
    head: tuple[str, ...] = ("highest stage", "loans")
    rows: Iterable[tuple[Any, ...]] = ((f"stage {s}", n) for s, n in stages.items())
    if other is not None:
        keys = sorted(set(stages) | set(other), key=int)
        head = ("highest stage", "loans", "policy in force")
        rows = ((f"stage {s}", stages.get(s, 0), other.get(s, 0)) for s in keys)
    return ('<p class="note">Stage 0: no action at all. Stages come from the action '
            "catalogue (lower is gentler).</p>" +
            charts.columns("stages", labels, xlabel="highest stage reached", ylabel="loans") +
            _table(head, rows))


def _workload(summary: Mapping[str, Any]) -> str:
    by_day = summary["by_day"]
    if not by_day:
        return "<p>No actions.</p>"
    totals = {day: sum(c.values()) for day, c in by_day.items()}
    busiest = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return ('<p class="note">Actions per calendar day, by the catalogue\'s channel: the '
            "work the policy would have given each team.</p>" +
            charts.workload("workload", by_day) + "<h3>Busiest days</h3>" +
            _table(("date", "actions"), busiest) + "<h3>By month</h3>" +
            _table(("month", "actions"), summary["by_month"].items()))


def _cost(summary: Mapping[str, Any]) -> str:
    cost, currency = summary["cost"], summary["currency"] or ""
    if not cost["by_action"]:
        return ('<p>The action catalogue gives no costs (add <code>cost: 2.50</code> to an '
                "action in the schema).</p>")
    totals = {name: float(row["total"]) for name, row in
              sorted(cost["by_action"].items(), key=lambda kv: -Decimal(kv[1]["total"]))}
    rows = [(name, row["count"], _money(row["unit"]), _money(row["total"]))
            for name, row in cost["by_action"].items()]
    rows.append(("total", "", "", _money(cost["total"])))
    html = (charts.barh("cost", totals, xlabel=f"cost ({currency})", colour=charts.PALETTE[4])
            + _table(("action", "actions", f"each ({currency})", f"in all ({currency})"), rows))
    if cost["without_cost"]:
        html += ('<p class="note">No cost in the catalogue for: ' +
                 ", ".join(f"<code>{escape(n)}</code>" for n in cost["without_cost"]) + "</p>")
    if "against" in summary:
        other = Decimal(summary["against"]["cost"]["total"])
        html += (f"<p>The policy in force would have cost {_money(str(other))} {currency}; "
                 f"this one {_signed(Decimal(cost['total']) - other)} {currency}.</p>")
    return html


def _compliance(summary: Mapping[str, Any]) -> str:
    compliance = summary["compliance"]
    if compliance is None:
        return ('<p class="note">No compliance file was given (<code>--compliance '
                "FILE</code>).</p>")
    checks = compliance["checks"]
    html = [f'<p class="note">Checks from <code>{escape(compliance["file"])}</code>, judged on '
            "each loan's replayed days.</p>"]
    if checks:
        html.append(charts.columns("compliance", {c["name"]: c["loans"] for c in checks},
                                   xlabel="check", ylabel="loans breaking it",
                                   colour=charts.PALETTE[3]))
    against = "against" in summary
    head = ("check", "rule", "loans breaking", "days broken") + (("policy in force",)
                                                                  if against else ())
    html.append(_table(head, ((c["name"], c["rule"], c["loans"], c["days"],
                               *((c["against_loans"],) if against else ())) for c in checks)))
    for check in checks:
        html.append(_check(check))
    return "".join(html)


def _deadlines(summary: Mapping[str, Any]) -> str:
    """Loans whose limitation or guarantee period lapsed or ends within the margin with
    no qualifying notice (docs/deadlines.md), then the guards' suppressions by reason."""
    found = summary["deadlines"]
    if not found["derived"]:
        text = ("<p>The schema declares no deadline fact (days_to_limitation, "
                "days_to_guarantee_end): no period was followed.</p>")
    else:
        counts = [(period, found[period]["lapsed"], found[period]["within_margin"])
                  for period in ("limitation", "guarantee")]
        text = (f"<p>Periods that lapsed while a loan was unpaid, or that end within "
                f"{found['margin_days']} days of the loan's last evaluated day, with no signed "
                "written demand in time (docs/deadlines.md).</p>"
                + _table(("period", "lapsed", f"within {found['margin_days']} days"), counts))
        rows = [(f["loan_id"], f["period"], f["status"].replace("_", " "), f["maturity"],
                 f["ends"], f["last_notice"] or "none", f["last_day"]) for f in found["loans"]]
        if rows:
            text += _table(("loan", "period", "status", "maturity", "period ends",
                            "last qualifying notice", "last day evaluated"), rows)
        if found["more_loans"]:
            text += f"<p>and {found['more_loans']:,} more (see summary.json counts)</p>"
    guards = found["guard_suppressions"]
    text += ("<h3>Suppressed by guards</h3>"
             + (_table(("guard rule", "actions suppressed"), guards.items()) if guards
                else "<p>No action was suppressed by a guard.</p>"))
    return text


def _check(check: Mapping[str, Any]) -> str:
    status = (f'<span class="breach">{check["loans"]:,} loans break it</span>' if check["loans"]
              else '<span class="ok">no loan breaks it</span>')
    label = f" {escape(check['label'])}." if check["label"] else ""
    head = (f"<h3>{escape(check['name'])}</h3><p><code>{escape(check['rule'])}</code>.{label} "
            f"{status} (line {check['line']}).</p>")
    shown = check["first"][:FINDINGS_SHOWN]
    if not shown:
        return head
    rows = ((f["loan_id"], f["date"], f["overdue"], f["days"]) for f in shown)
    more = (f'<p class="note">The first {len(shown)} of {check["loans"]:,} loans.</p>'
            if check["loans"] > len(shown) else "")
    return head + _table(("loan", "first broken on", "days overdue then", "days broken"),
                         rows) + more


def _against(summary: Mapping[str, Any]) -> str:
    other = summary["against"]
    policy = other["policy"]
    html = [f"<p>Against <code>{escape(policy['name'])} {escape(policy['version'] or '')}</code>"
            f" (the policy in force, {other['actions']:,} actions): "
            f"{other['loan_days_differing']:,} loan-days differ, on "
            f"{other['loans_differing']:,} of {summary['loans']:,} loans. "
            "differences.csv lists every one.</p>"]
    if other["first_divergence_overdue"]:
        bands = dict.fromkeys((b for b, _, _ in BANDS), 0)
        for overdue, loans in other["first_divergence_overdue"].items():
            bands[band_of(int(overdue))] += loans
        html += ["<h3>The first day the two policies act differently</h3>",
                 charts.columns("divergence", bands, xlabel="days overdue on that day",
                                ylabel="loans", colour=charts.PALETTE[1]),
                 _table(("month", "loans"), other["first_divergence_month"].items())]
    deltas = other["by_action_delta"]
    if any(d["delta"] for d in deltas.values()):
        html += ["<h3>Actions: this policy against the policy in force</h3>",
                 charts.deltas("deltas", {k: d["delta"] for k, d in deltas.items()}),
                 _table(("action", "policy in force", "this policy", "change"),
                        ((k, d["against"], d["policy"], _signed(Decimal(d["delta"])))
                         for k, d in deltas.items()))]
    for example in other["examples"]:
        html.append(_example(example))
    return "".join(html)


def _example(example: Mapping[str, Any]) -> str:
    rows = []
    for day in example["days"]:
        css = ' class="differs"' if day["differs"] else ""
        rows.append(f"<tr{css}><td>{day['date']}</td><td class=\"n\">{day['overdue']}</td>"
                    f"<td>{_actions_cell(day['against'])}</td>"
                    f"<td>{_actions_cell(day['policy'])}</td></tr>")
    shown = len(example["days"])
    note = (f'<p class="note">{shown} of the {example["acting_days"]} days on which either '
            "policy acts, from just before the first difference.</p>"
            if shown < example["acting_days"] else "")
    return (f"<h3>Loan {escape(example['loan_id'])}: first differs on "
            f"{example['first_divergence']}</h3>"
            '<table class="timeline"><tr><th>date</th><th class="n">overdue</th>'
            "<th>policy in force (rules)</th><th>this policy (rules)</th></tr>"
            f"{''.join(rows)}</table>{note}")


def _actions_cell(actions: Sequence[Mapping[str, Any]]) -> str:
    return "<br>".join(f"{escape(a['action'])} <span class=\"note\">("
                       f"{escape(', '.join(a['rules']))})</span>" for a in actions) or "–"


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(value: Any, tag: str = "td") -> str:
        numeric = isinstance(value, int) or (isinstance(value, str) and value[:1].isdigit()
                                             and value.replace(",", "").replace(".", "")
                                             .replace("%", "").isdigit())
        css = ' class="n"' if numeric else ""
        text = f"{value:,}" if isinstance(value, int) else str(value)
        return f"<{tag}{css}>{escape(text)}</{tag}>"
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    if not body:
        return "<p>none</p>"
    return f"<table><tr>{''.join(f'<th>{escape(h)}</th>' for h in head)}</tr>{body}</table>"


def _share(count: int, total: int) -> str:
    return f"{Decimal(100 * count) / total:.1f}%" if total else "-"


def _money(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def _signed(value: Decimal) -> str:
    return f"+{value:,}" if value > 0 else f"{value:,}"
