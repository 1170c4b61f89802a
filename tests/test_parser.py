"""The parser: statements by indentation, spans, exact numbers, every syntax error."""

from decimal import Decimal

import pytest

from policylang import nodes
from policylang.parser import parse_text

HEADER = 'policy p version "1" "标题"\nschema "s.yaml"\n'


def statements(text: str) -> tuple[nodes.Statement, ...]:
    result = parse_text(HEADER + text)
    assert result.diagnostics == ()
    assert result.policy is not None
    return result.policy.statements[2:]


def codes(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in parse_text(text).diagnostics]


def test_header_fields_are_read() -> None:
    header = parse_text(HEADER).policy.statements[0]
    assert header == nodes.Header(name=nodes.Ident(text="p"), version="1", title="标题")


def test_rule_spans_lines_when_later_lines_are_indented() -> None:
    (rule,) = statements("rule letter:\n  overdue >= 7 days\n    -> visit borrower\n")
    assert isinstance(rule, nodes.Rule)
    assert rule.name.text == "letter"
    assert (rule.span.line, rule.span.end_line) == (3, 5)


def test_comment_lines_inside_a_rule_do_not_end_it() -> None:
    (rule,) = statements("rule r:\n  overdue >= 7 days\n# a note\n  -> visit borrower\n")
    assert isinstance(rule, nodes.Rule)


def test_unnamed_rule_is_named_by_its_line() -> None:
    (rule,) = statements("overdue >= 4 days -> visit borrower\n")
    assert nodes.rule_name(rule) == "line 3"


def test_numbers_are_exact_decimals() -> None:
    (rule,) = statements("x >= 0.1 CNY + 0.2 CNY -> visit borrower\n")
    money = rule.condition.right.left
    assert money == nodes.Money(amount=Decimal("0.1"), currency="CNY")


def test_duration_without_space_is_accepted() -> None:
    (param,) = statements("param letter_day = 5days\n")
    assert param.value == nodes.Duration(amount=Decimal(5), unit=nodes.DurationUnit.DAY)


def test_negative_priority_and_final() -> None:
    (rule,) = statements("rule r priority -3 final: x -> suppress call\n")
    assert (rule.priority, rule.final) == (-3, True)
    assert rule.actions == (nodes.Suppress(verb=nodes.Ident(text="call")),)


def test_precedence_not_binds_tighter_than_and_tighter_than_or() -> None:
    (rule,) = statements("a or not b and c -> visit borrower\n")
    cond = rule.condition
    assert isinstance(cond, nodes.Or)
    assert isinstance(cond.operands[1], nodes.And)
    assert isinstance(cond.operands[1].operands[0], nodes.Not)


def test_between_and_is_not_boolean_and() -> None:
    (rule,) = statements("x between 1 day and 3 days and y -> visit borrower\n")
    assert isinstance(rule.condition, nodes.And)
    assert isinstance(rule.condition.operands[0], nodes.Between)


def test_unicode_names() -> None:
    (rule,) = statements("逾期天数 >= 7 days -> visit borrower\n")
    assert rule.condition.left == nodes.Name(text="逾期天数")


def test_spans_are_excluded_from_equality() -> None:
    a = statements("x -> visit borrower\n")
    b = statements("\n\n  \nx   ->   visit   borrower\n")
    assert a == b
    assert a[0].span != b[0].span


def test_every_bad_statement_is_reported_not_just_the_first() -> None:
    found = codes(HEADER + "x >= -> a b\nx > 3 cny -> a b\ny == \"open -> a b\n")
    assert [c for c, _, _ in found] == ["E101", "E107", "E103"]
    assert [line for _, line, _ in found] == [3, 4, 5]


def test_indented_line_with_nothing_to_continue() -> None:
    assert codes("  x -> a b\n") == [("E106", 1, 3)]


def test_statement_that_ends_early() -> None:
    found = parse_text(HEADER + "overdue > 3 days\n").diagnostics
    assert found[0].code == "E105"
    assert "->" in found[0].hint


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_files_parse(text: str) -> None:
    result = parse_text(text)
    assert result.diagnostics == ()


def test_comments_are_collected_with_their_places() -> None:
    result = parse_text(HEADER + "# lead\nx -> a b  # trail\n")
    assert [(c.text, c.span.line) for c in result.comments] == [("# lead", 3), ("# trail", 4)]
