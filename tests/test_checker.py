"""The checker: names, enum values, units, lets, catalogue; every error in one run."""

from pathlib import Path

from policylang.checked import NameKind
from policylang.pipeline import LoadResult, load_text

SCHEMA = (Path(__file__).parent / "fixtures" / "small.schema.yaml").read_text()
HEADER = 'policy p version "1"\nschema "small.schema.yaml"\n'


def load(text: str) -> LoadResult:
    return load_text(HEADER + text, "t.policy", schema_text=SCHEMA)


def codes(text: str) -> list[str]:
    return [d.code for d in load(text).diagnostics]


def test_a_clean_policy_checks_and_has_a_digest() -> None:
    result = load("overdue >= 7 days -> visit borrower\n")
    assert result.diagnostics == ()
    assert result.checked.digest.startswith("sha256:")
    assert len(result.checked.digest) == len("sha256:") + 64


def test_digest_covers_policy_and_schema() -> None:
    one = load("overdue >= 7 days -> visit borrower\n").checked.digest
    other = load_text(HEADER + "overdue >= 7 days -> visit borrower\n", "t.policy",
                      schema_text=SCHEMA + "\n# changed\n").checked.digest
    assert one != other


def test_enum_value_wins_next_to_its_enum_even_when_a_let_has_its_name() -> None:
    result = load("let reachable = contact_status == reachable\n"
                  "reachable -> call borrower\n")
    assert result.diagnostics == ()
    checked = result.checked
    let = checked.lets["reachable"].node
    assert checked.resolve(let.expr.right).kind is NameKind.ENUM_VALUE
    rule = checked.rules[0]
    assert checked.resolve(rule.condition).kind is NameKind.LET


def test_duration_compared_with_number_hints_days() -> None:
    (d,) = load("overdue >= 7 -> visit borrower\n").diagnostics
    assert (d.code, d.hint) == ("E202", "did you mean 7 days?")


def test_unknown_fact_suggests_the_closest() -> None:
    (d,) = load("has_guarntor -> visit borrower\n").diagnostics
    assert (d.code, d.hint) == ("E301", "did you mean has_guarantor?")


def test_bare_enum_value_without_its_fact_says_whose_value_it_is() -> None:
    (d,) = load("lost -> visit borrower\n").diagnostics
    assert d.code == "E301"
    assert "contact_status == lost" in d.hint


def test_money_currency_must_match() -> None:
    assert codes("overdue_amount > 3 USD -> visit borrower\n") == ["E210"]


def test_money_plus_number_is_a_unit_error() -> None:
    assert codes("overdue_amount > 3 CNY + 1 -> visit borrower\n") == ["E203"]


def test_percent_times_money_is_money() -> None:
    assert codes("overdue_amount >= 20% * principal -> visit borrower\n") == []


def test_money_divided_by_money_is_a_number() -> None:
    assert codes("overdue_amount / principal > 50% -> visit borrower\n") == []


def test_days_plus_days_and_weeks() -> None:
    assert codes("overdue + 1 week >= 2 weeks -> visit borrower\n") == []


def test_fractional_days_are_refused() -> None:
    assert codes("overdue > 1.5 days -> visit borrower\n") == ["E208"]


def test_ordering_on_enum_is_refused() -> None:
    assert codes("contact_status > reachable -> visit borrower\n") == ["E207"]


def test_condition_must_be_true_false() -> None:
    (d,) = load("overdue -> visit borrower\n").diagnostics
    assert d.code == "E205"
    assert "overdue >= 7 days" in d.hint


def test_catalogue_checks_verb_target_template() -> None:
    assert codes("overdue > 1 day -> notfy borrower\n") == ["E302"]
    assert codes("overdue > 1 day -> visit heir\n") == ["E303"]
    assert codes("overdue > 1 day -> notify borrower using nope\n") == ["E304"]
    assert codes("overdue > 1 day -> suppress call heir\n") == ["E303"]


def test_lets_that_loop_are_refused() -> None:
    assert "E305" in codes("let a = b\nlet b = a\na -> visit borrower\n")


def test_let_order_follows_dependencies() -> None:
    result = load("let late = very_late or overdue > 1 day\n"
                  "let very_late = overdue > 30 days\nlate -> visit borrower\n")
    assert list(result.checked.lets) == ["very_late", "late"]


def test_duplicates() -> None:
    assert codes("param x = true\nlet x = true\nx -> visit borrower\n") == ["E502"]
    assert codes("let overdue = true\noverdue > 1 day -> visit borrower\n") == ["E502"]
    found = load("rule a: overdue > 1 day -> visit borrower\n"
                 "rule a: overdue > 2 days -> visit borrower\n").diagnostics
    assert [d.code for d in found] == ["E501"]
    assert found[0].labels[0].span.line == 3


def test_all_errors_of_a_file_in_one_run() -> None:
    found = codes("overdue >= 7 -> visit borrower\nfoo -> visit borrower\n"
                  "overdue > 1 day -> notfy borrower\n")
    assert found == ["E202", "E301", "E302"]


def test_header_must_come_first() -> None:
    result = load_text('schema "x"\npolicy p\n', "t.policy", schema_text=SCHEMA)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E104", 1), ("E108", 2)]


def test_in_set_items_must_match_the_subject() -> None:
    assert codes("contact_status in {reachable, lots} -> visit borrower\n") == ["E206"]
    assert codes("contact_status not in {reachable, lost} -> visit borrower\n") == []


def test_enum_value_may_stand_on_the_left() -> None:
    assert codes("lost == contact_status -> visit borrower\n") == []


def test_keywords_cannot_name_lets_or_params() -> None:
    assert codes("let true = false\noverdue > 1 day -> visit borrower\n") == ["E110"]


def test_fractional_priority_is_reported_not_crashed() -> None:
    assert codes("rule r priority 1.5: overdue > 1 day -> visit borrower\n") == ["E111"]
