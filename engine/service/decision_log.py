"""The decision log: every decision the service makes, one checked JSON line each.

Input: decision records (mappings) from the service. Output: an append-only file of
canonical JSON lines, each carrying `seq` (one more than the line before, across
rotations) and `crc` (CRC-32 of the line's JSON without `crc`), plus `verify`, which
reads a log back and lists what is wrong with it.

Durability, the invariant every function here keeps: a line is acknowledged only after
write + fsync of the whole line, and the file only ever holds whole, valid lines followed
by at most one torn tail left by a crash. Opening the log sets that tail aside into
`PATH.torn-<n>` before anything new is written, so a new record never continues a torn
one. Must not: evaluate policies, know HTTP, or drop a record silently.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

# The flat shape engine/service/app.py builds: `policy` is the policy's name.
REQUIRED_KEYS = ("decision_id", "timestamp", "policy", "version", "digest", "params",
                 "facts", "actions", "suppressed", "matched")
RESERVED_KEYS = ("seq", "crc")
MASK = "***"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_KEEP = 10
_TAIL_BLOCK = 64 * 1024


class DecisionLogError(Exception):
    """The log cannot be opened or written; the decision must not be acknowledged."""


# --- one line -------------------------------------------------------------------------

def _json_default(value: object) -> str:
    # Money and dates reach the log as text so no float ever touches them.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot log a {type(value).__name__}: {value!r}")


def canonical_json(record: Mapping[str, Any]) -> str:
    """The one spelling of a record: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False, default=_json_default)


def crc_of(record: Mapping[str, Any]) -> int:
    """CRC-32 of the record's canonical JSON without its `crc` field."""
    body = {key: value for key, value in record.items() if key != "crc"}
    return zlib.crc32(canonical_json(body).encode("utf-8"))


def encode_line(record: Mapping[str, Any], seq: int, mask: frozenset[str]) -> bytes:
    """The bytes of one log line: masked facts, `seq`, `crc`, and the newline."""
    _check_record(record)
    body = dict(record)
    facts = record["facts"]
    if mask and isinstance(facts, Mapping):
        body["facts"] = {name: MASK if name in mask else value
                         for name, value in facts.items()}
    body["seq"] = seq
    # Round-trip through JSON first so the CRC is over exactly what verify will re-read
    # (Decimals and dates become strings, tuples become lists).
    body = json.loads(canonical_json(body))
    body["crc"] = crc_of(body)
    return (canonical_json(body) + "\n").encode("utf-8")


def _check_record(record: Mapping[str, Any]) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise ValueError(f"decision record lacks {', '.join(missing)}")
    reserved = [key for key in RESERVED_KEYS if key in record]
    if reserved:
        raise ValueError(f"{', '.join(reserved)} are written by the log, not the caller")


def decode_line(line: bytes) -> tuple[dict[str, Any] | None, str]:
    """The record on one line (without its newline), or None and what is wrong with it."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return None, f"not JSON ({error})"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    if not isinstance(record.get("seq"), int) or not isinstance(record.get("crc"), int):
        return None, "no seq or crc field"
    if crc_of(record) != record["crc"]:
        return None, "CRC mismatch: the line was changed or torn"
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        return None, f"missing {', '.join(missing)}"
    return record, ""


# --- files ----------------------------------------------------------------------------

def _fsync_dir(directory: Path) -> None:
    """Make a create or rename durable: the entry lives in the directory, not the file."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rotated_paths(path: Path) -> list[Path]:
    """`PATH.1`, `PATH.2`, ... that exist, newest first (`.lock`, `.torn-n` excluded)."""
    found = []
    for sibling in path.parent.glob(path.name + ".*"):
        suffix = sibling.name[len(path.name) + 1:]
        if suffix.isdigit():
            found.append((int(suffix), sibling))
    return [sibling for _, sibling in sorted(found)]


def torn_paths(path: Path) -> list[Path]:
    """The torn tails set aside so far, oldest first."""
    found = []
    for sibling in path.parent.glob(path.name + ".torn-*"):
        suffix = sibling.name.rsplit("-", 1)[1]
        if suffix.isdigit():
            found.append((int(suffix), sibling))
    return [sibling for _, sibling in sorted(found)]


@dataclass(frozen=True)
class Tail:
    """Where the last valid line of a file ends, its seq, and whether bytes follow it."""

    good_end: int
    last_seq: int | None
    size: int


def scan_tail(path: Path) -> Tail:
    """Find the last valid line by reading backwards, block by doubling block."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        block = _TAIL_BLOCK
        while True:
            start = max(0, size - block)
            handle.seek(start)
            data = handle.read(size - start)
            found = _last_valid(data, start)
            if found is not None or start == 0:
                break
            block *= 2
    if found is None:
        return Tail(0, None, size)
    return Tail(found[0], found[1], size)


def _last_valid(data: bytes, start: int) -> tuple[int, int] | None:
    """(end offset, seq) of the last valid whole line in data read from offset start."""
    end = data.rfind(b"\n")
    while end >= 0:
        begin = data.rfind(b"\n", 0, end) + 1
        if begin == 0 and start > 0:
            return None  # the line may begin before this block: read a bigger one
        record, _ = decode_line(data[begin:end])
        if record is not None:
            return start + end + 1, record["seq"]
        end = begin - 1
    return None


# --- the log --------------------------------------------------------------------------

class DecisionLog:
    """Append-only, fsync'd, rotated decision log; safe to share between threads.

    One process at a time: `PATH.lock` is flocked while the log is open, so a second
    service on the same path fails at start-up instead of interleaving lines.
    """

    def __init__(self, path: str | os.PathLike[str], *, mask: Iterable[str] = (),
                 max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP,
                 fsync: bool = True) -> None:
        self.path = Path(path)
        self.mask = frozenset(mask)
        self.max_bytes = max_bytes
        self.keep = keep
        self._fsync = fsync
        self._cond = threading.Condition()
        self._written = 0       # lines written so far (a ticket per append)
        self._synced = 0        # lines known durable
        self._syncing = False   # one thread at a time runs fsync for everyone
        self._failed: str | None = None
        self._lock_fd = self._take_lock()
        try:
            self.torn_set_aside = self._recover()
            self._fd, self._size = self._open_live()
        except BaseException:
            os.close(self._lock_fd)
            raise

    def _take_lock(self) -> int:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DecisionLogError(f"{self.path} is open in another process") from None
        return fd

    def _recover(self) -> Path | None:
        """Set a torn tail aside (copy out, fsync, then truncate) and find the next seq."""
        self._next_seq = 1
        if not self.path.exists():
            self._next_seq = self._seq_after_rotated()
            return None
        tail = scan_tail(self.path)
        if tail.last_seq is None and tail.good_end == 0 and tail.size > 0:
            with self.path.open("rb") as handle:
                if b"\n" in handle.read(tail.size - 1):
                    raise DecisionLogError(f"{self.path} has no valid line: not a decision log")
        self._next_seq = (tail.last_seq + 1 if tail.last_seq is not None
                          else self._seq_after_rotated())
        if tail.good_end == tail.size:
            return None
        return self._set_aside(tail)

    def _seq_after_rotated(self) -> int:
        rotated = rotated_paths(self.path)
        if not rotated:
            return 1
        last = scan_tail(rotated[0]).last_seq
        return 1 if last is None else last + 1

    def _set_aside(self, tail: Tail) -> Path:
        with self.path.open("rb") as handle:
            handle.seek(tail.good_end)
            torn = handle.read()
        existing = torn_paths(self.path)
        number = int(existing[-1].name.rsplit("-", 1)[1]) + 1 if existing else 1
        target = Path(f"{self.path}.torn-{number}")
        # Copy out and make it durable before truncating: a crash in between leaves
        # the bytes in both places, never in neither.
        with target.open("xb") as out:
            out.write(torn)
            out.flush()
            os.fsync(out.fileno())
        _fsync_dir(self.path.parent)
        with self.path.open("r+b") as handle:
            handle.truncate(tail.good_end)
            os.fsync(handle.fileno())
        return target

    def _open_live(self) -> tuple[int, int]:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        if created:
            _fsync_dir(self.path.parent)
        return fd, os.fstat(fd).st_size

    def append(self, record: Mapping[str, Any]) -> None:
        """Log one decision; returns only once its line is on disk (unless fsync=False).

        Raises ValueError for a record that cannot be logged (nothing is written) and
        DecisionLogError when the disk failed; then the decision is not acknowledged.
        """
        with self._cond:
            line = self._line_for(record)
            self._write(line)
            self._next_seq += 1
            self._written += 1
            self._wait_durable(self._written)

    def _line_for(self, record: Mapping[str, Any]) -> bytes:
        """Encode the record with the next seq, rotating first when it would not fit.

        Waiting for an fsync releases the lock and lets other appenders take seqs, so
        the line is encoded again after every wait.
        """
        while True:
            self._raise_if_failed()
            line = encode_line(record, self._next_seq, self.mask)
            if self._size == 0 or self._size + len(line) <= self.max_bytes:
                return line
            if self._syncing:  # nobody may be fsyncing the fd rotation closes
                self._cond.wait()
            else:
                self._rotate()

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise DecisionLogError(f"decision log unusable after an earlier error: "
                                   f"{self._failed}")

    def _write(self, line: bytes) -> None:
        """Write the whole line or, on error, cut the file back so no torn line remains."""
        done = 0
        try:
            while done < len(line):
                done += os.write(self._fd, line[done:])
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            self._fail(f"write failed: {error}")
        self._size += len(line)

    def _fail(self, reason: str) -> None:
        # After a failed fsync the page cache may have dropped the data: refuse further
        # appends rather than acknowledge decisions on top of a hole.
        self._failed = reason
        self._cond.notify_all()
        raise DecisionLogError(reason)

    def _wait_durable(self, ticket: int) -> None:
        """Group commit: one thread fsyncs for every line written before it started."""
        if not self._fsync:
            return
        while self._synced < ticket:
            self._raise_if_failed()
            if self._syncing:
                self._cond.wait()
                continue
            self._syncing, target, fd = True, self._written, self._fd
            self._cond.release()
            try:
                os.fsync(fd)
                error = None
            except OSError as caught:
                error = caught
            finally:
                self._cond.acquire()
                self._syncing = False
            if error is not None:
                self._fail(f"fsync failed: {error}")
            self._synced = max(self._synced, target)
            self._cond.notify_all()

    def _rotate(self) -> None:
        """PATH -> PATH.1 -> PATH.2 ...; the oldest beyond `keep` is dropped."""
        try:
            os.fsync(self._fd)
            self._synced = self._written
            os.close(self._fd)
            for number in range(self.keep - 1, 0, -1):
                older = Path(f"{self.path}.{number}")
                if older.exists():
                    os.replace(older, f"{self.path}.{number + 1}")
            os.replace(self.path, f"{self.path}.1")
            self._fd, self._size = self._open_live()
            _fsync_dir(self.path.parent)
        except OSError as error:
            self._fail(f"rotation failed: {error}")

    def close(self) -> None:
        """Flush what is written and release the file and the lock."""
        with self._cond:
            while self._syncing:
                self._cond.wait()
            if self._fd < 0:
                return
            try:
                if self._fsync and self._failed is None:
                    os.fsync(self._fd)
            finally:
                os.close(self._fd)
                os.close(self._lock_fd)
                self._fd = -1

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- reading and verifying ------------------------------------------------------------

def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The valid records of one file in order; bad lines and a torn tail are skipped."""
    with Path(path).open("rb") as handle:
        for raw in handle:
            if raw.endswith(b"\n"):
                record, _ = decode_line(raw[:-1])
                if record is not None:
                    yield record


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a log, at a 1-based line of a file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class VerifyReport:
    """What `verify` found: problems make a log unsound; a torn tail alone does not."""

    files: list[Path] = field(default_factory=list)
    records: int = 0
    problems: list[Problem] = field(default_factory=list)
    torn_tail: Problem | None = None
    set_aside: list[Path] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def verify(path: str | os.PathLike[str], *, rotated: bool = True) -> VerifyReport:
    """Check every line of the log (and, if asked, its rotated files, oldest first).

    A last line without its newline in the live file is the trace of a crash: it is
    reported as `torn_tail`, which the next open sets aside. Anything else is a problem.
    Raises OSError when a file cannot be read.
    """
    live = Path(path)
    files = [*reversed(rotated_paths(live)), live] if rotated else [live]
    report = VerifyReport(files=files, set_aside=torn_paths(live))
    checker = _Continuity(report)
    for file in files:
        _verify_file(file, is_live=file == live, checker=checker)
    return report


@dataclass
class _Continuity:
    report: VerifyReport
    last_seq: int | None = None
    seen: dict[str, tuple[Path, int]] = field(default_factory=dict)

    def check(self, record: dict[str, Any], where: tuple[Path, int]) -> None:
        report = self.report
        report.records += 1
        seq = record["seq"]
        if self.last_seq is not None and seq != self.last_seq + 1:
            report.problems.append(Problem(*where, f"seq {seq} follows {self.last_seq}: "
                                                   f"lines missing or out of order"))
        self.last_seq = seq
        decision_id = str(record["decision_id"])
        if decision_id in self.seen:
            first = self.seen[decision_id]
            report.problems.append(Problem(*where, f"decision_id {decision_id!r} "
                                                   f"already at {first[0]}:{first[1]}"))
        else:
            self.seen[decision_id] = where


def _verify_file(file: Path, *, is_live: bool, checker: _Continuity) -> None:
    report = checker.report
    with file.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                torn = Problem(file, number, f"torn last line ({len(raw)} bytes without a "
                                             f"newline)")
                if is_live:
                    report.torn_tail = torn
                else:
                    report.problems.append(torn)
                break
            record, reason = decode_line(raw[:-1])
            if record is None:
                report.problems.append(Problem(file, number, reason))
            else:
                checker.check(record, (file, number))
