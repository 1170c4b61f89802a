"""The `policylang` command line: check, eval, test, fmt, diff, doc, notice, simulate, serve,
log.

Exit codes (the contract): 0 fine, 1 the policy or the input is wrong,
2 usage or I/O error. No user error ever prints a traceback; anything
unexpected prints `internal error: ...` and exits 2.
Must not: hold language logic; it calls the stages and renders results.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from policylang import commands

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policylang",
                     description="Check, evaluate, test and format collection policies.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="parse and check policy files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--no-analysis", action="store_true",
                       help="skip the analyser (assertions, unreachable rules, conflicts)")
    check.set_defaults(run=commands.run_check)

    evaluate = sub.add_parser("eval", help="evaluate a policy on one loan's facts")
    evaluate.add_argument("policy", metavar="POLICY")
    evaluate.add_argument("--facts", required=True, metavar="FILE.json|-")
    evaluate.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    evaluate.add_argument("--explain", action="store_true")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    evaluate.set_defaults(run=commands.run_eval)

    test = sub.add_parser("test", help="run policy test files (*.test.yaml)")
    test.add_argument("paths", nargs="+", metavar="PATH")
    test.set_defaults(run=commands.run_test)

    diff = sub.add_parser("diff", help="compare what two policies decide, not their text")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(run=commands.run_diff)

    fmt = sub.add_parser("fmt", help="rewrite policy files in the canonical layout")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if a file is not formatted")
    fmt.set_defaults(run=commands.run_fmt)

    from engine.notices.command import add_parser as add_notice  # noqa: PLC0415
    from engine.review.command import add_parser as add_doc  # noqa: PLC0415
    from engine.service.command import add_parser as add_serve  # noqa: PLC0415
    from engine.service.log_command import add_parser as add_log  # noqa: PLC0415
    from engine.simulation.command import add_parser as add_simulate  # noqa: PLC0415
    add_doc(sub)
    add_simulate(sub)
    add_serve(sub)
    add_log(sub)
    add_notice(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # the last line of defence: no tracebacks
        sys.stderr.write(f"internal error: {type(error).__name__}: {error}\n")
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
