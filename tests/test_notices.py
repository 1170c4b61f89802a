"""Notices: every template renders for the example loan, in html and txt, with the
amounts in figures and in 大写, its number and both signature and receipt blocks; a
missing field is a named error (exit 1), never a blank; values are escaped in HTML."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from engine.notices.render import (
    BUNDLED,
    NoticeError,
    available_templates,
    make_environment,
    render_notice,
)
from policylang.cli import main

ROOT = Path(__file__).resolve().parent.parent
LOAN_FILE = ROOT / "policies" / "examples" / "loan.json"
LOAN = json.loads(LOAN_FILE.read_text(encoding="utf-8"))
FACTS = {"overdue": 8, "periods_overdue": 2, "never_paid": True}
RETAIL = str(ROOT / "policies" / "retail.policy")
LETTER_FACTS = str(ROOT / "policies" / "examples" / "d8_letter.json")
# The catalogue's notify templates (policies/collection.schema.yaml), each with its target.
NOTICES = {
    "interest_reminder": "borrower", "interest_demand": "borrower",
    "overdue_demand": "borrower", "maturity_reminder": "borrower",
    "matured_demand": "borrower", "guarantor_demand": "guarantor",
    "acceleration_notice": "borrower", "overdue_notice": "borrower",
    "branch_verification": "branch",
}
# One 大写 amount each notice must show (its main amount from the example loan).
WORDS = {
    "interest_reminder": "壹佰叁拾柒元伍角",          # interest_due 137.50
    "interest_demand": "贰佰贰拾玖元叁角肆分",         # overdue_interest 229.34
    "overdue_demand": "壹仟零陆拾贰元陆角柒分",        # overdue_amount 1062.67
    "maturity_reminder": "叁万元整",                  # principal 30000.00
    "matured_demand": "壹仟零陆拾贰元陆角柒分",
    "guarantor_demand": "壹仟零陆拾贰元陆角柒分",
    "acceleration_notice": "贰佰贰拾玖元叁角肆分",
    "overdue_notice": "壹仟零陆拾贰元陆角柒分",
    "branch_verification": "壹仟零陆拾贰元陆角柒分",
}


def render(template: str, fmt: str, loan: dict | None = None) -> str:
    return render_notice(make_environment(BUNDLED, fmt), template, target=NOTICES[template],
                         loan=LOAN if loan is None else loan, facts=FACTS)


def test_every_catalogue_template_has_a_notice_file() -> None:
    assert available_templates(BUNDLED) == set(NOTICES)


@pytest.mark.parametrize("fmt", ["html", "txt"])
@pytest.mark.parametrize("template", sorted(NOTICES))
def test_notice_renders_number_amounts_signatures_and_receipt(template: str, fmt: str) -> None:
    text = render(template, fmt)
    assert "编号：" in text
    assert "-20261129-JK2026-0001" in text      # the number: code, issue date, contract
    assert WORDS[template] in text
    assert "贷款人（公章）：示例农村商业银行" in text
    assert "（公章或签收人签字）" in text
    assert "留存联" in text and "【回执】" in text
    assert text.count("签收日期") == 2            # the copy and the receipt
    assert "2026年11月29日" in text


def test_figures_have_separators_and_two_decimals() -> None:
    loan = {**LOAN, "overdue_amount": "11062.67"}
    text = render("overdue_demand", "txt", loan)
    assert "人民币11,062.67元（大写：壹万壹仟零陆拾贰元陆角柒分）" in text


def test_txt_has_no_markup_and_html_is_a_page() -> None:
    assert "<" not in render("overdue_notice", "txt")
    assert render("overdue_notice", "html").startswith("<!DOCTYPE html>")


def test_the_loan_file_may_give_the_number() -> None:
    loan = {**LOAN, "notice_numbers": {"overdue_notice": "城东催字〔2026〕第17号"}}
    assert render("overdue_notice", "txt", loan).count("城东催字〔2026〕第17号") == 3


def test_overdue_notice_names_the_guarantor_only_when_there_is_one() -> None:
    assert "李担保" in render("overdue_notice", "txt")
    loan = {key: value for key, value in LOAN.items() if key != "guarantor"}
    assert "保证人" not in render("overdue_notice", "txt", loan)


@pytest.mark.parametrize(("field", "message"), [
    ("contract_no", 'overdue_notice: the loan file has no "contract_no"'),
    ("overdue_amount", 'overdue_notice: the loan file has no "overdue_amount"'),
    ("issue_date", 'overdue_notice: the loan file has no "issue_date"'),
    ("borrower.name", 'overdue_notice: the loan file has no "borrower.name"'),
])
def test_missing_field_is_a_named_error(field: str, message: str) -> None:
    loan = copy.deepcopy(LOAN)
    *parents, last = field.split(".")
    holder = loan
    for part in parents:
        holder = holder[part]
    del holder[last]
    with pytest.raises(NoticeError) as caught:
        render("overdue_notice", "txt", loan)
    assert str(caught.value) == message


@pytest.mark.parametrize("blank", [None, ""])
def test_null_or_empty_field_counts_as_missing(blank: str | None) -> None:
    loan = copy.deepcopy(LOAN)
    loan["guarantor"]["contract_no"] = blank
    with pytest.raises(NoticeError, match=re.escape(
            'guarantor_demand: the loan file has no "guarantor.contract_no"')):
        render("guarantor_demand", "html", loan)


@pytest.mark.parametrize(("value", "reason"), [
    ("abc", "is 'abc', not an amount"),
    ("-5", "is '-5', not an amount of 0 or more"),
])
def test_bad_amount_names_the_field(value: str, reason: str) -> None:
    with pytest.raises(NoticeError) as caught:
        render("overdue_demand", "txt", {**LOAN, "overdue_amount": value})
    assert str(caught.value) == f'overdue_demand: the loan file\'s "overdue_amount" {reason}'


def test_bad_date_names_the_field() -> None:
    with pytest.raises(NoticeError, match='"as_of" is \'28/11/2026\', not a date'):
        render("overdue_demand", "txt", {**LOAN, "as_of": "28/11/2026"})


def test_html_escapes_loan_values() -> None:
    loan = copy.deepcopy(LOAN)
    loan["borrower"]["name"] = "<script>alert(1)</script>"
    html = render("overdue_notice", "html", loan)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in render("overdue_notice", "txt", loan)


def test_a_template_using_an_unknown_name_is_an_error_not_a_blank(tmp_path: Path) -> None:
    for part in ("_layout.txt.j2", "_number.j2"):
        (tmp_path / part).write_text((BUNDLED / part).read_text(encoding="utf-8"),
                                     encoding="utf-8")
    (tmp_path / "overdue_notice.j2").write_text(
        (BUNDLED / "overdue_notice.j2").read_text(encoding="utf-8")
        .replace("loan.borrower.name", "borrower_name"), encoding="utf-8")
    with pytest.raises(NoticeError, match=re.escape(
            "overdue_notice: the template uses something nobody supplies "
            "('borrower_name' is undefined)")):
        render_notice(make_environment(tmp_path, "txt"), "overdue_notice", target="borrower",
                      loan=LOAN, facts=FACTS)


# -- the command ----------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["notice", RETAIL, "--facts", LETTER_FACTS, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_notice_prints_the_letter_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--loan", str(LOAN_FILE))
    assert (code, err) == (0, "")
    assert "逾期贷款催收函" in out and "壹仟零陆拾贰元陆角柒分" in out and "<" not in out


def test_notice_writes_one_file_per_notice(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, "--loan", str(LOAN_FILE), "--out", str(out_dir))
    assert code == 0
    assert out == f"wrote {out_dir / 'overdue_notice.html'}\n"
    assert "&lt;" not in (out_dir / "overdue_notice.html").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "--loan", str(LOAN_FILE), "--out", str(out_dir),
                       "--format", "txt")
    assert out == f"wrote {out_dir / 'overdue_notice.txt'}\n"


def test_missing_field_exits_1_naming_file_and_field(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    loan = tmp_path / "loan.json"
    loan.write_text(json.dumps({k: v for k, v in LOAN.items() if k != "contract_no"}),
                    encoding="utf-8")
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "--loan", str(loan), "--out", str(out_dir))
    assert code == 1
    assert out == ""
    assert f'{loan}: overdue_notice: the loan file has no "contract_no"' in err
    assert "Traceback" not in err
    assert not out_dir.exists()


def test_unreadable_loan_file_exits_2(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    code, _, err = run(capsys, "--loan", str(tmp_path / "none.json"))
    assert code == 2
    assert "none.json: cannot read the loan file" in err


def test_loan_file_that_is_not_json_exits_1(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    loan = tmp_path / "loan.json"
    loan.write_text("{", encoding="utf-8")
    code, _, err = run(capsys, "--loan", str(loan))
    assert code == 1
    assert "not valid JSON" in err


def test_no_notice_called_for_is_said_and_fine(capsys: pytest.CaptureFixture[str]) -> None:
    facts = str(ROOT / "policies" / "examples" / "d2_daily_calls.json")
    code = main(["notice", RETAIL, "--facts", facts, "--loan", str(LOAN_FILE)])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "")
    assert "the decision calls for no notice" in err


def test_an_amount_the_facts_contradict_is_refused(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    """The letter must state the amount the decision was made on (the facts' 1062.67)."""
    loan = tmp_path / "loan.json"
    loan.write_text(json.dumps({**LOAN, "overdue_amount": "11062.67"}), encoding="utf-8")
    code, out, err = run(capsys, "--loan", str(loan), "--out", str(tmp_path / "out"))
    assert (code, out) == (1, "")
    assert ('the loan file\'s "overdue_amount" is 11062.67, but the facts file gives 1062.67'
            in err)
    assert not (tmp_path / "out").exists()


def test_an_amount_the_loan_file_leaves_out_comes_from_the_facts(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    loan = tmp_path / "loan.json"
    loan.write_text(json.dumps({k: v for k, v in LOAN.items() if k != "overdue_amount"}),
                    encoding="utf-8")
    code, out, _ = run(capsys, "--loan", str(loan))
    assert code == 0 and "人民币1,062.67元（大写：壹仟零陆拾贰元陆角柒分）" in out


def test_a_reply_date_may_count_from_the_issue_date(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    spec = json.loads(Path(LETTER_FACTS).read_text(encoding="utf-8"))
    facts.write_text(json.dumps({**spec, "overdue": 40, "periods_overdue": 2,
                                 "never_paid": True, "longest_overdue": 40}), encoding="utf-8")
    loan = tmp_path / "loan.json"
    loan.write_text(json.dumps({**LOAN, "verification": {**LOAN["verification"],
                                                         "reply_date": "+15 days"}}),
                    encoding="utf-8")
    code = main(["notice", RETAIL, "--facts", str(facts), "--loan", str(loan),
                 "--format", "txt"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "信贷业务核实通知书" in out, "a first-payment default calls for the branch notice"
    assert "于2026年12月14日前" in out                # 2026-11-29 + 15 days


def test_a_broken_template_names_its_line(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    (tmp_path / "overdue_notice.j2").write_text("{% if %}\n", encoding="utf-8")
    code, _, err = run(capsys, "--loan", str(LOAN_FILE), "--templates", str(tmp_path))
    assert code == 1
    assert "overdue_notice.j2:1: template error:" in err


def test_a_missing_template_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    code, _, err = run(capsys, "--loan", str(LOAN_FILE), "--templates", str(tmp_path / "x"))
    assert code == 2
    assert "no such template folder" in err
