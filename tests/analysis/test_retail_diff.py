"""`policylang diff` on two versions of the shipped retail policy: what an analyst runs
before a new version goes live. The old version is the retail policy with changes a
compliance officer might make; every changed rule must come back with a witness that
the engine reproduces, and a pure re-layout must come back equivalent."""

from __future__ import annotations

from pathlib import Path

from engine.api import compile_checked
from policylang.analysis.diff import compare
from policylang.formatter import format_text
from policylang.pipeline import load_text

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policies" / "retail.policy"
TEXT = POLICY.read_text(encoding="utf-8")


def _checked(text: str):  # type: ignore[no-untyped-def]
    result = load_text(text, "retail.policy", base_dir=POLICY.parent)
    assert result.checked is not None, [d.message for d in result.diagnostics]
    return result.checked


def _changed(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


OLDER = _changed(
    _changed(TEXT, "param letter_day = 7 days", "param letter_day = 10 days"),
    "  in_arrears and calls_last_7d >= call_cap -> sms borrower using overdue_reminder",
    "  in_arrears and calls_last_7d >= call_cap and overdue >= 3 days\n"
    "    -> sms borrower using overdue_reminder")


def test_a_relaid_copy_of_the_retail_policy_is_equivalent() -> None:
    messy = TEXT.replace("\n    and ", "\n        and   ").replace(" -> ", "  ->  ")
    assert messy != TEXT and format_text(messy, "retail.policy").text == TEXT
    result = compare(_checked(TEXT), _checked(messy))
    assert result.equivalent and not result.differences and not result.undecided


def test_two_versions_differ_with_a_reproducible_witness_for_each_changed_rule() -> None:
    old, new = _checked(OLDER), _checked(TEXT)
    result = compare(old, new)
    assert not result.equivalent
    shown = {rule for difference in result.differences for rule in difference.rules}
    # letter_day is read by the letter, the guarantor demand and the interest demand;
    # the sms rule changed its condition.
    assert {"overdue_letter", "guarantor_liability", "sms_at_cap"} <= shown
    old_engine, new_engine = compile_checked(old), compile_checked(new)
    for difference in result.differences:
        before = old_engine.evaluate(difference.witness).action_strings()
        after = new_engine.evaluate(difference.witness).action_strings()
        assert before == difference.old and after == difference.new
        assert before != after
