"""The report's charts: matplotlib figures written as inline SVG, byte for byte the same
for the same figures.

Stage: part of rendering report.html. Input: plain numbers from summary.json. Output:
`<svg>` text to inline in the page.

Why static SVG from matplotlib rather than Vega-Lite: the page must open offline,
print, and be archived with the run; static SVG needs no script, no vendored 800 KB of
JavaScript, and cannot fail to draw in a mail client. Determinism comes from
`svg.hashsalt` (element ids), `metadata` without Date or Creator, text kept as
`<text>` (`svg.fonttype: none`, so no glyph outlines and a smaller page) and
matplotlib's bundled DejaVu Sans metrics for layout.

Must not: touch matplotlib's global state (everything runs in `rc_context` on a
`Figure` without pyplot), read anything but its arguments.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence
from datetime import date

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PALETTE = ("#4a78b0", "#e0883a", "#5aa469", "#c8504b", "#8c6bb1", "#8d6e63", "#d97cb4",
           "#7f7f7f", "#b5b83a", "#3bb3c4", "#1f3d66", "#f2c14e", "#9fd38a", "#5c2a5e",
           "#e8a3a0", "#2a7f7a")
_RC = {"svg.hashsalt": "policylang-report", "svg.fonttype": "none",
       "font.family": "DejaVu Sans", "font.size": 8.5, "axes.spines.top": False,
       "axes.spines.right": False, "axes.titlesize": 9, "axes.titleweight": "bold",
       "path.simplify": True}
_WIDTH = 7.2   # inches: the page's text column
_HEADER = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


def to_svg(figure: Figure, name: str) -> str:
    """The figure as an `<svg>` element (no XML prolog) that names its chart."""
    buffer = io.StringIO()
    with mpl.rc_context(_RC | {"svg.hashsalt": f"policylang-report-{name}"}), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")     # a glyph DejaVu lacks still shows in the browser
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None},
                       bbox_inches="tight", pad_inches=0.05)
    svg = _METADATA.sub("", _HEADER.sub("", buffer.getvalue(), count=1), count=1)
    return svg.replace("<svg ", f'<svg class="chart" data-chart="{name}" role="img" ', 1)


def _figure(height: float) -> Figure:
    with mpl.rc_context(_RC):
        return Figure(figsize=(_WIDTH, height), dpi=72, layout="constrained")


def _axes(figure: Figure) -> Axes:
    with mpl.rc_context(_RC):
        return figure.add_subplot()


def barh(name: str, counts: Mapping[str, float], *, xlabel: str, limit: int = 25,
         colour: str = PALETTE[0]) -> str:
    """A horizontal bar per label, largest first (the first `limit`)."""
    items = list(counts.items())[:limit]
    figure = _figure(0.6 + 0.22 * max(len(items), 1))
    axes = _axes(figure)
    with mpl.rc_context(_RC):
        labels = [label for label, _ in items][::-1]
        values = [value for _, value in items][::-1]
        axes.barh(range(len(values)), values, color=colour)
        axes.set_yticks(range(len(values)), labels)
        axes.set_xlabel(xlabel)
        for index, value in enumerate(values):
            axes.annotate(f"{value:,.0f}", (value, index), xytext=(3, 0),
                          textcoords="offset points", va="center", fontsize=7)
    return to_svg(figure, name)


def stacked_bands(name: str, bands: Sequence[str], series: Mapping[str, Sequence[int]]) -> str:
    """Actions per days-overdue band, one stacked segment per verb."""
    figure = _figure(2.8)
    axes = _axes(figure)
    with mpl.rc_context(_RC):
        bottom = [0] * len(bands)
        for index, (label, values) in enumerate(series.items()):
            axes.bar(bands, values, bottom=bottom, label=label,
                     color=PALETTE[index % len(PALETTE)])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_xlabel("days overdue on the day of the action")
        axes.set_ylabel("actions")
        axes.legend(fontsize=7, ncols=2, frameon=False)
    return to_svg(figure, name)


def boxes(name: str, stats: Mapping[str, Mapping[str, int]]) -> str:
    """One box per action: days overdue when it first fired for a loan (whiskers min and
    max, box p25 to p75, line the median, dot p90)."""
    items = list(stats.items())
    figure = _figure(0.6 + 0.24 * max(len(items), 1))
    axes = _axes(figure)
    with mpl.rc_context(_RC):
        boxes_ = [{"label": label, "whislo": s["min"], "q1": s["p25"], "med": s["median"],
                   "q3": s["p75"], "whishi": s["max"], "fliers": [s["p90"]]}
                  for label, s in reversed(items)]
        axes.bxp(boxes_, orientation="horizontal", widths=0.6, patch_artist=True,
                 boxprops={"facecolor": "#c9d8ea", "edgecolor": PALETTE[0]},
                 flierprops={"marker": "o", "markersize": 3, "markerfacecolor": PALETTE[1],
                             "markeredgecolor": PALETTE[1]},
                 medianprops={"color": PALETTE[3]})
        axes.set_xlabel("days overdue when the action first fired for a loan")
    return to_svg(figure, name)


def small_bars(name: str, panels: Mapping[str, Mapping[str, int]], *, xlabel: str) -> str:
    """Side-by-side bar charts, one per panel: loans by how many times something
    happened to them."""
    figure = _figure(2.2)
    with mpl.rc_context(_RC):
        axes_all = figure.subplots(1, max(len(panels), 1))
        for index, (axes, (title, counts)) in enumerate(
                zip(getattr(axes_all, "flat", [axes_all]), panels.items(), strict=False)):
            axes.bar(list(counts), list(counts.values()), color=PALETTE[index % len(PALETTE)])
            axes.set_title(title)
            axes.set_xlabel(xlabel)
            axes.tick_params(axis="x", labelsize=7)
        first = next(iter(getattr(axes_all, "flat", [axes_all])))
        first.set_ylabel("loans")
    return to_svg(figure, name)


def columns(name: str, counts: Mapping[str, float], *, xlabel: str, ylabel: str,
            colour: str = PALETTE[0]) -> str:
    """A vertical bar per label, in the given order."""
    figure = _figure(2.3)
    axes = _axes(figure)
    with mpl.rc_context(_RC):
        axes.bar(list(counts), list(counts.values()), color=colour)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        if len(counts) > 16:
            axes.tick_params(axis="x", labelrotation=90, labelsize=6.5)
    return to_svg(figure, name)


def workload(name: str, by_day: Mapping[str, Mapping[str, int]]) -> str:
    """Actions per calendar day, stacked by channel (who does the work)."""
    days = [date.fromisoformat(d) for d in by_day]
    channels = sorted({c for counts in by_day.values() for c in counts})
    figure = _figure(2.6)
    axes = _axes(figure)
    with mpl.rc_context(_RC):
        series = [[by_day[d].get(c, 0) for d in by_day] for c in channels]
        axes.stackplot(days, *series, labels=channels,
                       colors=[PALETTE[i % len(PALETTE)] for i in range(len(channels))],
                       step="mid")
        axes.set_ylabel("actions that day")
        axes.legend(fontsize=7, loc="upper left", frameon=False, ncols=len(channels) or 1)
        axes.margins(x=0)
    return to_svg(figure, name)


def deltas(name: str, changes: Mapping[str, int], limit: int = 20) -> str:
    """Change in action counts, this policy minus the other: a diverging bar chart."""
    items = [(label, value) for label, value in changes.items() if value][:limit]
    figure = _figure(0.6 + 0.22 * max(len(items), 1))
    axes = _axes(figure)
    with mpl.rc_context(_RC):
        labels = [label for label, _ in items][::-1]
        values = [value for _, value in items][::-1]
        axes.barh(range(len(values)), values,
                  color=[PALETTE[2] if v < 0 else PALETTE[3] for v in values])
        axes.set_yticks(range(len(values)), labels)
        axes.axvline(0, color="#444", linewidth=0.8)
        axes.set_xlabel("actions: this policy minus the policy in force")
    return to_svg(figure, name)
