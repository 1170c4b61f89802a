"""Reload the policies when the files of POLICY_DIR change: a polling watcher.

Input: a folder and a reload function (the store's). Output: a daemon thread that
every `interval` seconds lists the `*.policy` and `*.yaml` files of the folder and its
subfolders (where guard files live) with their size and `mtime_ns`, and calls the
reload function when that list differs from the one seen before. Polling needs no
dependency and works on every file system; the store itself decides what changed and
whether the new versions are accepted.
Must not: load or judge policies itself, or die on an error (it logs and carries on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from pathlib import Path

PATTERNS = ("*.policy", "*.yaml")
Listing = frozenset[tuple[str, int, int]]

logger = logging.getLogger("policylang.watch")


def list_files(directory: Path) -> Listing:
    """(name, size, mtime_ns) of each watched file; a file gone meanwhile is left out."""
    entries = set()
    for pattern in PATTERNS:
        for path in directory.rglob(pattern):     # guard files sit in subfolders
            try:
                status = path.stat()
            except OSError:
                continue
            entries.add((str(path.relative_to(directory)), status.st_size,
                         status.st_mtime_ns))
    return frozenset(entries)


class Poller:
    """Calls `action` after what `look` returns changes, looking every `interval`
    seconds in a daemon thread. The first look is taken when the poller is made, so
    make it before the first load: a change in between then shows as a change."""

    def __init__(self, look: Callable[[], Hashable], action: Callable[[], object],
                 interval: float, name: str) -> None:
        self.interval = interval
        self.name = name
        self._look = look
        self._action = action
        self._seen = look()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """One poll: act if the look changed since the last one; True if it did.
        The look is taken before acting, so a change during the action shows next time."""
        seen = self._look()
        if seen == self._seen:
            return False
        self._seen = seen
        self._action()
        return True

    def start(self) -> threading.Thread:
        """Poll in a daemon thread (it dies with the process) until `stop`."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:
                # A bug or an unreadable folder must not end the watching for good.
                logger.exception("%s failed; trying again", self.name)


class PolicyWatcher(Poller):
    """Calls `reload` after the watched files of `directory` change."""

    def __init__(self, directory: str | Path, reload: Callable[[], object],
                 interval: float) -> None:
        self.directory = Path(directory)
        super().__init__(lambda: list_files(self.directory), reload, interval,
                         f"watching {self.directory}")
