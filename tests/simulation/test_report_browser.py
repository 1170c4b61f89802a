"""report.html in a real browser: headless Chromium opens the page offline and every
chart must have drawn, with marks and a size on screen.

The page itself has no script; the test appends one to a copy, which measures each
chart after layout and writes what it found into the DOM that `--dump-dom` prints.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.api import load_policy
from engine.simulation.compliance import load_compliance
from engine.simulation.engines import run_engine
from engine.simulation.figures import Figures
from engine.simulation.history import Portfolio, read_history
from engine.simulation.replay import Window
from engine.simulation.report import render_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (Debian: apt-get install chromium; "
    ".ci/run installs it)")
EXAMPLE = Path("engine/simulation/example")
LOANS = 60
MEASURE = """<script>
for (const svg of document.querySelectorAll("svg.chart")) {
  const box = svg.getBoundingClientRect();
  const marks = svg.querySelectorAll("path, rect, use, polygon, polyline").length;
  const inked = [...svg.querySelectorAll("path, rect, use")].filter(e => {
    const b = e.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length;
  // data marks: filled shapes with an area, not white (the background), not axes or ticks
  const filled = [...svg.querySelectorAll("path, rect")].filter(e => {
    const b = e.getBoundingClientRect(), fill = getComputedStyle(e).fill;
    return b.width * b.height > 0 && fill !== "none" && fill !== "rgb(255, 255, 255)"; }).length;
  const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
  svg.setAttribute("data-drawn", `${size}:${marks}:${inked}:${filled}`);
}
document.body.setAttribute("data-measured", "yes");
</script>"""
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--window-size=1200,900", "--virtual-time-budget=5000")


def example_report() -> str:
    policy = load_policy("policies/retail.policy")
    read = read_history(EXAMPLE, policy.schema, on_error="stop")
    portfolio = Portfolio(read.portfolio.loans[:LOANS])
    params = {"letter_day": "5 days", "visit_day": "6 days"}
    mine = run_engine("columnar", policy, portfolio, Window(), params)
    theirs = run_engine("columnar", policy, portfolio, Window())
    figures = Figures(policy, engine="columnar", window_start=None, end=mine.end, params=params,
                      skipped=[], against_policy=policy,
                      compliance=load_compliance("policies/retail.compliance.yaml",
                                                 policy.schema.actions))
    figures.add(mine, theirs)
    return render_report(figures)


def dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                           page.as_uri()], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_chart_draws_in_headless_chromium(tmp_path: Path) -> None:
    html = example_report()
    assert len(html.encode()) < 2_000_000
    charts = re.findall(r'<svg class="chart" data-chart="([\w-]+)"', html)
    assert set(charts) >= {"actions", "bands", "first-fire", "per-loan", "stages", "workload",
                           "cost", "compliance", "divergence", "deltas"}
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = dump_dom(page, tmp_path / "profile")
    assert 'data-measured="yes"' in dom, "the measuring script did not run"
    drawn = dict(re.findall(r'data-chart="([\w-]+)"[^>]*?data-drawn="([^"]+)"', dom))
    assert sorted(drawn) == sorted(charts), "a chart is missing from the rendered page"
    for name, found in drawn.items():
        size, marks, inked, filled = found.split(":")
        width, height = (int(x) for x in size.split("x"))
        assert width > 100 and height > 50, f"chart {name} has no size on screen: {size}"
        assert int(marks) > 5 and int(inked) > 5, f"chart {name} drew no marks: {found}"
        assert int(filled) >= 1, f"chart {name} drew axes but no bars, boxes or areas: {found}"
