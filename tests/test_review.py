"""`policylang doc`: the review document of a policy, in HTML and Markdown, zh and en.

Every section is there in both formats and languages; facts and actions appear under
their schema labels (`label` zh, `label_en` en), in the text and in the chart;
assertions come with their status (and a witness when one fails); `--against` shows a
difference with its witness; the command's exit codes; and the HTML drawn by headless
Chromium (the chart and every section have a size on screen, the Chinese chart draws
Chinese text), as tests/simulation/test_report_browser.py does for the simulation
report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from engine.review.html import render_html
from engine.review.markdown import render_markdown
from engine.review.model import Review, build_review, label_source
from engine.review.texts import SECTIONS, section_title
from engine.review.timeline import day_facts
from engine.review.words import fact_words
from policylang.pipeline import load_file
from policylang.schema import load_schema, parse_schema

ROOT = Path(__file__).resolve().parent.parent
RETAIL = ROOT / "policies" / "retail.policy"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BASE = ["ladder", "metadata", "params", "rules", "assertions"]
SCHEMA = load_schema(ROOT / "policies" / "collection.schema.yaml").schema
assert SCHEMA is not None
CJK = re.compile(r"[\u4e00-\u9fff]")


@cache
def review(lang: str, days: int = 120) -> Review:
    checked = load_file(RETAIL).checked
    assert checked is not None
    return build_review(checked, lang=lang, days=days, lead=7)


def old_copy(folder: Path, change: tuple[str, str]) -> tuple[Path, Path]:
    """A copy of policies/ holding retail.policy and an older version with `change`."""
    copy = shutil.copytree(ROOT / "policies", folder / "policies")
    text = (copy / "retail.policy").read_text(encoding="utf-8")
    assert change[0] in text
    (copy / "retail-old.policy").write_text(text.replace(*change), encoding="utf-8")
    return copy / "retail.policy", copy / "retail-old.policy"


def doc(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policylang.cli", "doc", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, check=False)


# -- sections ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_has_every_section_in_order(lang: str) -> None:
    html = render_html(review(lang))
    found = re.findall(r'<section id="(\w+)"><h2>([^<]+)</h2>', html)
    assert [key for key, _ in found] == [k for k, _, _ in SECTIONS if k != "against"]
    assert all(title == section_title(lang, key) for key, title in found)
    assert "<script" not in html and "http" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "").replace("http://www.w3.org/1999/xlink", "")
    assert "@media print" in html and '<svg class="chart" data-chart="ladder"' in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_has_the_same_sections(lang: str) -> None:
    text = render_markdown(review(lang))
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == [section_title(lang, k) for k, _, _ in SECTIONS if k != "against"]
    assert "<svg" not in text
    assert "| 1 … 3 |" in text       # the ladder as a table: days 1 to 3 alike


def test_metadata_names_version_digest_schema_and_guards() -> None:
    html = render_html(review("en"))
    checked = load_file(RETAIL).checked
    assert checked is not None
    for shown in ("retail_collection", "2026.11", checked.digest, "collection.schema.yaml",
                  "cn_conduct 2026.1"):
        assert shown in html


def test_rules_are_in_plain_words_grouped_by_stage_with_label_and_source() -> None:
    zh, en = review("zh"), review("en")
    stages = [stage for stage, _ in zh.groups]
    assert stages[0] == 0 and stages[1:] == sorted(stages[1:])      # guards first
    rules = {r.name: (stage, r) for stage, group in zh.groups for r in group}
    stage, letter = rules["overdue_letter"]
    assert stage == 3                                               # notify: stage 3
    assert letter.source == "篇1 第4条"
    assert "逾期天数 ≥ letter_day" in letter.condition
    assert letter.actions == ("书面通知（notify borrower using overdue_notice）",)
    assert rules["sue"][0] == 5 and rules["guard cn_conduct: quiet_hours"][0] == 0
    english = {r.name: r for _, group in en.groups for r in group}
    facts = SCHEMA.facts
    assert (f"{facts['overdue'].label_en} ≥ letter_day and "
            f"{facts['days_since_letter'].label_en} ≥ letter_interval") in \
        english["overdue_letter"].condition
    every = [r.name for _, group in zh.groups for r in group]
    assert len(every) == len(set(every)) == len(load_file(RETAIL).checked.rules)  # type: ignore[union-attr]


def label(definition: object, lang: str) -> str:
    """The schema label the document should show in `lang`, read off the schema file."""
    found = getattr(definition, "label" if lang == "zh" else "label_en")
    assert found, f"{definition} has no label for {lang}"
    return str(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_facts_appear_under_their_schema_label_in_the_chosen_language(lang: str) -> None:
    shown = review(lang)
    assert len(shown.facts) > 20
    for name, words, _ in shown.facts:
        assert words == label(SCHEMA.facts[name], lang)
    conditions = " ".join(r.condition for _, group in shown.groups for r in group)
    used = [n for n, _, _ in shown.facts if label(SCHEMA.facts[n], lang) in conditions]
    assert len(used) > 10
    assert all(" days to limitation " not in c for c in conditions)   # no spaced names left


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_actions_carry_their_verb_label_in_the_chosen_language(lang: str) -> None:
    shown = review(lang)
    rules = {r.name: r for _, group in shown.groups for r in group}
    notify = label(SCHEMA.actions["notify"], lang)
    expected = (f"{notify}（notify borrower using overdue_notice）" if lang == "zh"
                else f"{notify} (notify borrower using overdue_notice)")
    assert rules["overdue_letter"].actions == (expected,)
    for _, group in shown.groups:
        for rule in group:
            for words in rule.actions:
                verb = words.split("（")[-1].split("(")[-1].split(" ")[0]
                if verb in SCHEMA.actions:
                    assert words.startswith(label(SCHEMA.actions[verb], lang)), words
    ladder = render_markdown(review(lang, 10)).split(section_title(lang, "ladder"))[1]
    assert f"| {expected} |" in ladder              # the ladder table's column heading
    heading = shown.group_heading(3)
    assert notify in heading and (lang == "zh") == bool(CJK.search(heading))


def test_without_the_language_label_a_fact_appears_by_its_spaced_name() -> None:
    schema = parse_schema("facts:\n  days_to_end: {type: days, label: 距届满天数}\n"
                          "  cease: {type: bool, label_en: request to cease}\nactions: {}\n",
                          "t.yaml").schema
    assert schema is not None
    assert fact_words(schema, "days_to_end", "en") == "days to end"   # not the zh label
    assert fact_words(schema, "days_to_end", "zh") == "距届满天数"
    assert fact_words(schema, "cease", "zh") == "cease"               # not the en label
    assert fact_words(schema, "cease", "en") == "request to cease"


def test_label_source_takes_the_closing_parenthesis_with_nested_ones() -> None:
    assert label_source("电话已变更或失联（篇4 二(一)2(1)）") == "篇4 二(一)2(1)"
    assert label_source("plain label") is None and label_source(None) is None


def test_params_with_their_values() -> None:
    params = dict(review("en").params)
    assert params["letter_day"] == "7 days" and params["call_cap"] == "7"


# -- ladder -----------------------------------------------------------------------------

def test_ladder_shows_the_retail_steps_on_their_days() -> None:
    timeline = review("en").timeline
    assert timeline.days[0] == -7 and timeline.days[-1] == 120
    assert timeline.fires("typical", -1, "call borrower using repayment_reminder")
    assert not timeline.fires("typical", 0, "call borrower using overdue_consequences")
    assert timeline.fires("typical", 1, "visit borrower using credit_consequences")
    assert timeline.fires("typical", 7, "notify borrower using overdue_notice")
    assert not timeline.fires("typical", 6, "notify borrower using overdue_notice")
    assert timeline.fires("guarantor", 4, "notify guarantor using guarantor_demand")
    assert not any(timeline.fires("typical", d, "notify guarantor using guarantor_demand")
                   for d in timeline.days)
    assert timeline.fires("unreachable", 1, "sms borrower using overdue_reminder")


def test_ladder_days_follow_a_monthly_instalment() -> None:
    schema = load_file(RETAIL).checked.schema  # type: ignore[union-attr]
    assert day_facts(schema, -3) == {"overdue": 0, "due_in": 3, "periods_overdue": 0}
    assert day_facts(schema, 31) == {"overdue": 31, "due_in": 29, "periods_overdue": 2}


def test_ladder_length_follows_days() -> None:
    assert review("en", 30).timeline.days[-1] == 30


def chart_texts(html: str) -> list[str]:
    svg = html.split('<svg class="chart" data-chart="ladder"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_chart_speaks_the_document_language(lang: str) -> None:
    shown = review(lang)
    texts = chart_texts(render_html(shown))
    for action in shown.timeline.actions:
        verb = SCHEMA.actions[action.split(" ")[0]]
        assert label(verb, lang) in texts and action in texts    # label over the words
    for profile in shown.timeline.profiles:
        assert profile.name in texts
    assert any(t.startswith("距还款日天数" if lang == "zh" else "days from the due date")
               for t in texts)
    assert (lang == "zh") == any(CJK.search(t) for t in texts)


def test_the_chart_names_a_cjk_font_after_dejavu_and_stays_deterministic() -> None:
    from engine.review.chart import ladder_svg

    shown = review("zh", 30)
    html = render_html(shown)
    assert "font-family: 'DejaVu Sans', 'WenQuanYi Micro Hei', 'Noto Sans CJK SC'" in html
    args = {"labels": shown.chart_labels, "day_label": "日", "due_label": "还款日"}
    assert ladder_svg(shown.timeline, **args) == ladder_svg(shown.timeline, **args)


def test_the_chart_says_nothing_about_missing_fonts(caplog: pytest.LogCaptureFixture,
                                                    recwarn: pytest.WarningsRecorder) -> None:
    """Without one of the fonts the chart still renders, measured with the fallback glyph;
    matplotlib's "Glyph … missing" and "Font family … not found" stay silent."""
    from engine.review.chart import ladder_svg

    shown = review("zh", 30)
    with caplog.at_level("WARNING", logger="matplotlib.font_manager"):
        ladder_svg(shown.timeline, labels=shown.chart_labels, day_label="日", due_label="还款日")
    assert [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()] == []
    assert [str(w.message) for w in recwarn if "Glyph" in str(w.message)] == []


# -- assertions -------------------------------------------------------------------------

def test_every_assertion_is_listed_with_its_status() -> None:
    checked = load_file(RETAIL).checked
    assert checked is not None
    shown = review("en").assertions
    assert len(shown) == len(checked.asserts) == 20
    assert {a.status for a in shown} == {"proved"}
    html = render_html(review("en"))
    assert html.count('<span class="proved">proved</span>') == 20
    assert "20 assertions: 20 proved, 0 do not hold" in html


def test_a_failing_assertion_shows_its_witness(tmp_path: Path) -> None:
    new, _ = old_copy(tmp_path, ("assert not has_guarantor -> no call guarantor",
                                 "assert not has_guarantor -> no call guarantor\n"
                                 "assert overdue >= 1 day -> refer legal"))
    broken = new.parent / "broken.policy"
    broken.write_text(new.parent.joinpath("retail-old.policy").read_text(encoding="utf-8"),
                      encoding="utf-8")
    done = doc(broken, "--format", "md", "--lang", "en")
    assert done.returncode == 0, done.stderr
    entry = done.stdout.split("**does not hold**", 1)[1]
    assert "`assert overdue >= 1 day -> refer legal`" in entry
    assert "the result lacks `refer legal`" in entry
    assert re.search(r"witness: `overdue=\d+", entry)
    assert "21 assertions: 20 proved, 1 do not hold" in done.stdout


# -- against ----------------------------------------------------------------------------

def test_against_shows_a_difference_with_its_witness(tmp_path: Path) -> None:
    new, old = old_copy(tmp_path, ("param letter_day = 7 days", "param letter_day = 10 days"))
    done = doc(new, "--against", old, "--format", "html", "--lang", "en")
    assert done.returncode == 0, done.stderr
    section = done.stdout.split('<section id="against">', 1)[1].split("</section>", 1)[0]
    assert "decide these loans differently" in section
    assert "<code>overdue_letter</code>" in section
    witness = re.search(r'<code class="witness">([^<]+)</code>', section)
    assert witness is not None and re.match(r"overdue=[789],", witness.group(1))
    assert "notify borrower using overdue_notice" in section


def test_against_an_equivalent_version_says_so(tmp_path: Path) -> None:
    new, old = old_copy(tmp_path, ("# ---- 参数", "# ---- 参数 (reworded)"))
    done = doc(new, "--against", old, "--format", "md")
    assert done.returncode == 0, done.stderr
    assert "## 与上一版本的差异" in done.stdout
    assert "两版本对所有贷款的决定完全相同（已证明）" in done.stdout


# -- the command ------------------------------------------------------------------------

def test_cli_writes_the_file_with_out(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    done = doc(RETAIL, "--format", "html", "--out", out)
    assert done.returncode == 0 and done.stdout == "", done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_errors_exit_1_for_a_bad_policy_and_2_for_a_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text('policy bad\nschema "nowhere.yaml"\n', encoding="utf-8")
    done = doc(bad, "--format", "md")
    assert done.returncode == 1 and "no document was written" in done.stderr
    missing = doc(tmp_path / "missing.policy", "--format", "md")
    assert missing.returncode == 2 and "cannot read the policy file" in missing.stderr
    usage = doc(RETAIL)
    assert usage.returncode == 2 and "--format" in usage.stderr


# -- in a browser -----------------------------------------------------------------------

MEASURE = """<script>
for (const el of document.querySelectorAll("section, svg.chart")) {
  const box = el.getBoundingClientRect();
  const marks = el.tagName === "svg" ? [...el.querySelectorAll("path, rect")].filter(e => {
    const b = e.getBoundingClientRect(), fill = getComputedStyle(e).fill;
    return b.width * b.height > 0 && fill !== "none" && fill !== "rgb(255, 255, 255)"; }).length
    : el.textContent.trim().length;
  el.setAttribute("data-drawn", `${Math.round(box.width)}x${Math.round(box.height)}:${marks}`);
  if (el.tagName === "svg") el.setAttribute("data-cjk", [...el.querySelectorAll("text")].filter(
    t => /[\u4e00-\u9fff]/.test(t.textContent) && t.getBBox().width > 0).length);
}
document.body.setAttribute("data-measured", "yes");
</script>"""
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--window-size=1200,900", "--virtual-time-budget=5000")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (Debian: apt-get "
                    "install chromium; .ci/run installs it)")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_chart_and_every_section_draw_in_headless_chromium(tmp_path: Path,
                                                                lang: str) -> None:
    assert CHROMIUM is not None
    new, old = old_copy(tmp_path, ("param letter_day = 7 days", "param letter_day = 10 days"))
    done = doc(new, "--against", old, "--format", "html", "--lang", lang)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "review.html"
    page.write_text(done.stdout.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    shown = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                            "--dump-dom", page.as_uri()], capture_output=True, text=True,
                           timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr[-2000:]
    dom = shown.stdout
    assert 'data-measured="yes"' in dom, "the measuring script did not run"
    sections = dict(re.findall(r'<section id="(\w+)" data-drawn="([^"]+)"', dom))
    assert sorted(sections) == sorted(k for k, _, _ in SECTIONS)
    for key, drawn in sections.items():
        size, content = drawn.split(":")
        width, height = (int(x) for x in size.split("x"))
        assert width > 300 and height > 40 and int(content) > 20, f"section {key}: {drawn}"
    chart = re.search(r'data-chart="ladder"[^>]*?data-drawn="([^"]+)"', dom)
    assert chart is not None, "the ladder chart is missing from the rendered page"
    size, bars = chart.group(1).split(":")
    width, height = (int(x) for x in size.split("x"))
    assert width > 300 and height > 150, f"the chart has no size on screen: {size}"
    assert int(bars) >= 20, f"the chart drew no bars: {chart.group(1)}"
    cjk = re.search(r'data-chart="ladder"[^>]*?data-cjk="(\d+)"', dom)
    assert cjk is not None, "the measuring script did not count the chart's text"
    if lang == "zh":      # a label per action, the three profiles, the axis: in Chinese
        assert int(cjk.group(1)) >= len(review("zh").timeline.actions) + 4
    else:
        assert int(cjk.group(1)) == 0


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (Debian: apt-get "
                    "install chromium; .ci/run installs it)")
def test_the_document_prints_to_a_few_a4_pages(tmp_path: Path) -> None:
    """What compliance signs is the printout: Chromium prints the page (print CSS: no
    navigation, the chart and each rule kept whole) to a PDF of a handful of A4 pages."""
    assert CHROMIUM is not None
    done = doc(RETAIL, "--format", "html", "--lang", "zh")
    assert done.returncode == 0, done.stderr
    page = tmp_path / "review.html"
    page.write_text(done.stdout, encoding="utf-8")
    pdf = tmp_path / "review.pdf"
    printed = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                              "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                              page.as_uri()], capture_output=True, text=True, timeout=120,
                             check=False)
    assert printed.returncode == 0 and pdf.is_file(), printed.stderr[-2000:]
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", body))
    assert 3 <= pages <= 25, f"{pages} pages"
    sizes = set(re.findall(rb"/MediaBox\s*\[0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)\]", body))
    assert sizes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2
                         for w, h in sizes), sizes        # A4 portrait (@page in the CSS)
