"""Schema loader: one test per rule, each asserting code, line, column and underlined text."""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from policylang.diagnostics import Diagnostic
from policylang.schema import load_schema, parse_schema
from policylang.schema_model import ActionPattern, FactType, HistorySpec
from policylang.source import NO_SPAN

FIXTURES = Path(__file__).parent / "fixtures" / "schemas"
COLLECTION = Path(__file__).parent.parent / "policies" / "collection.schema.yaml"
ACTIONS = "actions: {call: {targets: [borrower, guarantor], stage: 1, templates: [reminder]}}\n"


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def one(text: str, code: str, line: int, column: int, underlined: str | None = None, *,
        hint: str | None = None) -> Diagnostic:
    """Parse `text` and assert that it gives exactly one diagnostic, of `code` at line:column."""
    text = src(text)
    result = parse_schema(text, "t.yaml")
    found = [(d.code, d.span.line, d.span.column) for d in result.diagnostics]
    assert found == [(code, line, column)], [d.message for d in result.diagnostics]
    assert result.schema is None
    d = result.diagnostics[0]
    assert d.file == "t.yaml"
    if underlined is not None:
        assert text[d.span.start:d.span.end] == underlined
    if hint is not None:
        assert d.hint == hint
    return d


def facts(body: str) -> str:
    """A schema whose facts section is `body` (facts start on line 2, column 3)."""
    return "facts:\n" + textwrap.indent(src(body), "  ") + ACTIONS


# -- a good schema ----------------------------------------------------------------------------

def test_good_schema_loads_with_exact_values() -> None:
    path = FIXTURES / "good.schema.yaml"
    result = load_schema(path)
    assert result.diagnostics == ()
    schema = result.schema
    assert schema is not None
    assert schema.path == str(path)
    assert schema.text == path.read_text(encoding="utf-8")
    assert result.source is not None and result.source.name == str(path)
    assert list(schema.facts)[:3] == ["overdue", "due_in", "has_guarantor"]   # file order
    amount = schema.facts["overdue_amount"]
    assert (amount.type, amount.currency) == (FactType.MONEY, "CNY")
    assert amount.minimum == Decimal("0.10") and str(amount.minimum) == "0.10"
    assert amount.maximum == Decimal("99999999.99")
    rate = schema.facts["interest_rate"]
    assert isinstance(rate.default, Decimal) and str(rate.default) == "0.0435"
    overdue = schema.facts["overdue"]
    assert (overdue.minimum, overdue.maximum, overdue.has_default) == (0, 3650, False)
    assert type(overdue.minimum) is int
    assert overdue.label == "逾期天数"
    assert overdue.span.line == 3
    assert schema.facts["contact_status"].default == "reachable"
    assert schema.facts["branch"].default == "head office"
    notified = schema.facts["guarantor_notified"]
    assert notified.default is False and notified.has_default
    assert schema.currencies == frozenset({"CNY"})


def test_good_schema_reads_history_actions_and_exclusive() -> None:
    schema = load_schema(FIXTURES / "good.schema.yaml").schema
    assert schema is not None
    assert schema.facts["calls_last_7d"].history == HistorySpec(
        "count", ActionPattern("call", "borrower"), 7)
    assert schema.facts["days_since_letter"].history == HistorySpec(
        "days_since", ActionPattern("notify", "borrower", "overdue_notice"))
    assert schema.facts["guarantor_notified"].history == HistorySpec(
        "ever", ActionPattern("notify", "guarantor"))
    notify = schema.actions["notify"]
    assert (notify.targets, notify.stage) == (("borrower", "guarantor"), 3)
    assert notify.templates == ("overdue_notice", "guarantor_demand")
    assert notify.requires == {"guarantor": "has_guarantor"}
    assert schema.actions["call"].channel == "phone"
    assert schema.actions["call"].label == "电话催收"
    assert list(schema.actions) == ["call", "visit", "notify", "restructure", "refer"]
    assert schema.exclusive == (
        (ActionPattern("restructure", "borrower"), ActionPattern("refer", "legal")),
        (ActionPattern("call"), ActionPattern("visit", "guarantor")))


def test_decimal_bounds_are_read_from_text_not_float() -> None:
    result = parse_schema(facts("""
        r: {type: decimal, min: 0.1, max: 0.30000000000000004, default: "0.2"}
    """), "t.yaml")
    assert result.diagnostics == ()
    assert result.schema is not None
    fact = result.schema.facts["r"]
    assert (fact.minimum, fact.maximum) == (Decimal("0.1"), Decimal("0.30000000000000004"))
    assert fact.default == Decimal("0.2")


def test_chinese_fact_names_and_labels_are_allowed() -> None:
    result = parse_schema(facts("逾期天数: {type: days, label: 逾期天数}\n"), "t.yaml")
    assert result.diagnostics == ()
    assert result.schema is not None and "逾期天数" in result.schema.facts


@pytest.mark.parametrize(("within", "days"), [("7", 7), ("1 day", 1), ("7 days", 7)])
def test_history_within_accepts_days_with_or_without_unit(within: str, days: int) -> None:
    result = parse_schema(facts(f"""
        n: {{type: int, history: {{count: "call borrower", within: {within}}}}}
    """), "t.yaml")
    assert result.diagnostics == ()
    assert result.schema is not None
    history = result.schema.facts["n"].history
    assert history is not None and history.within_days == days


# -- reading the file: E401, E402 ------------------------------------------------------------

def test_missing_file_is_e401_naming_path_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    result = load_schema(path)
    (d,) = result.diagnostics
    assert (d.code, d.span, d.file) == ("E401", NO_SPAN, str(path))
    assert str(path) in d.message and "no such file" in d.message
    assert result.schema is None and result.source is None


def test_directory_is_e401(tmp_path: Path) -> None:
    (d,) = load_schema(tmp_path).diagnostics
    assert d.code == "E401" and str(tmp_path) in d.message


def test_non_utf8_file_is_e401(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("facts: {}\nactions: {}\n# caf\xe9\n".encode("latin-1"))
    (d,) = load_schema(path).diagnostics
    assert d.code == "E401" and "UTF-8" in d.message


def test_invalid_yaml_is_e402_at_the_error() -> None:
    d = one("""
        facts:
          a: b: c
    """, "E402", 2, 7, ":")
    assert "mapping values are not allowed" in d.message


def test_tab_indentation_is_e402_with_hint() -> None:
    one("facts:\n\ta: 1\n", "E402", 2, 1, "\t",
        hint="indent with spaces; YAML does not allow tabs here")


def test_two_documents_are_e402() -> None:
    d = one("facts: {}\nactions: {}\n---\nfacts: {}\n", "E402", 3, 1)
    assert "expected a single document" in d.message


def test_control_character_is_e402() -> None:
    d = one("facts: {}\x07\nactions: {}\n", "E402", 1, 10, "\x07")
    assert "U+0007" in d.message


# -- top level: E411 ---------------------------------------------------------------------------

def test_empty_file_is_e411() -> None:
    one("", "E411", 1, 1)


def test_top_level_list_is_e411() -> None:
    one("- facts\n", "E411", 1, 1, "- facts")


def test_missing_actions_is_e411_at_first_key() -> None:
    d = one("facts: {}\n", "E411", 1, 1, "facts")
    assert d.message == 'the schema has no "actions" section'


def test_facts_that_are_not_a_mapping_are_e411() -> None:
    one("facts: [a, b]\nactions: {}\n", "E411", 1, 8, "[a, b]")


def test_unknown_top_level_key_is_e411_with_hint() -> None:
    one("facts: {}\nactions: {}\nexclusiv: []\n", "E411", 3, 1, "exclusiv",
        hint='did you mean "exclusive"?')


def test_exclusive_that_is_not_a_list_is_e411() -> None:
    one("facts: {}\nactions: {}\nexclusive: {a: b}\n", "E411", 3, 12, "{a: b}")


def test_key_that_is_a_list_is_e411() -> None:
    one("facts: {}\nactions: {}\n[a]: 1\n", "E411", 3, 1, "[a]")


# -- facts: E403, E404, E405, E408, E409 --------------------------------------------------------

def test_fact_that_is_not_a_mapping_is_e408() -> None:
    one(facts("a: bool\n"), "E408", 2, 6, "bool")


def test_fact_without_type_is_e408_at_its_name() -> None:
    d = one(facts("overdue: {min: 0}\n"), "E408", 2, 3, "overdue")
    assert d.message == 'fact "overdue" has no type'


@pytest.mark.parametrize(("written", "hint"), [("decimel", 'did you mean "decimal"?'),
                                               ("Days", 'did you mean "days"?'),
                                               ("integer", 'did you mean "int"?'),
                                               ("float", None)])
def test_unknown_type_is_e403_with_did_you_mean(written: str, hint: str | None) -> None:
    d = one(facts(f"rate: {{type: {written}}}\n"), "E403", 2, 16, written)
    assert d.hint == (hint or "use one of bool, int, decimal, days, money, enum, string")


def test_unknown_fact_key_is_e408_with_did_you_mean() -> None:
    one(facts("n: {type: int, defualt: 0}\n"), "E408", 2, 18, "defualt",
        hint='did you mean "default"?')


def test_fact_name_that_is_not_an_identifier_is_e408() -> None:
    one(facts("days overdue: {type: days}\n"), "E408", 2, 3, "days overdue")


def test_money_without_currency_is_e408() -> None:
    d = one(facts("amount: {type: money}\n"), "E408", 2, 3, "amount")
    assert d.message == 'fact "amount" has no currency'


def test_currency_that_is_not_an_iso_code_is_e408() -> None:
    one(facts("amount: {type: money, currency: cny}\n"), "E408", 2, 35, "cny")


@pytest.mark.parametrize(("entry", "key"), [("{type: days, currency: CNY}", "currency"),
                                            ("{type: int, values: [a]}", "values")])
def test_key_for_another_type_is_e408(entry: str, key: str) -> None:
    one(facts(f"n: {entry}\n"), "E408", 2, entry.index(key) + 6, key)


def test_label_that_is_not_text_is_e408() -> None:
    one(facts("n: {type: int, label: [a]}\n"), "E408", 2, 25, "[a]")


def test_english_label_is_read_beside_the_label() -> None:
    result = parse_schema(src("""
        facts:
          overdue: {type: days, label: 逾期天数, label_en: days overdue}
        actions:
          call:  {targets: [borrower], stage: 1}
          visit: {targets: [borrower], stage: 2, label: 上门催收, label_en: collection visit}
        """), "t.yaml")
    assert result.schema is not None, [d.message for d in result.diagnostics]
    overdue, visit = result.schema.facts["overdue"], result.schema.actions["visit"]
    assert (overdue.label, overdue.label_en) == ("逾期天数", "days overdue")
    assert (visit.label, visit.label_en) == ("上门催收", "collection visit")
    assert result.schema.actions["call"].label_en is None       # optional


def test_english_label_of_a_fact_that_is_not_text_is_e408() -> None:
    d = one(facts("n: {type: int, label_en: {a: b}}\n"), "E408", 2, 28, "{a: b}")
    assert d.message == 'the label_en of fact "n" must be text, found a mapping'


def test_misspelt_english_label_of_a_fact_is_e408_with_hint() -> None:
    one(facts("n: {type: int, lable_en: days}\n"), "E408", 2, 18, "lable_en",
        hint='did you mean "label_en"?')


def test_enum_without_values_is_e405() -> None:
    d = one(facts("status: {type: enum}\n"), "E405", 2, 3, "status")
    assert d.message == 'fact "status" has no values'


def test_enum_with_empty_values_is_e405() -> None:
    one(facts("status: {type: enum, values: []}\n"), "E405", 2, 32, "[]")


def test_enum_value_that_is_not_a_name_is_e405() -> None:
    one(facts("status: {type: enum, values: [ok, 2 days]}\n"), "E405", 2, 37, "2 days")


def test_enum_value_given_twice_is_e503_pointing_at_first() -> None:
    d = one(facts("status: {type: enum, values: [ok, lost, ok]}\n"), "E503", 2, 43, "ok")
    assert "declared twice" in d.message
    (label,) = d.labels
    assert (label.span.line, label.span.column, label.message) == (2, 33, "first declared here")


def test_fact_declared_twice_is_e503_pointing_at_first() -> None:
    d = one(facts("a: {type: bool}\nb: {type: int}\na: {type: int}\n"), "E503", 4, 3, "a")
    assert d.message == 'fact "a" is declared twice'
    assert d.labels[0].span.line == 2


def test_key_declared_twice_in_a_fact_is_e503() -> None:
    d = one(facts("n: {type: int, min: 0, min: 1}\n"), "E503", 2, 26, "min")
    assert d.message == 'key "min" of fact "n" is declared twice'


def test_min_greater_than_max_is_e404() -> None:
    d = one(facts("overdue: {type: days, min: 10, max: 5}\n"), "E404", 2, 39, "5")
    assert d.message == 'fact "overdue" has min 10 greater than max 5'
    assert d.labels[0].span.column == 30


def test_fractional_bound_of_int_fact_is_e404() -> None:
    d = one(facts("n: {type: int, min: 0.5}\n"), "E404", 2, 23, "0.5")
    assert "whole number" in d.message


def test_bound_with_unit_is_e404_with_hint() -> None:
    one(facts("overdue: {type: days, max: 30 days}\n"), "E404", 2, 30, "30 days",
        hint="write the number alone (30); the fact's type gives the unit")


@pytest.mark.parametrize("ftype", ["bool", "string", "enum, values: [a]"])
def test_bounds_on_a_type_without_order_are_e404(ftype: str) -> None:
    d = one(facts(f"x: {{type: {ftype}, max: 1}}\n"), "E404", 2, 15 + len(ftype), "max")
    assert "cannot have" in d.message


@pytest.mark.parametrize(("entry", "written"), [
    ("{type: int, default: abc}", "abc"),
    ("{type: days, default: 1.5}", "1.5"),
    ("{type: bool, default: 1}", "1"),
    ("{type: money, currency: CNY, default: ten}", "ten"),
    ("{type: enum, values: [a], default: [b]}", "[b]"),
    ("{type: string, default: 12}", "12"),
])
def test_default_of_the_wrong_type_is_e409(entry: str, written: str) -> None:
    one(facts(f"x: {entry}\n"), "E409", 2, entry.index(written) + 6, written)


def test_default_outside_the_domain_is_e409() -> None:
    d = one(facts("n: {type: int, min: 0, max: 9, default: 10}\n"), "E409", 2, 43, "10")
    assert d.message == 'fact "n" has default 10 outside its domain 0..9'


def test_enum_default_not_among_values_is_e409_with_hint() -> None:
    one(facts("s: {type: enum, values: [reachable, lost], default: reachble}\n"),
        "E409", 2, 55, "reachble", hint='did you mean "reachable"?')


# -- history ------------------------------------------------------------------------------------

def test_history_that_is_not_a_mapping_is_e408() -> None:
    one(facts('n: {type: int, history: "call"}\n'), "E408", 2, 27, '"call"')


def test_history_with_two_kinds_is_e408() -> None:
    d = one(facts('n: {type: bool, history: {ever: "call", count: "call"}}\n'), "E408", 2, 28)
    assert "exactly one of" in d.message


def test_history_count_without_within_is_e408() -> None:
    one(facts('n: {type: int, history: {count: "call"}}\n'), "E408", 2, 28, "count")


def test_history_within_on_ever_is_e408() -> None:
    one(facts('n: {type: bool, history: {ever: "call", within: 3}}\n'), "E408", 2, 43, "within")


def test_history_within_that_is_not_days_is_e408() -> None:
    one(facts('n: {type: int, history: {count: "call", within: a week}}\n'),
        "E408", 2, 51, "a week")


def test_malformed_history_pattern_is_e408() -> None:
    one(facts('n: {type: int, history: {count: "call using", within: 7}}\n'),
        "E408", 2, 35, '"call using"')


def test_history_with_unknown_verb_is_e410_at_the_word() -> None:
    one(facts('n: {type: bool, history: {ever: "cal borrower"}}\n'), "E410", 2, 36, "cal",
        hint='did you mean "call"?')


def test_history_with_unknown_target_is_e410_at_the_word() -> None:
    one(facts('n: {type: bool, history: {ever: "call borower"}}\n'), "E410", 2, 41, "borower",
        hint='did you mean "borrower"?')


def test_history_with_unknown_template_is_e410_at_the_word() -> None:
    one(facts("n: {type: bool, history: {ever: 'call borrower using remindr'}}\n"),
        "E410", 2, 56, "remindr", hint='did you mean "reminder"?')


def test_history_kind_that_does_not_fit_the_fact_type_is_e408() -> None:
    d = one(facts('n: {type: days, history: {ever: "call"}}\n'), "E408", 2, 29, "ever")
    assert d.message == 'history "ever" gives a bool value, but fact "n" is days'


def test_history_unknown_key_is_e408() -> None:
    one(facts('n: {type: bool, history: {ever: "call", since: 3}}\n'), "E408", 2, 43, "since")


# -- actions: E406, E408, E410 -------------------------------------------------------------------

def action(entry: str) -> str:
    """A schema whose one action is `entry`, on line 4 starting at column 9."""
    return f"facts: {{flag: {{type: bool}}, n: {{type: int}}}}\nactions:\n\n  call: {entry}\n"


def test_action_that_is_not_a_mapping_is_e410() -> None:
    one(action("phone"), "E410", 4, 9, "phone")


def test_action_without_targets_is_e410_at_its_name() -> None:
    d = one(action("{stage: 1}"), "E410", 4, 3, "call")
    assert d.message == 'action "call" has no targets'


def test_action_with_empty_targets_is_e410() -> None:
    one(action("{targets: [], stage: 1}"), "E410", 4, 19, "[]")


def test_target_that_is_not_a_name_is_e410() -> None:
    one(action("{targets: [borrower, 3], stage: 1}"), "E410", 4, 30, "3")


def test_target_given_twice_is_e503() -> None:
    one(action("{targets: [borrower, borrower], stage: 1}"), "E503", 4, 30, "borrower")


def test_templates_that_are_not_a_list_is_e410() -> None:
    one(action("{targets: [a], stage: 1, templates: reminder}"), "E410", 4, 45, "reminder")


def test_action_without_stage_is_e410() -> None:
    one(action("{targets: [borrower]}"), "E410", 4, 3, "call")


@pytest.mark.parametrize("stage", ["-1", "one", "1.5"])
def test_stage_that_is_not_a_whole_number_from_zero_is_e410(stage: str) -> None:
    one(action(f"{{targets: [a], stage: {stage}}}"), "E410", 4, 31, stage)


@pytest.mark.parametrize("cost", ["-1", "abc", "5 CNY", ".inf"])
def test_cost_that_is_not_an_amount_from_zero_is_e410(cost: str) -> None:
    one(action(f"{{targets: [a], stage: 1, cost: {cost}}}"), "E410", 4, 40, cost)


@pytest.mark.parametrize(("cost", "exact"), [("2.50", "2.50"), ('"0.10"', "0.10"), ("0", "0")])
def test_cost_is_read_exactly(cost: str, exact: str) -> None:
    result = parse_schema(src(action(f"{{targets: [a], stage: 1, cost: {cost}}}")), "t.yaml")
    assert result.schema is not None, [d.message for d in result.diagnostics]
    assert result.schema.actions["call"].cost == Decimal(exact)


def test_english_label_of_an_action_that_is_not_text_is_e410() -> None:
    d = one(action("{targets: [a], stage: 1, label_en: [phone, call]}"), "E410", 4, 44,
            "[phone, call]")
    assert d.message == 'the label_en of action "call" must be text, found a list'


def test_misspelt_english_label_of_an_action_is_e408_with_hint() -> None:
    one(action("{targets: [a], stage: 1, lable_en: phone call}"), "E408", 4, 34, "lable_en",
        hint='did you mean "label_en"?')


def test_unknown_action_key_is_e408_with_hint() -> None:
    one(action("{targets: [a], stage: 1, templtes: [x]}"), "E408", 4, 34, "templtes",
        hint='did you mean "templates"?')


def test_action_name_that_is_not_an_identifier_is_e410() -> None:
    text = "facts: {}\nactions:\n  call back: {targets: [a], stage: 1}\n"
    one(text, "E410", 3, 3, "call back")


def test_requires_for_a_target_the_verb_lacks_is_e410() -> None:
    one(action("{targets: [borrower, guarantor], stage: 1, requires: {guarantr: flag}}"),
        "E410", 4, 63, "guarantr", hint='did you mean "guarantor"?')


def test_requires_an_unknown_fact_is_e406_with_hint() -> None:
    one(action("{targets: [borrower], stage: 1, requires: {borrower: flg}}"),
        "E406", 4, 62, "flg", hint='did you mean "flag"?')


def test_requires_a_fact_that_is_not_bool_is_e406() -> None:
    d = one(action("{targets: [borrower], stage: 1, requires: {borrower: n}}"),
            "E406", 4, 62, "n")
    assert d.message == 'action "call" requires fact "n", which is int, not bool'


def test_requires_that_is_not_a_mapping_is_e410() -> None:
    one(action("{targets: [borrower], stage: 1, requires: flag}"), "E410", 4, 51, "flag")


# -- exclusive: E407 -------------------------------------------------------------------------------

def exclusive(pair: str) -> str:
    """A schema whose one exclusive pair is `pair`, on line 4 at column 5."""
    return ("facts: {}\nactions: {call: {targets: [borrower], stage: 1},\n"
            "          refer: {targets: [legal], stage: 5}}\n"
            f"exclusive:\n  - {pair}\n")


@pytest.mark.parametrize("pair", ["call borrower", "[call borrower]",
                                  "[call, refer, call borrower]"])
def test_pair_that_is_not_two_actions_is_e407(pair: str) -> None:
    one(exclusive(pair), "E407", 5, 5, pair)


def test_pair_naming_an_unknown_verb_is_e407() -> None:
    one(exclusive("[call borrower, sue borrower]"), "E407", 5, 21, "sue",
        hint="declare it under actions")


def test_pair_naming_an_unknown_target_is_e407() -> None:
    one(exclusive("[call borrower, refer lawyer]"), "E407", 5, 27, "lawyer")


def test_pair_with_an_element_that_is_not_text_is_e407() -> None:
    one(exclusive("[call borrower, [refer]]"), "E407", 5, 21, "[refer]")


def test_pair_naming_the_same_action_twice_is_e407() -> None:
    d = one(exclusive("[call borrower, call borrower]"), "E407", 5, 5)
    assert "twice" in d.message


# -- every error in one run ----------------------------------------------------------------------

def test_several_errors_are_all_reported_in_file_order() -> None:
    result = load_schema(FIXTURES / "bad_many.schema.yaml")
    assert [d.code for d in result.diagnostics] == [
        "E403", "E404", "E408", "E405", "E410", "E406", "E407"]
    assert result.schema is None
    assert all(d.file == str(FIXTURES / "bad_many.schema.yaml") for d in result.diagnostics)


def test_a_broken_action_does_not_cascade_into_patterns() -> None:
    text = facts('n: {type: bool, history: {ever: "visit borrower"}}\n') + \
        "  visit: {targets: [borrower], stage: -1}\n"
    one(text.replace(ACTIONS, "actions:\n"), "E410", 4, 39, "-1")


def fixture_expectations(path: Path) -> list[tuple[str, int, int]]:
    """`# expect: CODE LINE:COLUMN` comments in a fixture."""
    found = re.findall(r"# expect: (\w+) (\d+):(\d+)", path.read_text(encoding="utf-8"))
    return [(code, int(line), int(column)) for code, line, column in found]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("bad_*.yaml")), ids=lambda p: p.name)
def test_bad_fixture_reports_what_it_expects(path: Path) -> None:
    result = load_schema(path)
    found = [(d.code, d.span.line, d.span.column) for d in result.diagnostics]
    assert found == fixture_expectations(path)


@pytest.mark.skipif(not COLLECTION.exists(), reason="policies/collection.schema.yaml not written")
def test_collection_schema_loads_without_diagnostics() -> None:
    result = load_schema(COLLECTION)
    assert [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics] == []
    assert result.schema is not None


@pytest.mark.parametrize("path", sorted(COLLECTION.parent.glob("*.schema.yaml")),
                         ids=lambda p: p.name)
def test_shipped_schemas_label_every_fact_and_action_in_both_languages(path: Path) -> None:
    """The review document shows `label` with --lang zh and `label_en` with --lang en."""
    schema = load_schema(path).schema
    assert schema is not None
    entries = [*schema.facts.values(), *schema.actions.values()]
    assert [e for e in entries if not (e.label and e.label_en)] == []
    assert all(re.search(r"[\u4e00-\u9fff]", e.label or "") for e in entries)
    assert not any(re.search(r"[\u4e00-\u9fff]", e.label_en or "") for e in entries)


# -- docs/schema.md: every yaml block is a schema that gives what it says ------------------------

DOCS = Path(__file__).parent.parent / "docs" / "schema.md"


def doc_examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("text", [pytest.param(t, id=f"block{i + 1}")
                                  for i, t in enumerate(doc_examples())])
def test_docs_schema_examples_give_the_errors_they_state(text: str) -> None:
    expected = re.match(r"# expect: ([\w ]+)\n", text)
    result = parse_schema(text, "docs/schema.md")
    assert [d.code for d in result.diagnostics] == (expected.group(1).split() if expected else [])


def test_keywords_match_the_grammar() -> None:
    """Every identifier-like keyword of the grammar is reserved, and nothing else."""
    from policylang.keywords import KEYWORDS
    from policylang.parser import _lark

    words = set()
    for terminal in _lark().terminals:
        pattern = terminal.pattern
        if pattern.type == "str" and pattern.value.isidentifier():
            words.add(pattern.value)
    words |= {"day", "days", "week", "weeks"}   # DURATION_UNIT is one regex terminal
    assert words == KEYWORDS


def test_a_keyword_cannot_name_a_fact() -> None:
    result = parse_schema("facts:\n  and: {type: bool}\nactions: {}\n", "k.yaml")
    (d,) = result.diagnostics
    assert "word of the policy language" in d.hint
