"""`policylang doc POLICY [--against OLD] --format html|md [--lang zh|en] [--out FILE]`.

Renders a policy's review document for sign-off. Exit codes as for every command:
0 the document was written (whatever the assertions' status: the document shows it),
1 the policy (or OLD) has errors, which are printed instead, 2 a file cannot be read
or written, or the two versions' schemas cannot be compared.
Must not: import matplotlib or z3 before the command runs (`policylang --help` stays
fast); they come with the review modules, imported in `run_doc`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
DAYS = 120          # the ladder's last day overdue
LEAD = 7            # the ladder's first day: this many days before the due date


def add_parser(sub: Any) -> None:
    """The `doc` command."""
    doc = sub.add_parser("doc", help="render a policy's review document for sign-off")
    doc.add_argument("policy", metavar="POLICY")
    doc.add_argument("--against", metavar="OLD",
                     help="the previous version: show what decides differently, with witnesses")
    doc.add_argument("--format", choices=("html", "md"), required=True)
    doc.add_argument("--lang", choices=("zh", "en"), default="zh")
    doc.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    doc.add_argument("--days", type=_days, default=DAYS, metavar="N",
                     help=f"the ladder's last day overdue (default {DAYS})")
    doc.set_defaults(run=run_doc)


def _days(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 3650:
        raise argparse.ArgumentTypeError("must be a whole number of days from 1 to 3650")
    return number


def run_doc(args: argparse.Namespace) -> int:
    from engine.review.html import render_html  # noqa: PLC0415
    from engine.review.markdown import render_markdown  # noqa: PLC0415
    from engine.review.model import build_review  # noqa: PLC0415
    from policylang.analysis.diff import SchemaMismatch  # noqa: PLC0415

    checked = [_checked(path) for path in (args.policy, args.against) if path is not None]
    if any(isinstance(c, int) for c in checked):
        return max(c for c in checked if isinstance(c, int))
    policy, previous = checked[0], (checked[1] if len(checked) > 1 else None)
    try:
        review = build_review(policy, lang=args.lang, days=args.days, lead=LEAD,
                              previous=previous, previous_name=args.against)
    except SchemaMismatch as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_USAGE
    output = render_html(review) if args.format == "html" else render_markdown(review)
    if args.out is None:
        sys.stdout.write(output)
        return EXIT_OK
    try:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)   # as `notice --out`
        Path(args.out).write_text(output, encoding="utf-8")
    except OSError as error:
        sys.stderr.write(f"{args.out}: cannot write the document: "
                         f"{(error.strerror or str(error)).lower()}\n")
        return EXIT_USAGE
    return EXIT_OK


def _checked(path: str) -> Any:
    """The checked policy, or the exit code after saying why there is none."""
    from policylang.commands import load_checked  # noqa: PLC0415

    return load_checked(path, "no document was written")
