"""The store's reload rules that need no server: a file rewritten while it is being
loaded is reloaded next time (the fingerprint is of the texts that were compiled), and
a store that shares a folder with sibling workers serves their last accepted version
when its own first load of a file is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.service import store as store_module
from engine.service.store import PolicyStore
from service.cases import EXAMPLES

FILES = ("collection.policy", "docs.schema.yaml", "collection.test.yaml")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for name in FILES:
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


def _set_version(folder: Path, version: str) -> None:
    """Rewrite the header's `version "1"` as `version VERSION` (raw: may break it)."""
    path = folder / "collection.policy"
    text = (EXAMPLES / "collection.policy").read_text(encoding="utf-8")
    path.write_text(text.replace('version "1"', f"version {version}"), encoding="utf-8")


def test_a_file_rewritten_during_its_load_is_reloaded_next_time(
        policy_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_load = store_module.load_file

    def load_then_rewrite(path: Path) -> object:
        result = real_load(path)
        _set_version(policy_dir, '"2"')      # lands after the read, before the fingerprint
        return result

    monkeypatch.setattr(store_module, "load_file", load_then_rewrite)
    store = PolicyStore(policy_dir)
    assert store.reload().accepted == ("collection",)
    assert store.snapshot["collection"].policy.version == "1"
    monkeypatch.setattr(store_module, "load_file", real_load)
    assert store.reload().accepted == ("collection",)
    assert store.snapshot["collection"].policy.version == "2"
    assert store.reload().unchanged == ("collection",)


def test_a_late_worker_serves_the_version_its_siblings_accepted(policy_dir: Path,
                                                                tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    first = PolicyStore(policy_dir, kept=shared)
    first.reload()
    digest = first.snapshot["collection"].policy.digest
    _set_version(policy_dir, '"1" broken')           # a syntax error on disk
    late = PolicyStore(policy_dir, kept=shared)
    report = late.reload()
    assert report.rejected == ("collection",)
    assert late.snapshot["collection"].policy.digest == digest
    assert late.rejections["collection"].reason == "the policy has errors"
    alone = PolicyStore(policy_dir)                 # without the shared folder: nothing
    alone.reload()
    assert "collection" not in alone.snapshot


def test_the_kept_copy_is_of_the_accepted_texts_and_checked_again(policy_dir: Path,
                                                                  tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    PolicyStore(policy_dir, kept=shared).reload()
    _set_version(policy_dir, '"1" broken')
    kept = PolicyStore(policy_dir, kept=shared).kept
    assert kept is not None
    path = kept.policy_path("collection")
    assert path is not None and 'version "1" "' in path.read_text(encoding="utf-8")
    # A kept copy that no longer passes its own tests is not served either.
    test_copy = path.with_name("collection.test.yaml")
    test_copy.write_text(test_copy.read_text(encoding="utf-8").replace(
        "notify guarantor", "refer legal", 1), encoding="utf-8")
    late = PolicyStore(policy_dir, kept=shared)
    late.reload()
    assert "collection" not in late.snapshot


def _with_guard(policy_dir: Path) -> Path:
    """The example policy under the docs' conduct guard, kept in `guards/`."""
    (policy_dir / "guards").mkdir()
    guard = policy_dir / "guards" / "conduct.policy"
    shutil.copy(EXAMPLES / "guards" / "conduct.policy", guard)
    path = policy_dir / "collection.policy"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'schema "docs.schema.yaml"', 'schema "docs.schema.yaml"\nguards "guards/conduct.policy"'),
        encoding="utf-8")
    return guard


def test_a_changed_guard_reloads_its_policy_and_a_broken_one_keeps_the_old(
        policy_dir: Path) -> None:
    guard = _with_guard(policy_dir)
    store = PolicyStore(policy_dir)
    assert store.reload().accepted == ("collection",)
    first = store.snapshot["collection"]
    assert str(guard) in first.files and "guard" not in store.snapshot
    guard.write_text(guard.read_text(encoding="utf-8").replace("call_cap = 7", "call_cap = 5"),
                     encoding="utf-8")
    assert store.reload().accepted == ("collection",)
    second = store.snapshot["collection"]
    assert second.policy.digest != first.policy.digest
    guard.write_text("guard conduct version\n", encoding="utf-8")      # broken
    assert store.reload().rejected == ("collection",)
    assert store.snapshot["collection"].policy.digest == second.policy.digest
    assert store.rejections["collection"].reason == "the policy has errors"
