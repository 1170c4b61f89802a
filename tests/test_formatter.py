"""The formatter: golden layouts, a fixed point, meaning and comments kept.

Golden files: tests/golden/fmt/<case>.policy is the input, <case>.formatted what
`policylang fmt` must print. Run with POLICYLANG_UPDATE_GOLDEN=1 to rewrite the
.formatted files from the current formatter, then review the diff.
"""

import os
import re
import textwrap
from pathlib import Path

import pytest

from policylang import nodes
from policylang.formatter import (
    MAX_WIDTH,
    FormatResult,
    check_formatted,
    format_text,
)
from policylang.parser import parse_text
from policylang.source import display_width

GOLDEN = Path(__file__).parent / "golden" / "fmt"
CASES = sorted(p.stem for p in GOLDEN.glob("*.policy"))
UPDATE = os.environ.get("POLICYLANG_UPDATE_GOLDEN") == "1"
HEADER = 'policy p version "1"\nschema "s.yaml"\n'


def fmt(text: str) -> str:
    result = format_text(text, "t.policy")
    assert result.diagnostics == ()
    assert result.text is not None
    return result.text


def body(text: str) -> str:
    """The formatted text after the two header lines and the blank line after them."""
    out = fmt(HEADER + text)
    assert out.startswith(HEADER)
    return out[len(HEADER):].removeprefix("\n")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- golden files ------------------------------------------------------------------------

def test_there_are_enough_golden_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES)
def test_golden_layout(case: str) -> None:
    source = GOLDEN / f"{case}.policy"
    expected = GOLDEN / f"{case}.formatted"
    out = fmt(read(source))
    if UPDATE:
        expected.write_text(out, encoding="utf-8")
    assert expected.exists(), f"no {expected.name}: run with POLICYLANG_UPDATE_GOLDEN=1"
    assert out == read(expected)


@pytest.mark.parametrize("case", CASES)
def test_golden_formatted_is_a_fixed_point_with_the_same_meaning(case: str) -> None:
    formatted = read(GOLDEN / f"{case}.formatted")
    assert fmt(formatted) == formatted
    assert check_formatted(formatted, f"{case}.formatted")
    original = parse_text(read(GOLDEN / f"{case}.policy"))
    again = parse_text(formatted)
    assert again.policy == original.policy
    assert sorted(c.text for c in again.comments) == sorted(c.text for c in original.comments)


@pytest.mark.parametrize("case", CASES)
def test_golden_formatted_lines_fit_unless_one_operand_is_too_long(case: str) -> None:
    for line in read(GOLDEN / f"{case}.formatted").splitlines():
        code = line.split("  #")[0]
        assert display_width(code) <= MAX_WIDTH or "->" not in code, line


# -- broken files are never formatted ------------------------------------------------------

def test_syntax_error_gives_diagnostics_and_no_text() -> None:
    result = format_text(HEADER + "overdue >= 4 days visit borrower\n")
    assert isinstance(result, FormatResult)
    assert result.text is None
    assert [d.code for d in result.diagnostics] == ["E101"]


def test_every_broken_statement_is_reported() -> None:
    result = format_text(HEADER + "rule a: x >\nrule b: -> visit borrower\n")
    assert result.text is None
    assert len(result.diagnostics) == 2


def test_check_formatted_is_false_for_a_broken_file() -> None:
    assert not check_formatted("policy\n")


def test_check_formatted_tells_formatted_from_not() -> None:
    assert check_formatted(HEADER + "\noverdue >= 4 days -> visit borrower\n")
    assert not check_formatted(HEADER + "\noverdue>=4 days -> visit borrower\n")


# -- whole-file details --------------------------------------------------------------------

def test_output_ends_with_exactly_one_newline() -> None:
    assert fmt(HEADER + "x -> visit borrower") .endswith("borrower\n")
    assert fmt(HEADER + "x -> visit borrower\n\n\n\n").endswith("borrower\n")


def test_empty_file_stays_empty() -> None:
    assert fmt("") == ""
    assert fmt("\n\n  \n") == ""


def test_file_of_comments_only_keeps_them() -> None:
    assert fmt("\n# one\n\n\n# two\n\n") == "# one\n\n# two\n"


def test_crlf_line_ends_become_lf() -> None:
    assert fmt(HEADER.replace("\n", "\r\n") + "x -> visit borrower  # c\r\n") == \
        HEADER + "\nx -> visit borrower  # c\n"


def test_a_lone_cr_is_not_a_line_break() -> None:
    """Only \n ends a line, for the parser, the spans and the formatter alike."""
    result = format_text(HEADER.replace("\n", "\r"), "t.policy")
    assert result.text is None
    assert result.diagnostics


def test_tab_indented_continuation_is_reindented() -> None:
    assert body("rule a:\n\tx\n\t\t-> visit borrower\n") == "rule a:\n  x -> visit borrower\n"


def test_blank_line_between_groups_but_not_inside_the_header_block() -> None:
    out = fmt('policy p\n\n\nschema "s"\nparam a = 1\nlet b = a > 1\nb -> visit borrower\n')
    assert out == ('policy p\nschema "s"\n\nparam a = 1\n\nlet b = a > 1\n\n'
                   "b -> visit borrower\n")


def test_user_blank_lines_between_rules_collapse_to_one() -> None:
    assert body("a -> x y\n\n\n\nb -> x y\nc -> x y\n") == "a -> x y\n\nb -> x y\nc -> x y\n"


# -- statements ----------------------------------------------------------------------------

def test_rule_head_shows_priority_only_when_written() -> None:
    assert body("rule a: x -> y z\n") == "rule a:\n  x -> y z\n"
    assert body("rule a priority 0: x -> y z\n") == "rule a priority 0:\n  x -> y z\n"
    assert body("rule a priority -2 final: x -> y z\n") == \
        "rule a priority -2 final:\n  x -> y z\n"


def test_long_rule_breaks_before_the_arrow() -> None:
    condition = "overdue >= letter_day and days_since_letter > 30 days"
    actions = "notify borrower using overdue_notice, call borrower"
    assert body(f"rule letter: {condition} -> {actions}\n") == \
        f"rule letter:\n  {condition}\n    -> {actions}\n"


def test_long_chain_puts_one_operand_per_line() -> None:
    operands = [f"fact_number_{i} >= {i + 2} days" for i in range(6)]
    out = body(f"{' or '.join(operands)} -> visit borrower\n")
    assert out == (operands[0] + "\n" + "".join(f"    or {o}\n" for o in operands[1:])
                   + "    -> visit borrower\n")


def test_width_counts_chinese_characters_as_two_columns() -> None:
    name = "逾期天数" * 9                         # 36 characters, 72 columns
    text = f"{name} >= 1 day -> visit borrower\n"
    assert len(text.rstrip()) <= MAX_WIDTH < display_width(text.rstrip())
    assert body(text) == f"{name} >= 1 day\n    -> visit borrower\n"


def test_literals_are_canonical() -> None:
    out = body("param a = 1 days\nparam b = 3 day\nparam c = 1 weeks\nparam d = 2 week\n"
               "param e = 1.0 days\nparam f = 0.0000001\nparam g = 007.50\n"
               'param h = "a \\"q\\" \\\\ b"\nparam i = -0\n')
    assert out == ("param a = 1 day\nparam b = 3 days\nparam c = 1 week\nparam d = 2 weeks\n"
                   "param e = 1.0 day\nparam f = 0.0000001\nparam g = 7.50\n"
                   'param h = "a \\"q\\" \\\\ b"\nparam i = 0\n')


def test_string_escapes_read_back_the_same_value() -> None:
    out = body('param s = "tab\\there\\nnew \\x"\n')
    assert out == 'param s = "tab\\there\\nnew x"\n'
    (_, _, param) = parse_text(HEADER + out).policy.statements
    assert param.value == nodes.String(value="tab\there\nnew x")


@pytest.mark.parametrize(("source", "expected"), [
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b and c)", "a or (b and c)"),
    ("a or b and c", "a or (b and c)"),
    ("a and b or c", "(a and b) or c"),
    ("(a or b) or c", "(a or b) or c"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("x > (1 + 2) * 3", "x > (1 + 2) * 3"),
    ("x > 1 + (2 * 3)", "x > 1 + 2 * 3"),
    ("x > 1 - (2 - 3)", "x > 1 - (2 - 3)"),
    ("x > (1 - 2) - 3", "x > 1 - 2 - 3"),
    ("x > 8 / (4 / 2)", "x > 8 / (4 / 2)"),
    ("x > -(1 + 2)", "x > -(1 + 2)"),
    ("x > - -3", "x > - -3"),
    ("x > -(-3)", "x > - -3"),
    ("(x > 1) == y", "(x > 1) == y"),
    ("x between (1) and (2 + 3)", "x between 1 and 2 + 3"),
    ("not (x in {a, -1, 2 days})", "not x in {a, -1, 2 days}"),
    ("x not in {}", "x not in {}"),
])
def test_parentheses_where_precedence_needs_them_and_around_and_inside_or(
        source: str, expected: str) -> None:
    assert body(f"{source} -> y z\n") == f"{expected} -> y z\n"


def test_negative_literals_in_params_and_sets_read_back_equal() -> None:
    text = "param a = -3 days\nparam b = - 2.50 CNY\nx in {-1, - 30%} -> y z\n"
    out = fmt(HEADER + text)
    assert parse_text(out).policy == parse_text(HEADER + text).policy
    assert "param b = -2.50 CNY" in out
    assert "x in {-1, -30%}" in out


# -- comments ------------------------------------------------------------------------------

def test_full_line_comment_stays_before_its_statement() -> None:
    assert body("# about a\na -> x y\n") == "# about a\na -> x y\n"


def test_trailing_comment_stays_on_the_line_of_its_code() -> None:
    assert body("rule a:   # why\n  x -> y z   # what\n") == \
        "rule a:  # why\n  x -> y z  # what\n"


def test_comment_inside_a_multiline_rule_stays_inside() -> None:
    text = "rule a:\n  # explained\n  x\n    -> y z\n"
    assert body(text) == "rule a:\n  # explained\n  x -> y z\n"


def test_comment_before_the_arrow_of_a_broken_rule_stays_before_it() -> None:
    operands = " and ".join(f"long_fact_{i} >= {i + 2} days" for i in range(3))
    text = f"rule a:\n  {operands}\n  # the action\n  -> notify borrower using overdue_notice\n"
    assert body(text) == (f"rule a:\n  {operands}\n    # the action\n"
                          "    -> notify borrower using overdue_notice\n")


def test_trailing_comments_joined_onto_one_line_keep_the_last_at_the_end() -> None:
    text = "rule a:\n  x and  # first\n  y  # second\n  -> v b  # third\n"
    assert body(text) == "rule a:\n  # first\n  # second\n  x and y -> v b  # third\n"


def test_indented_comment_after_a_statement_stays_with_it() -> None:
    assert body("a -> x y\n  # more about a\nb -> x y\n") == \
        "a -> x y\n  # more about a\nb -> x y\n"


def test_comments_at_end_of_file_are_kept() -> None:
    assert body("a -> x y\n\n\n# the end\n\n") == "a -> x y\n\n# the end\n"


def test_comment_text_is_kept_as_written() -> None:
    assert body("a -> x y #no space ，中文  \n") == "a -> x y  #no space ，中文\n"


# -- the documentation ---------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs"


def doc_blocks(info: str) -> list[str]:
    """The text of every fenced block of docs/formatting.md whose info string is `info`."""
    text = read(DOCS / "formatting.md")
    fence = re.compile(rf"^([ \t]*)```{re.escape(info)}[ \t]*\n(.*?)^\1```[ \t]*$",
                       re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(m.group(2)) for m in fence.finditer(text)]


def test_docs_before_and_after_example_holds() -> None:
    (before,), (after,) = doc_blocks("policy before"), doc_blocks("policy after")
    assert fmt(before) == after


def test_docs_layout_fragments_are_already_formatted() -> None:
    fragments = doc_blocks("policy-fragment")
    assert len(fragments) >= 2
    for fragment in fragments:
        assert body(fragment) == fragment


def test_docs_python_example_runs() -> None:
    (code,) = doc_blocks("python")
    exec(compile(code, "docs/formatting.md", "exec"), {})  # noqa: S102 - our own docs' example


@pytest.mark.parametrize("path", sorted(p.name for p in (DOCS / "examples").glob("*.policy")
                                        if p.name != "broken.policy"))
def test_docs_example_policies_are_formatted(path: str) -> None:
    assert check_formatted(read(DOCS / "examples" / path), path)


def test_trailing_comments_of_one_line_statements_line_up() -> None:
    out = body("param a = 1 # one\nparam long_name = 2 # two\n")
    assert out == "param a = 1          # one\nparam long_name = 2  # two\n"


def test_a_long_action_list_is_wrapped_under_its_first_action() -> None:
    actions = ", ".join(f"suppress call borrower{i}" for i in range(6))
    out = body(f"rule r:\n  x -> {actions}\n")
    lines = out.splitlines()
    assert all(len(line) <= 88 for line in lines)
    assert lines[2].startswith("    -> suppress call borrower0")
    assert lines[3].startswith("       suppress")


@pytest.mark.parametrize("path", sorted((GOLDEN.parent.parent.parent / "policies").rglob(
    "*.policy")), ids=lambda p: p.name)
def test_shipped_policies_are_formatted(path: Path) -> None:
    assert check_formatted(path.read_text(encoding="utf-8"), str(path))
