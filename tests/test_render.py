"""Rendering diagnostics: carets placed by display width, hints, notes, JSON shape."""

from __future__ import annotations

from policylang.diagnostics import Label, diagnostic
from policylang.render import (
    diagnostic_json,
    files_json,
    group_by_file,
    render_all_text,
    render_text,
    summary_line,
)
from policylang.source import SourceFile

FILE = "p.policy"


def source_of(text: str) -> dict[str, SourceFile]:
    return {FILE: SourceFile(FILE, text)}


def at(text: str, fragment: str, nth: int = 0) -> tuple[int, int]:
    """Offsets of the nth occurrence of `fragment` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(fragment, start + 1)
    return start, start + len(fragment)


def render_at(text: str, fragment: str, code: str = "E301", message: str = "msg",
              hint: str | None = None, **extra: object) -> list[str]:
    """Render a diagnostic on `fragment` of `text`; returns the output lines."""
    sources = source_of(text)
    span = sources[FILE].span(*at(text, fragment))
    found = diagnostic(code, span, message, hint, file=FILE, **extra)  # type: ignore[arg-type]
    return render_text(found, sources).split("\n")


def caret_line(lines: list[str]) -> str:
    """The underline row, without its `  | ` gutter."""
    return lines[3].split(" | ", 1)[1]


# -- the head line and the excerpt ----------------------------------------------

def test_head_line_gives_file_line_column_severity_code_and_message() -> None:
    text = "policy p\nrule a: overdu >= 7 days -> call borrower\n"
    lines = render_at(text, "overdu", message="`overdu` is not a fact, let or param")
    assert lines[0] == "p.policy:2:9: error[E301]: `overdu` is not a fact, let or param"


def test_warning_shows_warning_severity() -> None:
    text = "rule v: x -> visit borrower, visit borrower\n"
    lines = render_at(text, "visit borrower", code="W504")
    assert lines[0].startswith("p.policy:1:14: warning[W504]: ")


def test_excerpt_shows_the_source_line_under_a_gutter() -> None:
    text = "policy p\nrule a: overdu >= 7 days -> call borrower\n"
    lines = render_at(text, "overdu")
    assert lines[1:4] == [
        "  |",
        "2 | rule a: overdu >= 7 days -> call borrower",
        "  |         ^^^^^^",
    ]


def test_gutter_is_as_wide_as_the_line_number() -> None:
    text = "\n" * 11 + "rule a: overdu -> call borrower\n"
    lines = render_at(text, "overdu")
    assert lines[1:4] == [
        "   |",
        "12 | rule a: overdu -> call borrower",
        "   |         ^^^^^^",
    ]


# -- carets by display width ------------------------------------------------------

def test_caret_under_a_chinese_name_takes_two_columns_a_character() -> None:
    text = "rule a: 逾期天树 >= 3 days -> call borrower\n"
    assert caret_line(render_at(text, "逾期天树")) == " " * 8 + "^" * 8


def test_caret_after_chinese_text_is_shifted_by_its_display_width() -> None:
    text = 'rule 电话提醒 "逾期三天": 逾期天树 >= 3 days -> call borrower\n'
    # before the span: `rule ` (5) + 电话提醒 (8) + ` ` (1) + "逾期三天" (10) + `: ` (2)
    assert caret_line(render_at(text, "逾期天树")) == " " * 26 + "^" * 8


def test_caret_after_a_chinese_name_under_an_ascii_span() -> None:
    text = "rule a: 逾期天数 >= 7 -> call borrower\n"
    assert caret_line(render_at(text, "逾期天数 >= 7")) == " " * 8 + "^" * 13


def test_tabs_before_the_span_are_kept_as_tabs() -> None:
    text = "rule letter:\n\toverdue >= 7 days\n\t\t-> notify borrower using overdue_notise\n"
    lines = render_at(text, "overdue_notise")
    assert lines[2] == "3 | \t\t-> notify borrower using overdue_notise"
    assert caret_line(lines) == "\t\t" + " " * 25 + "^" * 14


def test_tab_and_chinese_before_the_span() -> None:
    text = "rule 提醒:\n\t逾期天数 >= 7 days -> cal borrower\n"
    # a tab, 逾期天数 (8 columns), ` >= 7 days -> ` (14)
    assert caret_line(render_at(text, "cal")) == "\t" + " " * (8 + 14) + "^^^"


def test_full_width_punctuation_gets_two_carets() -> None:
    text = "rule 提醒：overdue >= 7 days -> call borrower\n"
    assert caret_line(render_at(text, "：", code="E102")) == " " * 9 + "^^"


def test_empty_span_at_the_end_of_a_line_still_gets_one_caret() -> None:
    text = "rule visit: overdue >= 4 days and\n"
    end = len(text) - 1
    sources = source_of(text)
    found = diagnostic("E105", sources[FILE].span(end, end), "the statement ends too early",
                       file=FILE)
    lines = render_text(found, sources).split("\n")
    assert lines[0].startswith("p.policy:1:34: ")
    assert caret_line(lines) == " " * 33 + "^"


def test_multiline_span_is_underlined_to_the_end_of_its_first_line() -> None:
    text = "rule a:\n  overdue_amount\n    + 100 CNY -> call borrower\n"
    sources = source_of(text)
    start, _ = at(text, "overdue_amount")
    _, end = at(text, "100 CNY")
    found = diagnostic("E205", sources[FILE].span(start, end), "not true/false", file=FILE)
    lines = render_text(found, sources).split("\n")
    assert lines[0].startswith("p.policy:2:3: ")
    assert lines[2] == "2 |   overdue_amount"
    assert caret_line(lines) == "  " + "^" * len("overdue_amount")
    assert len(lines) == 4


def test_multiline_span_starting_after_chinese_text() -> None:
    text = "rule 提醒:\n  逾期天数\n    + 3 days -> call borrower\n"
    sources = source_of(text)
    start, _ = at(text, "逾期天数")
    _, end = at(text, "3 days")
    found = diagnostic("E205", sources[FILE].span(start, end), "not true/false", file=FILE)
    assert caret_line(render_text(found, sources).split("\n")) == "  " + "^" * 8


def test_crlf_line_endings_are_not_shown_or_underlined() -> None:
    text = "policy p\r\nrule a: overdu -> call borrower\r\n"
    lines = render_at(text, "overdu")
    assert lines[2] == "2 | rule a: overdu -> call borrower"


# -- hint, note and witness lines ---------------------------------------------------

def test_hint_line_follows_the_excerpt() -> None:
    text = "rule letter: overdue >= 7 -> call borrower\n"
    lines = render_at(text, "overdue >= 7", code="E202", hint="did you mean 7 days?")
    assert lines[4:] == ["  = hint: did you mean 7 days?"]


def test_no_hint_line_when_there_is_no_hint() -> None:
    lines = render_at("rule a: overdu -> call borrower\n", "overdu")
    assert len(lines) == 4
    assert not any("hint" in line for line in lines)


def test_note_line_names_the_line_of_the_related_place() -> None:
    text = ("rule letter: overdue >= 7 days -> call borrower\n"
            "rule letter: overdue >= 9 days -> visit borrower\n")
    sources = source_of(text)
    first = sources[FILE].span(*at(text, "letter", 0))
    second = sources[FILE].span(*at(text, "letter", 1))
    found = diagnostic("E501", second, "there is already a rule named `letter` on line 1",
                       "rename one of them", file=FILE,
                       labels=[Label(first, "first defined here")])
    lines = render_text(found, sources).split("\n")
    assert lines[0] == ("p.policy:2:6: error[E501]: there is already a rule named `letter` "
                        "on line 1")
    assert lines[4:] == ["  = hint: rename one of them", "  = note: line 1: first defined here"]


def test_witness_line_shows_the_facts_as_json_keeping_chinese() -> None:
    text = "rule a: 逾期天数 >= 7 days -> call borrower\n"
    lines = render_at(text, "rule a", code="E201", witness={"逾期天数": 7, "ok": True})
    assert lines[-1] == '  = witness: {"逾期天数": 7, "ok": true}'


def test_diagnostic_without_a_source_has_no_excerpt() -> None:
    found = diagnostic("E401", None, 'cannot read the schema file "x.yaml"', "check the path",
                       file="x.yaml")
    assert render_text(found, {}) == ('x.yaml:1:1: error[E401]: cannot read the schema file '
                                      '"x.yaml"\n  = hint: check the path')


def test_render_all_text_separates_diagnostics_with_a_blank_line() -> None:
    text = "rule a: overdu -> cal borrower\n"
    sources = source_of(text)
    found = [diagnostic("E301", sources[FILE].span(*at(text, "overdu")), "one", file=FILE),
             diagnostic("E302", sources[FILE].span(*at(text, "cal")), "two", file=FILE)]
    blocks = render_all_text(found, sources).split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == ["p.policy:1:9: error[E301]: one",
                                                  "p.policy:1:19: error[E302]: two"]


def test_summary_line_counts_errors_and_warnings() -> None:
    span = SourceFile(FILE, "x\n").span(0, 1)
    error = diagnostic("E301", span, "e", file=FILE)
    warning = diagnostic("W504", span, "w", file=FILE)
    assert summary_line([error]) == "1 error, 0 warnings"
    assert summary_line([error, error, warning]) == "2 errors, 1 warning"
    assert summary_line([]) == "0 errors, 0 warnings"


# -- JSON -----------------------------------------------------------------------------

def test_json_columns_are_one_based_code_points_and_end_just_after_the_span() -> None:
    text = "policy p\nrule 提醒: 逾期天树 >= 3 days -> call borrower\n"
    sources = source_of(text)
    found = diagnostic("E301", sources[FILE].span(*at(text, "逾期天树")),
                       "`逾期天树` is not a fact, let or param", "did you mean 逾期天数?",
                       file=FILE)
    assert diagnostic_json(found) == {
        "code": "E301", "kind": "name", "severity": "error",
        "line": 2, "column": 10, "end_line": 2, "end_column": 14,
        "message": "`逾期天树` is not a fact, let or param",
        "hint": "did you mean 逾期天数?", "witness": None,
    }
    line = text.split("\n")[1]
    assert line[10 - 1:14 - 1] == "逾期天树"


def test_json_tab_counts_as_one_column() -> None:
    text = "\t\tx\n"
    found = diagnostic("E106", SourceFile(FILE, text).span(2, 3), "indented", file=FILE)
    assert (diagnostic_json(found)["column"], diagnostic_json(found)["end_column"]) == (3, 4)


def test_files_json_keeps_every_file_even_a_clean_one() -> None:
    span = SourceFile("s.yaml", "x\n").span(0, 1)
    found = diagnostic("E403", span, "bad type", file="s.yaml")
    groups = group_by_file("p.policy", [found])
    assert [name for name, _ in groups] == ["p.policy", "s.yaml"]
    out = files_json(groups)
    assert out["files"][0] == {"file": "p.policy", "diagnostics": []}
    assert out["files"][1]["diagnostics"][0]["code"] == "E403"
    assert out["files"][1]["diagnostics"][0]["kind"] == "schema"
