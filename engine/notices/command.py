"""`policylang notice`: evaluate a policy on one loan, render the notices it calls for.

Stage: the command line, after the decision. Input: a policy, a facts file, a loan
file, optionally a template folder (--templates; the bundled policies/notices/
when left out) and an output folder. Output: the notices' text
on standard output (txt unless --format says html), or one file per notice in
--out, each written path said on standard output.
Exit codes as for every command: 0 done (also when the decision calls for no
notice), 1 the policy, the facts or the loan data are wrong (a notice cannot be
rendered: the message names the notice and the field; nothing is written), 2 usage
or I/O error. Must not: write some notices and then fail on another: every notice
is rendered before any file is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.notices.render import BUNDLED, FORMATS

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    """The `notice` subcommand's arguments."""
    notice = sub.add_parser("notice", help="render the written notices a decision calls for")
    notice.add_argument("policy", metavar="POLICY")
    notice.add_argument("--facts", required=True, metavar="FILE.json|-")
    notice.add_argument("--loan", required=True, metavar="LOAN.json",
                        help="the loan's parties, contract, dates and amounts "
                             "(docs/notices.md)")
    notice.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    notice.add_argument("--out", metavar="DIR", help="write one file per notice here")
    notice.add_argument("--format", choices=FORMATS, default=None,
                        help="txt (default on standard output) or html (default with --out)")
    notice.add_argument("--templates", metavar="DIR",
                        help="the folder of notice templates (default: the bundled "
                             "policies/notices/)")
    notice.set_defaults(run=run_notice)


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def run_notice(args: argparse.Namespace) -> int:
    from engine.notices.render import (  # noqa: PLC0415 (Jinja2 only when rendering)
        NoticeError,
        available_templates,
        make_environment,
        render_notice,
    )

    folder = _template_folder(args)
    if not folder.is_dir():
        _err(f"{folder}: no such template folder")
        return EXIT_USAGE
    inputs = _read_inputs(args)
    if isinstance(inputs, int):
        return inputs
    decision, facts, loan = inputs
    fmt = args.format or ("html" if args.out else "txt")
    env = make_environment(folder, fmt)
    known = available_templates(folder)
    wanted = [(a.target, a.using) for a in decision.actions
              if a.verb == "notify" and a.using is not None]
    rendered: list[tuple[str, str]] = []
    errors = 0
    for target, template in wanted:
        if template not in known:
            _err(f"notify {target} using {template}: no notice template {template}.j2 in "
                 f"{folder}; not rendered")
            continue
        try:
            text = render_notice(env, template, target=target, loan=loan, facts=facts)
        except NoticeError as error:
            _err(f"{args.loan}: {error}")
            errors += 1
            continue
        rendered.append((_file_name(template, target, wanted, fmt), text))
    if errors:
        count = "1 notice" if errors == 1 else f"{errors} notices"
        _err(f"{args.loan}: {count} cannot be rendered; nothing was written")
        return EXIT_INVALID
    if not wanted:
        _err(f"{args.policy}: the decision calls for no notice")
    return _emit(rendered, args.out)


def _template_folder(args: argparse.Namespace) -> Path:
    return Path(args.templates) if args.templates else BUNDLED


def _read_inputs(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any]] | int:
    """(decision, facts, loan), or the exit code after saying what is wrong."""
    from engine.api import compile_checked  # noqa: PLC0415
    from engine.facts import FactsError  # noqa: PLC0415
    from engine.notices.data import resolve_relative_dates  # noqa: PLC0415
    from engine.notices.loan import BadField, amounts_from_facts, read_date  # noqa: PLC0415
    from engine.params import ParamError  # noqa: PLC0415
    from policylang.commands import load_checked, parse_params  # noqa: PLC0415
    from policylang.inputs import InputError  # noqa: PLC0415

    checked = load_checked(args.policy, "no notice was rendered")
    if isinstance(checked, int):
        return checked
    facts = _read_json(args.facts, "facts")
    loan = _read_json(args.loan, "loan")
    if isinstance(facts, int) or isinstance(loan, int):
        return max(c for c in (facts, loan) if isinstance(c, int))
    try:
        decision = compile_checked(checked).evaluate(
            facts, params=parse_params(args.param))
    except FactsError as error:
        _err(f"{_name(args.facts)}: {error}")
        return EXIT_INVALID
    except (ParamError, InputError, ValueError) as error:
        for line in str(error).splitlines():
            _err(f"--param: {line}")
        return EXIT_INVALID
    try:
        loan = amounts_from_facts(loan, facts)
        issued = loan.get("issue_date")
        if isinstance(issued, str):
            loan = resolve_relative_dates(loan, read_date(issued, "issue_date", "loan file"))
    except BadField as error:
        _err(f"{args.loan}: {error}; no notice was rendered")
        return EXIT_INVALID
    return decision, facts, loan


_EXPECTED = {"facts": 'a JSON object of facts such as {"overdue": 7}',
             "loan": "a JSON object of the loan's fields (docs/notices.md)"}


def _read_json(path: str, what: str) -> dict[str, Any] | int:
    from policylang.inputs import InputError, parse_json_object, read_text  # noqa: PLC0415

    try:
        return parse_json_object(read_text(path), _name(path), _EXPECTED[what])
    except OSError as error:
        _err(f"{path}: cannot read the {what} file: {_reason(error)}")
        return EXIT_USAGE
    except UnicodeDecodeError as error:
        _err(f"{_name(path)}: not UTF-8 text (byte {error.start} cannot be read)")
        return EXIT_INVALID
    except InputError as error:
        _err(str(error))
        return EXIT_INVALID


def _file_name(template: str, target: str, wanted: list[tuple[str, str]], fmt: str) -> str:
    """`<template>.<fmt>`; `<template>-<target>.<fmt>` when two targets share a template."""
    shared = sum(1 for _, t in wanted if t == template) > 1
    return f"{template}-{target}.{fmt}" if shared else f"{template}.{fmt}"


def _emit(rendered: list[tuple[str, str]], out: str | None) -> int:
    if out is None:
        for index, (_, text) in enumerate(rendered):
            if index:
                sys.stdout.write("\n\f\n")  # a form feed between notices: one per page
            sys.stdout.write(text)
        return EXIT_OK
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in rendered:
            (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {folder / name}")
    except OSError as error:
        _err(f"{out}: cannot write the notices: {_reason(error)}")
        return EXIT_USAGE
    return EXIT_OK


def _name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error)
