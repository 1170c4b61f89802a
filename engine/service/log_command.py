"""`policylang log verify PATH`: read a decision log back and say whether it is sound.

Exit codes as for every command: 0 sound (a torn last line left by a crash is noted,
not counted: the service sets it aside when it next opens the log), 1 problems, each
listed as `file:line: reason`, 2 the log cannot be read. Must not: repair anything.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.service.decision_log import verify

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    """The `log` command and its `verify` subcommand."""
    log = sub.add_parser("log", help="inspect the decision service's log")
    log_sub = log.add_subparsers(dest="log_command", required=True)
    check = log_sub.add_parser("verify", help="check every line: JSON, fields, CRC, seq, "
                                              "duplicate decision ids")
    check.add_argument("path", metavar="PATH")
    check.add_argument("--no-rotated", dest="rotated", action="store_false",
                       help="check PATH only, not PATH.1, PATH.2, ...")
    check.set_defaults(run=run_log_verify)


def run_log_verify(args: argparse.Namespace) -> int:
    """Print each problem, a torn tail and the set-aside files, then a one-line summary."""
    try:
        report = verify(args.path, rotated=args.rotated)
    except OSError as error:
        sys.stderr.write(f"error: cannot read {error.filename or args.path}: "
                         f"{error.strerror or error}\n")
        return EXIT_USAGE
    for problem in report.problems:
        print(problem)
    if report.torn_tail is not None:
        print(f"{report.torn_tail} (left by a crash; set aside when the log is next opened)")
    for torn in report.set_aside:
        print(f"{torn}: torn tail set aside by an earlier restart")
    verdict = "sound" if report.sound else f"{len(report.problems)} problem(s)"
    print(f"{args.path}: {report.records} record(s) in {len(report.files)} file(s), {verdict}")
    return EXIT_OK if report.sound else EXIT_INVALID
