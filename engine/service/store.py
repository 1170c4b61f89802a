"""The policies a service decides with, and their guarded reload.

Input: a folder of `*.policy` files (each named by its file stem), their schemas and
optional `<stem>.test.yaml` files. Output: an immutable snapshot mapping names to
`Served` entries. A reload builds a new snapshot and replaces the one reference;
a request reads that reference once, so it never sees half a reload.
Must not: serve a version that has errors or fails its own tests; a refused version
leaves the previous one in place and is recorded with its reasons.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs

from engine.api import CompiledPolicy, compile_checked
from engine.service.kept import KeptVersions
from engine.tester import TestFileError, run_test_file
from policylang.diagnostics import has_errors
from policylang.pipeline import load_file
from policylang.render import files_json, group_by_file

log = logging.getLogger("policylang.serve")

POLICY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def now_iso() -> str:
    """The current time in ISO 8601, UTC, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@attrs.frozen(slots=True)
class Served:
    """One policy as served: the compiled version and where it came from."""

    name: str
    policy: CompiledPolicy
    loaded_at: str
    files: tuple[str, ...]          # the policy file, then its schema
    fingerprint: str                # hash of the files and the test file, to skip reloads
    texts: tuple[tuple[str, str], ...] = ()   # (path, text) of each file as loaded

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "policy": self.policy.name,
                "version": self.policy.version, "digest": self.policy.digest,
                "loaded_at": self.loaded_at, "files": list(self.files)}


@attrs.frozen(slots=True)
class Rejection:
    """Why the last reload of a policy was refused: its diagnostics (the shape of
    `check --format json`) or its failing test cases."""

    at: str
    reason: str
    diagnostics: Mapping[str, Any] | None = None
    failed_tests: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "reason": self.reason, "diagnostics": self.diagnostics,
                "failed_tests": list(self.failed_tests)}


@attrs.frozen(slots=True)
class ReloadReport:
    accepted: tuple[str, ...]
    rejected: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]

    def to_json(self) -> dict[str, list[str]]:
        return {"accepted": list(self.accepted), "rejected": list(self.rejected),
                "unchanged": list(self.unchanged), "removed": list(self.removed)}


class PolicyStore:
    """Every `*.policy` of one folder. Reads are lock-free (one reference); reloads
    are serialised by a lock so two never interleave."""

    def __init__(self, directory: str | Path, *, kept: str | Path | None = None) -> None:
        self.directory = Path(directory)
        # With several workers, the folder they share for the versions they accepted:
        # a worker started later (after a crash) then serves what its siblings serve
        # when the file on disk is refused, instead of nothing (engine/service/kept.py).
        self.kept = KeptVersions(Path(kept)) if kept is not None else None
        self._snapshot: Mapping[str, Served] = MappingProxyType({})
        self._rejections: Mapping[str, Rejection] = MappingProxyType({})
        self._lock = threading.Lock()
        self.reloads_total = 0
        self.rejected_total = 0

    @property
    def snapshot(self) -> Mapping[str, Served]:
        """The policies in force; take it once per request."""
        return self._snapshot

    @property
    def rejections(self) -> Mapping[str, Rejection]:
        return self._rejections

    @property
    def ready(self) -> bool:
        """True when every policy in the folder has been loaded cleanly at least once."""
        names = self._names()
        return bool(names) and all(name in self._snapshot for name in names)

    def get(self, name: str) -> Served | None:
        return self._snapshot.get(name) if POLICY_NAME.match(name) else None

    def _kept_version(self, name: str) -> Served | None:
        """The version of `name` a sibling worker accepted last, if it still passes."""
        path = self.kept.policy_path(name) if self.kept is not None else None
        if path is None:
            return None
        outcome = _load(name, path)
        if isinstance(outcome, Rejection):
            log.warning("the kept copy of %s no longer passes: %s", name, outcome.reason)
            return None
        return outcome

    def _names(self) -> dict[str, Path]:
        return {path.stem: path for path in sorted(self.directory.glob("*.policy"))
                if POLICY_NAME.match(path.stem)}

    def reload(self) -> ReloadReport:
        """Re-check every changed policy; swap in the accepted ones all at once."""
        with self._lock:
            current = self._snapshot
            fresh: dict[str, Served] = {}
            rejections = dict(self._rejections)
            accepted, rejected, unchanged = [], [], []
            for name, path in self._names().items():
                old = current.get(name)
                fingerprint = _fingerprint(path, old.files[1:] if old else ())
                if old is not None and old.fingerprint == fingerprint:
                    fresh[name] = old
                    unchanged.append(name)
                    continue
                outcome = _load(name, path)
                if isinstance(outcome, Served):
                    fresh[name] = outcome
                    rejections.pop(name, None)
                    accepted.append(name)
                    if self.kept is not None:
                        self.kept.keep(outcome)
                else:
                    if old is None:
                        old = self._kept_version(name)
                    if old is not None:
                        fresh[name] = old
                    rejections[name] = outcome
                    rejected.append(name)
            removed = tuple(name for name in current if name not in fresh)
            self._snapshot = MappingProxyType(fresh)        # the one atomic swap
            self._rejections = MappingProxyType(rejections)
            self.reloads_total += 1
            self.rejected_total += len(rejected)
            return ReloadReport(tuple(accepted), tuple(rejected), tuple(unchanged), removed)


def _fingerprint(path: Path, others: tuple[str, ...]) -> str:
    """A hash of the policy, the schema it used last time and its test file as they are
    on disk now; unreadable files hash as missing, so the next load reports them."""
    files = (path, *map(Path, others), _test_file(path))
    return _hash((str(file), _text_or_none(file)) for file in files)


def _hash(texts: Iterable[tuple[str, str | None]]) -> str:
    """The fingerprint of files given as (path, text or None when missing)."""
    digest = hashlib.sha256()
    for name, text in texts:
        digest.update(name.encode() + b"\0")
        digest.update(b"<missing>" if text is None else text.encode("utf-8", "replace"))
    return digest.hexdigest()


def _text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _test_file(path: Path) -> Path:
    return path.with_name(f"{path.stem}.test.yaml")


def _load(name: str, path: Path) -> Served | Rejection:
    """The policy compiled, or why it is refused: errors, then failing tests. Each file
    is read once: the fingerprint and the tests are of the very texts that were
    compiled, so a file rewritten during the load shows as a change at the next reload
    (never as the version in force with another version's fingerprint)."""
    try:
        result = load_file(path)
    except (OSError, UnicodeDecodeError) as error:
        return Rejection(now_iso(), f"cannot read the policy file: {error}")
    if result.checked is None or has_errors(result.diagnostics):
        return Rejection(now_iso(), "the policy has errors",
                         files_json(group_by_file(str(path), list(result.diagnostics))))
    policy = compile_checked(result.checked)
    test_file = _test_file(path)
    test_text = _text_or_none(test_file)
    failures = _failed_tests(test_file, test_text, (path, policy))
    if failures:
        return Rejection(now_iso(), "the policy's tests fail", failed_tests=failures)
    files = (str(path), *(file for file in result.sources if file != str(path)))
    texts = tuple((file, result.sources[file].text) for file in files)
    tested = ((str(test_file), test_text),) if test_text is not None else ()
    return Served(name, policy, now_iso(), files,
                  _hash((*texts, (str(test_file), test_text))), texts + tested)


def _failed_tests(test_file: Path, text: str | None,
                  compiled: tuple[Path, CompiledPolicy]) -> tuple[str, ...]:
    """Each failing case of the policy's test file as one line; none when it has none."""
    if text is None:
        return ()
    try:
        results = run_test_file(test_file, text=text, compiled=compiled)
    except (OSError, TestFileError) as error:
        return (str(error),)
    return tuple(f"{r.file}:{r.line}: {r.name}: {'; '.join(r.details)}"
                 for r in results if not r.passed)
