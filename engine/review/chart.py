"""The ladder chart: a timeline of days (x) by actions (y), one bar per run of days an
action fires, a colour per loan profile.

Stage: part of the review document. Input: a `Timeline`. Output: an inline `<svg>`
(report_charts.to_svg: deterministic, text kept as text, no script). Runs of days are
drawn as bars rather than a marker per day: the same picture, a tenth of the bytes.
All text in the chart is ASCII (action words, English profile names, English axis
label): matplotlib lays text out with DejaVu Sans, which has no Chinese glyphs, and a
printer without a CJK font would print boxes. The page names the profiles in the
document's language beside the chart.
Must not: touch matplotlib's global state (a `Figure` without pyplot, in rc_context).
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib.figure import Figure

from engine.review.timeline import Timeline
from engine.simulation.report_charts import PALETTE, to_svg

_RC = {"font.family": "DejaVu Sans", "font.size": 8, "axes.spines.top": False,
       "axes.spines.right": False, "svg.fonttype": "none"}
NAME = "ladder"


def runs(days: dict[int, tuple[str, ...]], action: str) -> list[tuple[int, int]]:
    """(first day, length) of each run of consecutive days on which `action` fires."""
    found: list[tuple[int, int]] = []
    for day in sorted(days):
        if action not in days[day]:
            continue
        if found and found[-1][0] + found[-1][1] == day:
            found[-1] = (found[-1][0], found[-1][1] + 1)
        else:
            found.append((day, 1))
    return found


def ladder_svg(timeline: Timeline, *, day_label: str, due_label: str) -> str:
    """The timeline chart as inline SVG."""
    actions = timeline.actions
    count = max(len(timeline.profiles), 1)
    with mpl.rc_context(_RC):
        figure = Figure(figsize=(7.2, 0.9 + 0.34 * max(len(actions), 1)), dpi=72,
                        layout="constrained")
        axes = figure.add_subplot()
        height = 0.8 / count
        for index, profile in enumerate(timeline.profiles):
            offset = 0.4 - height * (index + 0.5)
            colour = PALETTE[index % len(PALETTE)]
            for row, action in enumerate(reversed(actions)):
                spans = [(start - 0.5, length) for start, length in
                         runs(timeline.fired[profile.key], action)]
                axes.broken_barh(spans, (row + offset - height / 2, height * 0.9),
                                 facecolors=colour,
                                 label=profile.chart_name if row == 0 else None)
        axes.set_yticks(range(len(actions)), list(reversed(actions)))
        axes.set_ylim(-0.6, len(actions) - 0.4)
        axes.set_xlim(timeline.days[0] - 0.5, timeline.days[-1] + 0.5)
        axes.axvline(0, color="#444", linewidth=0.8, linestyle="--")
        axes.annotate(due_label, (0, len(actions) - 0.45), xytext=(3, 0),
                      textcoords="offset points", fontsize=7, va="top")
        axes.set_xlabel(day_label)
        axes.grid(axis="x", color="#ddd", linewidth=0.5)
        if actions:
            axes.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                        ncols=count, frameon=False)
    return to_svg(figure, NAME)
