"""The replay of real repayment histories: SuperLender's cash loans (internal test data
outside the repository, see /work/shared/data/PROVENANCE.md; skipped where it is absent),
with policies/cashloan.policy. The issue's bar: it runs without errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policylang.cli import main

ROOT = Path(__file__).resolve().parents[2]
# Beside the checkout (a developer's machine), or where the workplace keeps it (CI's
# clean clone lives elsewhere).
DATA = next((p for p in (ROOT.parent / "shared" / "data" / "superlender_ng",
                         Path("/work/shared/data/superlender_ng")) if (p / "loans.csv").exists()),
            ROOT.parent / "shared" / "data" / "superlender_ng")
pytestmark = pytest.mark.skipif(not (DATA / "loans.csv").exists(),
                                reason=f"the real dataset is not on this machine ({DATA})")


def test_superlender_replays_without_errors(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    stats = json.loads((DATA / "stats.json").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    code = main(["simulate", str(ROOT / "policies" / "cashloan.policy"), "--data", str(DATA),
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""                       # no problem, no loan set aside
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["loans"] == stats["loans_csv_rows"]
    assert summary["loans_skipped"] == []
    # The blacklist needs 90 days overdue; a payment counts on its own date, so a loan
    # paid 90 days late was 89 days overdue at most: at most the loans stats.json counts.
    ever_90 = stats["lateness_any_installment_until_paid_in_full"]["ever_90plus_days_late"]
    assert summary["by_action"]["blacklist borrower"] <= ever_90["loans"]
    assert summary["by_action"]["sms borrower using overdue_reminder"] > 0
