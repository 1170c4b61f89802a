"""`policylang simulate`: read the history, replay, compare, write the outputs.

Exit codes as for every command: 0 done, 1 the policy, the params or the input data
are wrong (nothing is simulated, nothing is written), 2 usage or I/O error. Problems
in the data are listed with file, line and reason; `--on-error skip` sets the loans
concerned aside and says how many.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.notices.render import FORMATS as NOTICE_FORMATS
from engine.simulation.options import ENGINES, FORMATS

if TYPE_CHECKING:
    from engine.api import CompiledPolicy
    from engine.simulation.history import HistoryRead

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
NOTICE_DATA = "notice_data.json"        # the parties of each loan, beside loans.csv


def add_parser(sub: Any) -> None:
    """The `simulate` subcommand's arguments (the contract's, plus engine and errors)."""
    simulate = sub.add_parser("simulate", help="replay a policy over historic loans, day by day")
    simulate.add_argument("policy", metavar="POLICY")
    simulate.add_argument("--data", metavar="DIR",
                          help="loans.csv, installments.csv, payments.csv, events.csv "
                               "(or .parquet); the bundled example when left out")
    simulate.add_argument("--from", dest="start", metavar="DATE", type=_iso_date,
                          help="first day reported (YYYY-MM-DD)")
    simulate.add_argument("--to", dest="end", metavar="DATE", type=_iso_date,
                          help="last day replayed (YYYY-MM-DD); the input's last date if left out")
    simulate.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    simulate.add_argument("--against", metavar="OTHER_POLICY",
                          help="the policy in force, to compare with")
    simulate.add_argument("--out", metavar="DIR", help="where to write the outputs")
    simulate.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                          help="bad input rows: stop before simulating (default) or set "
                               "their loans aside")
    simulate.add_argument("--format", dest="output_format", choices=FORMATS, default="csv",
                          help="actions.csv (default) or actions.parquet")
    simulate.add_argument("--compliance", metavar="FILE",
                          help="compliance checks (YAML) the report judges the replay "
                               "against; see docs/simulation.md")
    simulate.add_argument("--deadline-margin", dest="deadline_margin", metavar="DAYS",
                          type=_days, default=90,
                          help="the report lists deadlines ending within this many days "
                               "(default 90days)")
    simulate.add_argument("--notices", metavar="DIR",
                          help="also write the notices the replay sends, one file each "
                               "(docs/simulation.md)")
    simulate.add_argument("--notice-data", dest="notice_data", metavar="FILE.json",
                          help="the parties of each loan, for --notices (default: "
                               "notice_data.json in the --data folder)")
    simulate.add_argument("--notice-format", dest="notice_format", choices=NOTICE_FORMATS,
                          help="html (default) or txt, for --notices")
    simulate.add_argument("--templates", metavar="DIR",
                          help="the notice templates, for --notices (default: the bundled "
                               "policies/notices/)")
    simulate.add_argument("--engine", choices=ENGINES, default="columnar",
                          help="columnar (default), row, or spark (needs policylang[spark])")
    simulate.set_defaults(run=run_simulate)


def _days(text: str) -> int:
    """`90days`, `90 days`, `1 day` or `90`: a whole number of days, 0 or more."""
    match = re.fullmatch(r"\s*(\d+)\s*(days?)?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days such as 90days")
    return int(match.group(1))


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def example_data() -> Path:
    """The bundled example history (package data)."""
    return Path(str(resources.files("engine.simulation") / "example"))


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _policy(path: str) -> CompiledPolicy | int:
    from engine.api import compile_checked  # noqa: PLC0415
    from policylang.commands import load_checked  # noqa: PLC0415

    checked = load_checked(path, "nothing was simulated")
    return checked if isinstance(checked, int) else compile_checked(checked)


def run_simulate(args: argparse.Namespace) -> int:
    from engine.facts import FactsError  # noqa: PLC0415 (heavy: only for this command)
    from engine.params import ParamError  # noqa: PLC0415
    from engine.simulation.history import read_history  # noqa: PLC0415
    from policylang.commands import parse_params  # noqa: PLC0415
    from policylang.inputs import InputError  # noqa: PLC0415

    policy = _policy(args.policy)
    if isinstance(policy, int):
        return policy
    against = _policy(args.against) if args.against else None
    if isinstance(against, int):
        return against
    try:
        params = parse_params(args.param)
        policy.binder.bind(params)
    except InputError as error:
        _err(str(error))
        return EXIT_INVALID
    except ParamError as error:
        _say_param_error(error)
        return EXIT_INVALID
    misused = _misused_options(args)
    if misused:
        _err(f"{misused}; nothing was simulated")
        return EXIT_USAGE
    data = Path(args.data) if args.data else example_data()
    if not data.is_dir():
        _err(f"{data}: no such folder; --data names a folder holding loans.csv, "
             "installments.csv and optionally payments.csv and events.csv")
        return EXIT_USAGE
    read = read_history(data, policy.schema, on_error=args.on_error)
    if not _report_reading(read, data, args.on_error):
        return EXIT_INVALID
    compliance = _compliance(args, policy)
    if isinstance(compliance, int):
        return compliance
    run = _Run(args, policy, against=against, params=params, read=read, data=data,
               compliance=compliance)
    try:
        if args.notices:
            notices = _notices_writer(args, policy, read, data, params)
            if isinstance(notices, int):
                return notices
            run.notices = notices
        return run.replay()
    except ParamError as error:
        _say_param_error(error)
    except FactsError as error:
        _err(f"{data}: the replayed facts do not fit the policy's schema: {error}")
    except ImportError as error:
        _err(f"--engine {args.engine}: {error}")
        return EXIT_USAGE
    except OSError as error:
        _err(f"{args.out}: cannot write the outputs: {error.strerror or error}")
        return EXIT_USAGE
    finally:
        run.discard()
    return EXIT_INVALID


class _Run:
    """One replay: chunks of loans through the engine, each written and counted, then
    forgotten; the files are renamed into place only when everything succeeded."""

    def __init__(self, args: argparse.Namespace, policy: CompiledPolicy, *,
                 against: CompiledPolicy | None, params: dict[str, str], read: HistoryRead,
                 data: Path, compliance: Any) -> None:
        self.args, self.policy, self.against, self.params = args, policy, against, params
        self.read, self.data, self.compliance = read, data, compliance
        self.writers: list[Any] = []
        self.notices: Any = None            # a NoticesWriter with --notices

    def replay(self) -> int:
        from engine.simulation.engines import replay_in_chunks  # noqa: PLC0415
        from engine.simulation.figures import Figures  # noqa: PLC0415
        from engine.simulation.replay import Window  # noqa: PLC0415
        from engine.simulation.report import render_report  # noqa: PLC0415
        from engine.simulation.writers import (  # noqa: PLC0415
            ActionsWriter,
            DifferencesWriter,
            summary_text,
            write_text,
        )

        args, portfolio = self.args, self.read.portfolio
        window = Window(args.start, args.end)
        end = window.resolved_end(portfolio)
        figures = Figures(self.policy, engine=args.engine, window_start=args.start, end=end,
                          params=self.params, skipped=self.read.skipped_loans,
                          compliance=self.compliance, against_policy=self.against,
                          loans={loan.loan_id: loan for loan in portfolio},
                          deadline_margin=args.deadline_margin)
        out = Path(args.out) if args.out else None
        actions = differences = None
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            actions = ActionsWriter(out, args.output_format)
            self.writers.append(actions)
            if self.against is not None:
                differences = DifferencesWriter(out)
                self.writers.append(differences)
        chunks = replay_in_chunks(args.engine, self.policy, portfolio, window, self.params,
                                  data=str(self.data))
        others = (replay_in_chunks(args.engine, self.against, portfolio, window,
                                   data=str(self.data)) if self.against is not None else None)
        with _progress(len(portfolio)) as bar:
            for chunk in chunks:
                other = next(others) if others is not None else None
                figures.add(chunk, other)
                if actions is not None:
                    actions.add(chunk)
                if other is not None and differences is not None:
                    differences.add(other, chunk)
                if self.notices is not None:
                    self.notices.add(chunk)
                bar.update(chunk.loans)
        if self.notices is not None and not self._notices_fit():
            return EXIT_INVALID
        summary_json = figures.summary()
        self._print(summary_json)
        if self.notices is not None:
            notices, self.notices = self.notices, None
            folder = notices.commit(with_failures=True)
            print(f"wrote {_plural(notices.written, 'notice')} to {folder} "
                  f"(index: {folder / 'notices.csv'})")
        if out is not None:
            written = [writer.commit() for writer in self.writers]
            self.writers = []
            written.insert(1, write_text(out / "summary.json", summary_text(summary_json)))
            written.append(write_text(out / "report.html", render_report(figures)))
            print("wrote " + ", ".join(str(path) for path in written))
            print(f"report: {out / 'report.html'}")
        return EXIT_OK

    def _print(self, figures: Mapping[str, Any]) -> None:
        print(f"{figures['policy']['name']} {figures['policy']['version'] or ''}: "
              f"{figures['loans']} loans, {figures['loan_days']} loan-days, "
              f"{figures['actions']} actions ({figures['engine']} engine)")
        if "against" in figures:
            print(f"against {figures['against']['policy']['name']}: "
                  f"{figures['against']['loan_days_differing']} loan-days differ on "
                  f"{figures['against']['loans_differing']} loans")

    def _notices_fit(self) -> bool:
        """Say what notices could not be rendered; False when that stops the run
        (--on-error stop: then nothing at all is written)."""
        from engine.simulation.notices import NOT_RENDERED  # noqa: PLC0415

        notices = self.notices
        for line in notices.report():
            _err(line)
        if not notices.failures:
            return True
        count = _plural(len(notices.failures), "notice")
        if self.args.on_error == "stop":
            _err(f"{count} cannot be rendered; nothing was written (--on-error skip writes "
                 f"the others and lists these in {NOT_RENDERED})")
            return False
        _err(f"{count} cannot be rendered; they are listed in "
             f"{Path(self.args.notices) / NOT_RENDERED}")
        return True

    def discard(self) -> None:
        """Remove what an unfinished run had started writing."""
        for writer in self.writers:
            writer.discard()
        self.writers = []
        if self.notices is not None:
            self.notices.discard()
            self.notices = None


def _compliance(args: argparse.Namespace, policy: CompiledPolicy) -> Any:
    """The --compliance checks (None without), or the exit code after saying why the
    file cannot be used."""
    if not args.compliance:
        return None
    from engine.simulation.compliance import ComplianceError, load_compliance  # noqa: PLC0415
    try:
        return load_compliance(args.compliance, policy.schema.actions)
    except ComplianceError as error:
        for line in error.problems:
            _err(line)
        _err(f"{args.compliance}: nothing was simulated")
        return EXIT_INVALID


def _misused_options(args: argparse.Namespace) -> str | None:
    """What is wrong with the options taken together, if anything (a usage error)."""
    if args.start and args.end and args.start > args.end:
        return f"--from {args.start} is after --to {args.end}"
    stray = [option for option, value in (("--notice-data", args.notice_data),
                                          ("--notice-format", args.notice_format),
                                          ("--templates", args.templates)) if value]
    if stray and not args.notices:
        return f"{stray[0]} is for the notices of --notices DIR, which is not given"
    return None


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _notices_writer(args: argparse.Namespace, policy: CompiledPolicy, read: HistoryRead,
                    data: Path, params: Mapping[str, Any]) -> Any:
    """The writer of --notices, or the exit code after saying why there cannot be one:
    all of it is checked before anything is replayed."""
    from engine.notices.data import NoticeDataError, load_notice_data  # noqa: PLC0415
    from engine.notices.render import BUNDLED  # noqa: PLC0415
    from engine.simulation.notices import NoticesFolderError, NoticesWriter  # noqa: PLC0415

    templates = Path(args.templates) if args.templates else BUNDLED
    if not templates.is_dir():
        _err(f"{templates}: no such template folder; nothing was simulated")
        return EXIT_USAGE
    source = Path(args.notice_data) if args.notice_data else data / NOTICE_DATA
    if not args.notice_data and not source.is_file():
        _err(f"{data}: no {NOTICE_DATA} for --notices (the parties of each loan: "
             "docs/simulation.md); give one with --notice-data FILE.json")
        return EXIT_USAGE
    try:
        notice_data = load_notice_data(source)
        return NoticesWriter(Path(args.notices), policy=policy,
                             loans={loan.loan_id: loan for loan in read.portfolio},
                             params=params, templates=templates, fmt=args.notice_format or "html",
                             data=notice_data)
    except NoticeDataError as error:
        _err(f"{error}; nothing was simulated")
        return EXIT_INVALID
    except NoticesFolderError as error:
        _err(f"--notices {error}; nothing was simulated")
        return EXIT_USAGE


def _progress(total: int) -> Any:
    """A progress bar on stderr for long runs; silent when stderr is not a terminal."""
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(total=total, unit="loan", file=sys.stderr, leave=False,
                disable=not sys.stderr.isatty(), mininterval=0.5)


def _say_param_error(error: Exception) -> None:
    for line in str(error).splitlines():
        _err(f"--param: {line}")


def _report_reading(read: HistoryRead, data: Path, on_error: str) -> bool:
    """Print the input's problems; False when the run must stop."""
    for line in read.report():
        _err(line)
    if not read.can_simulate:
        _err(f"{data}: the input has problems; nothing was simulated "
             "(--on-error skip sets the loans concerned aside)"
             if on_error == "stop" else f"{data}: the input cannot be read; nothing was simulated")
        return False
    if read.skipped_loans:
        count = len(read.skipped_loans)
        _err(f"{count} loan{'s' * (count != 1)} set aside for bad input; "
             f"{len(read.portfolio)} replayed")
    return True
