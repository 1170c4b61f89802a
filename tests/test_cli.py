"""The command line: exit codes and messages for every kind of bad input, never a
traceback (0 fine, 1 the policy or the input is wrong, 2 usage or I/O)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policylang.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policies" / "retail.policy")
EXAMPLE = str(ROOT / "policies" / "examples" / "d8_letter.json")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_eval_prints_the_ordered_actions_with_their_rules(capsys) -> None:
    code, out, _ = run(capsys, "eval", POLICY, "--facts", EXAMPLE)
    assert code == 0
    assert "notify borrower using overdue_notice      stage 3  rules: overdue_letter" in out


def test_eval_json_has_the_contract_keys_in_order(capsys) -> None:
    code, out, _ = run(capsys, "eval", POLICY, "--facts", EXAMPLE, "--format", "json")
    assert code == 0
    decision = json.loads(out)
    assert list(decision) == ["policy", "version", "digest", "actions", "suppressed",
                              "matched", "stopped_by"]
    assert decision["digest"].startswith("sha256:")
    assert list(decision["actions"][0]) == ["verb", "target", "using", "stage", "rules"]


def test_eval_explain_json_adds_one_entry_per_rule(capsys) -> None:
    code, out, _ = run(capsys, "eval", POLICY, "--facts", EXAMPLE, "--format", "json",
                       "--explain")
    decision = json.loads(out)
    assert code == 0
    matched = [e["rule"] for e in decision["explain"] if e["matched"]]
    assert matched == decision["matched"]


@pytest.mark.parametrize(("content", "expected"), [
    ('{"overdue": 1', "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"overdue": "eight"}', "fact `overdue`"),
    ("[" * 50000 + "]" * 50000, "nested too deeply"),
])
def test_bad_facts_exit_1_with_the_reason(capsys, tmp_path: Path, content: str,
                                          expected: str) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(content)
    code, _, err = run(capsys, "eval", POLICY, "--facts", str(facts))
    assert code == 1
    assert expected in err


def test_facts_that_are_not_text_exit_1(capsys, tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_bytes(b"\xff\xfe")
    code, _, err = run(capsys, "eval", POLICY, "--facts", str(facts))
    assert (code, "not UTF-8 text" in err) == (1, True)


def test_missing_files_exit_2(capsys, tmp_path: Path) -> None:
    assert run(capsys, "eval", POLICY, "--facts", str(tmp_path / "none.json"))[0] == 2
    assert run(capsys, "eval", str(tmp_path / "none.policy"), "--facts", EXAMPLE)[0] == 2
    assert run(capsys, "check", str(tmp_path / "none.policy"))[0] == 2
    assert run(capsys, "test", str(tmp_path / "none.test.yaml"))[0] == 2


def test_bad_params_exit_1_with_codes(capsys) -> None:
    code, _, err = run(capsys, "eval", POLICY, "--facts", EXAMPLE, "--param", "letter_day=5",
                       "--param", "leter_day=5days")
    assert code == 1
    assert "--param: error[E209]" in err and "--param: error[E306]" in err
    assert run(capsys, "eval", POLICY, "--facts", EXAMPLE, "--param", "novalue")[0] == 1


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["eval", POLICY])
    assert stop.value.code == 2
    with pytest.raises(SystemExit) as stop:
        main(["frobnicate"])
    assert stop.value.code == 2


def test_a_policy_with_errors_is_never_evaluated(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text('policy p\nschema "%s"\noverdue >= 7 -> visit borrower\n'
                   % (ROOT / "policies" / "collection.schema.yaml"))
    code, out, err = run(capsys, "eval", str(bad), "--facts", EXAMPLE)
    assert code == 1
    assert out == ""
    assert "E202" in err and "nothing was evaluated" in err


def test_an_unexpected_error_is_an_internal_error_not_a_traceback(capsys, monkeypatch) -> None:
    import policylang.commands

    def explode(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(policylang.commands, "run_check", explode)
    from policylang.cli import build_parser
    args = build_parser().parse_args(["check", POLICY])
    assert args.run is explode
    code = main(["check", POLICY])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("internal error: RuntimeError: boom")


def test_fmt_check_reports_and_exits_1_without_writing(capsys, tmp_path: Path) -> None:
    messy = tmp_path / "messy.policy"
    text = 'policy p\nschema "s"\nx   ->   visit borrower\n'
    messy.write_text(text)
    code, out, _ = run(capsys, "fmt", "--check", str(messy))
    assert code == 1 and "would be reformatted" in out
    assert messy.read_text() == text
    assert run(capsys, "fmt", str(messy))[0] == 0
    assert messy.read_text() == 'policy p\nschema "s"\n\nx -> visit borrower\n'
