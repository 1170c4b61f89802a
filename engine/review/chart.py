"""The ladder chart: a timeline of days (x) by actions (y), one bar per run of days an
action fires, a colour per loan profile.

Stage: part of the review document. Input: a `Timeline`, the y label of each action
and the axis labels, in the document's language. Output: an inline `<svg>`
(report_charts.to_svg: deterministic, text kept as text, no script). Runs of days are
drawn as bars rather than a marker per day: the same picture, a tenth of the bytes.
Its text is in the document's language: actions with their schema label, profile
names, axis label. The font is a fallback list (`FAMILIES`): DejaVu Sans for Latin,
then a CJK font, so matplotlib measures Chinese with a CJK font where one is installed
(Debian's fonts-wqy-microhei, which .ci/run installs), and each `<text>` names the
whole list, so the browser or printer takes, for each character, the first font that
has it. Where none of the CJK
fonts is installed (or matplotlib's font cache predates it), the layout is measured
with DejaVu's missing-glyph box, a little wider than a CJK glyph, so no label is cut
off; the "Glyph … missing" warnings and "Font family … not found" log lines this
causes are silenced here, and nothing else.
Must not: touch matplotlib's global state (a `Figure` without pyplot, in rc_context;
the log filter is removed on the way out).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import matplotlib as mpl
from matplotlib.figure import Figure

from engine.review.timeline import Timeline
from engine.simulation.report_charts import PALETTE, to_svg

FAMILIES = ("DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC")
_RC = {"font.family": list(FAMILIES), "font.size": 8, "axes.spines.top": False,
       "axes.spines.right": False, "svg.fonttype": "none"}
_GLYPH_MISSING = r"Glyph \d+ .* missing from font"
_FONT_LOG = logging.getLogger("matplotlib.font_manager")
NAME = "ladder"
ROW = 0.4            # inches per action: room for its two-line label


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


def ladder_svg(timeline: Timeline, *, labels: Mapping[str, str], day_label: str,
               due_label: str) -> str:
    """The timeline chart as inline SVG; `labels` gives each action's y label."""
    with _quiet_fonts():
        return to_svg(_figure(timeline, labels, day_label, due_label), NAME)


def _figure(timeline: Timeline, labels: Mapping[str, str], day_label: str,
            due_label: str) -> Figure:
    actions = timeline.actions
    count = max(len(timeline.profiles), 1)
    with mpl.rc_context(_RC):
        figure = Figure(figsize=(7.2, 0.9 + ROW * max(len(actions), 1)), dpi=72,
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
                                 facecolors=colour, label=profile.name if row == 0 else None)
        axes.set_yticks(range(len(actions)), [labels.get(a, a) for a in reversed(actions)])
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
    return figure


class _MissingFamily(logging.Filter):
    """Drops matplotlib's "findfont: Font family 'X' not found." for the families above."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (record.msg == "findfont: Font family %r not found."
                    and args[:1] != () and args[0] in FAMILIES)


@contextmanager
def _quiet_fonts() -> Iterator[None]:
    """Silence the two notices a machine without one of `FAMILIES` gives, and only those:
    the chart still renders, measured with the fallback glyph."""
    missing = _MissingFamily()
    _FONT_LOG.addFilter(missing)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_GLYPH_MISSING, category=UserWarning)
            yield
    finally:
        _FONT_LOG.removeFilter(missing)
