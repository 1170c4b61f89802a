"""Several worker processes behind one socket that reload together (`serve --workers N`).

uvicorn's supervisor starts the workers, restarts one that dies and stops them all; on
SIGHUP it would replace every worker with a fresh process. A fresh process loads the
files as they are, so a policy whose new version is refused would vanish from it
instead of staying at the version in force. Here a reload is asked for by writing a
new token to one small file in the folder the workers share (the reload generation):
the supervisor does that on SIGHUP, and a worker does it after `POST /v1/reload`. Each
worker polls the file and reloads its store in place when the token changes, under
the same rules as a single process. Unlike a signal, the file reaches a worker that is
still starting too (it compares with the token it read before its first load), and it
is never lost to a worker that is busy. A worker started later (after a crash) finds
the versions its siblings accepted in the same folder (engine/service/kept.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from uvicorn import Config
from uvicorn.supervisors.multiprocess import Multiprocess

GENERATION_FILE = "reload-generation"
POLL_SECONDS = 0.2


class ReloadGeneration:
    """The file whose token changes once per asked-for reload."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / GENERATION_FILE

    def read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError:
            return ""

    def bump(self) -> None:
        """Ask every worker to reload: a new random token, replaced atomically."""
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".generation-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(os.urandom(16).hex())
        os.replace(temporary, self.path)


class ReloadingSupervisor(Multiprocess):
    """uvicorn's supervisor, except that SIGHUP reloads the workers instead of replacing
    them."""

    def __init__(self, config: Config, sockets: list[Any], generation: ReloadGeneration
                 ) -> None:
        super().__init__(config, sockets)
        self.generation = generation

    def handle_hup(self) -> None:
        self.generation.bump()


def run_workers(app: str, *, workers: int, host: str, port: int, shared: str,
                **options: Any) -> None:
    """Serve `app` (an import string naming an app factory) from `workers` processes
    that share the folder `shared`."""
    config = Config(app, factory=True, host=host, port=port, workers=workers, **options)
    ReloadingSupervisor(config, [config.bind_socket()], ReloadGeneration(shared)).run()
