"""`policylang serve POLICY_DIR`: run the decision service under uvicorn.

Loopback by default: exposing decisions about people's loans to a network is a
choice the operator makes with --host (and then should make with --token-file too).
One process by default; `--workers N` starts N uvicorn processes, each building its
own store from the options passed through the environment (an app factory), under a
supervisor that turns SIGHUP into a reload of every worker (engine/service/workers.py).
SIGHUP reloads the policies (in every worker); so do `POST /v1/reload` and a change in
POLICY_DIR, polled every --watch-interval seconds by each process (engine/service/watch.py).
Exit codes: 2 for usage and I/O errors (no folder, no policies, unreadable token).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
OPTIONS_VARIABLE = "POLICYLANG_SERVE_OPTIONS"
DEFAULT_MAX_BODY = 4_000_000


def add_parser(sub: Any) -> None:
    """The `serve` subcommand's arguments."""
    serve = sub.add_parser("serve", help="serve decisions over HTTP (FastAPI + uvicorn)")
    serve.add_argument("policy_dir", metavar="POLICY_DIR")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8181)
    serve.add_argument("--workers", type=int, default=1, metavar="N")
    serve.add_argument("--decision-log", metavar="PATH",
                       help="append one JSON line per decision to this file")
    serve.add_argument("--token-file", metavar="FILE",
                       help="require `Authorization: Bearer <the file's content>`")
    serve.add_argument("--mask-fact", action="append", default=[], metavar="FACT",
                       help="write this fact's value as *** in the decision log (repeatable)")
    serve.add_argument("--log-max-bytes", type=int, default=64 * 2**20, metavar="BYTES",
                       help="rotate the decision log at this size (default 64 MiB)")
    serve.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, metavar="BYTES",
                       help="refuse larger request bodies with 413 (default 4 MB: a "
                            "batch of 1,000 complete loans is about 1.1 MB)")
    serve.add_argument("--watch-interval", type=float, default=1.0, metavar="SECONDS",
                       help="reload when POLICY_DIR's *.policy or *.yaml files change, "
                            "checking this often (default 1.0; 0 turns watching off)")
    serve.add_argument("--access-log", action="store_true",
                       help="log every request (off by default: it costs throughput)")
    serve.set_defaults(run=run_serve)


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The options every worker needs, or None after saying what is wrong."""
    directory = Path(args.policy_dir)
    if not directory.is_dir() or not any(directory.glob("*.policy")):
        _err(f"{directory}: not a folder holding *.policy files; nothing is served")
        return None
    token = None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            _err(f"{args.token_file}: cannot read the token: {error.strerror or error}")
            return None
        if not token:
            _err(f"{args.token_file}: the token file is empty")
            return None
    if args.workers < 1 or args.max_body < 1:
        _err("--workers and --max-body must be at least 1")
        return None
    if not (args.watch_interval >= 0 and math.isfinite(args.watch_interval)):
        _err("--watch-interval must be 0 (off) or more seconds")
        return None
    return {"policy_dir": str(directory.resolve()), "token": token,
            "max_body": args.max_body, "decision_log": args.decision_log,
            "mask": list(args.mask_fact), "log_max_bytes": args.log_max_bytes,
            "workers": args.workers, "watch_interval": args.watch_interval}


def create_from_options(options: dict[str, Any]) -> Any:
    """Load the store and build the app; SIGHUP, and a change in POLICY_DIR when
    watching, then reload this process's store."""
    from engine.service.app import create_app  # noqa: PLC0415 (FastAPI only for serve)
    from engine.service.store import PolicyStore  # noqa: PLC0415
    from engine.service.watch import PolicyWatcher, Poller  # noqa: PLC0415
    from engine.service.workers import POLL_SECONDS, ReloadGeneration  # noqa: PLC0415

    shared = options.get("shared")          # with several workers: what they share
    store = PolicyStore(options["policy_dir"], kept=shared)
    interval = options.get("watch_interval", 0)
    # Made before the first load, so a change during that load is seen as a change.
    pollers = [PolicyWatcher(store.directory, store.reload, interval)] if interval else []
    generation = ReloadGeneration(shared) if shared else None
    if generation is not None:
        pollers.append(Poller(generation.read, store.reload, POLL_SECONDS,
                              "following the reload generation"))
    report = store.reload()
    for name in report.rejected:
        _err(f"{name}: refused: {store.rejections[name].reason}")
    log = _decision_log(options)
    app = create_app(store, token=options.get("token"), max_body=options["max_body"],
                     decision_log=log, on_reload=generation.bump if generation else None)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=store.reload).start())
    for poller in pollers:
        poller.start()
    return app


def _decision_log(options: dict[str, Any]) -> Any:
    """The decision log, or None. With several workers each process has its own file,
    `PATH.<pid>` (a log is one process's: it holds a lock on it)."""
    from engine.service.decision_log import DecisionLog  # noqa: PLC0415

    path = options.get("decision_log")
    if not path:
        return None
    if options.get("workers", 1) > 1:
        path = f"{path}.{os.getpid()}"
    return DecisionLog(path, mask=options.get("mask", ()), max_bytes=options["log_max_bytes"])


def app_factory() -> Any:
    """The app of one worker process (`--workers N`), from the environment's options."""
    return create_from_options(json.loads(os.environ[OPTIONS_VARIABLE]))


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    options = _options(args)
    if options is None:
        return EXIT_USAGE
    # Without --access-log, uvicorn logs warnings and errors only: a line per request
    # costs more than a decision does.
    log_options = {"access_log": args.access_log,
                   "log_level": "info" if args.access_log else "warning"}
    if args.workers > 1:
        from engine.service.workers import run_workers  # noqa: PLC0415

        shared = tempfile.mkdtemp(prefix="policylang-serve-")
        os.environ[OPTIONS_VARIABLE] = json.dumps({**options, "shared": shared})
        try:
            run_workers("engine.service.command:app_factory", workers=args.workers,
                        host=args.host, port=args.port, shared=shared, **log_options)
        finally:
            shutil.rmtree(shared, ignore_errors=True)
    else:
        uvicorn.run(create_from_options(options), host=args.host, port=args.port, **log_options)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """`python -m engine.service.command POLICY_DIR ...`, the same as `policylang serve`."""
    parser = argparse.ArgumentParser(prog="policylang")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
