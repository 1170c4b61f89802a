"""The versions a service's workers accepted, kept for the workers that start later.

Input: a folder the workers of one `policylang serve --workers N` run share (the
command makes it and removes it at exit) and each version a worker accepts. Output:
for a policy whose file on disk is refused when a worker starts (a worker restarted
after a crash, say), the last version a sibling accepted, loaded from a copy. Without
this, that worker would serve nothing under the name while its siblings serve the old
version: the rule that a refused version leaves the old one in force would hold per
process only.

A copy holds the texts the version was loaded from (not the files as they are by then),
at the absolute paths of the policy, its schema and its test file mirrored under
`FOLDER/NAME/FINGERPRINT/`, so a schema named relative to its policy (even `../x.yaml`)
is found beside it in the copy too. `FOLDER/NAME/current` names the newest copy.
Must not: serve a copy without checking it and running its tests again (the loader
does both, as for a file on disk); leave a half-written copy where a worker could read
it (copies are staged, then renamed into place; the pointer is replaced atomically).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.service.store import Served

log = logging.getLogger("policylang.serve")


class KeptVersions:
    """Copies of accepted versions in `folder`, one subfolder per policy name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, served: Served) -> None:
        """Copy the files `served` was loaded from (and its test file), then point the
        policy's `current` at the copy. Never fails the reload: a copy that cannot be
        made is logged, and the version is served all the same."""
        try:
            self._keep(served)
        except OSError as error:
            log.warning("could not keep a copy of %s for other workers: %s",
                        served.name, error)

    def policy_path(self, name: str) -> Path | None:
        """Where the newest kept copy of `name`'s policy file is; None when there is none.
        The caller loads it as a file on disk: checked and tested again."""
        try:
            pointer = json.loads((self.folder / name / "current").read_text("utf-8"))
            path = self.folder / name / pointer["fingerprint"] / _mirrored(pointer["policy"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return path if path.is_file() else None

    def _keep(self, served: Served) -> None:
        home = self.folder / served.name
        home.mkdir(parents=True, exist_ok=True)
        target = home / served.fingerprint
        if not target.exists():
            staging = Path(tempfile.mkdtemp(dir=self.folder, prefix=".staging-"))
            for file, text in served.texts:         # the texts as loaded, not as now
                copy = staging / _mirrored(str(Path(file).resolve()))
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(text, encoding="utf-8")
            try:
                staging.rename(target)
            except OSError:           # a sibling kept the same version first
                shutil.rmtree(staging, ignore_errors=True)
        pointer = {"fingerprint": served.fingerprint,
                   "policy": str(Path(served.files[0]).resolve())}
        handle, temporary = tempfile.mkstemp(dir=home, prefix=".current-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(pointer, out)
        os.replace(temporary, home / "current")


def _mirrored(absolute: str) -> Path:
    """An absolute path as a relative one, to place it under a copy's folder."""
    return Path(absolute.lstrip("/\\"))

