"""Render notices: a notice template and a loan file in, the letter's text out.

Stage: after the decision, for each `notify TARGET using TEMPLATE` it calls for.
Input: the folder of templates (`policies/notices/<template>.j2`, each extending
`_layout.html.j2` or `_layout.txt.j2` by the format), the loan file and facts as
`Record`s. Output: the notice's text, or a `NoticeError` naming the notice and the
field or template line at fault.
Must not: leave a blank where data is missing (StrictUndefined, and `Record`
raises on a missing field); let a loan value inject markup (HTML is autoescaped);
pass template text to eval/exec (Jinja compiles templates itself, nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from engine.notices.loan import BadField, MissingField, Record

FORMATS = ("html", "txt")
# The repository's own templates, used when no folder is named and none stands
# beside the policy.
BUNDLED = Path(__file__).resolve().parents[2] / "policies" / "notices"


class NoticeError(Exception):
    """A notice cannot be rendered; the message names the notice and what is wrong."""


def make_environment(folder: Path, fmt: str) -> jinja2.Environment:
    """A Jinja2 environment over `folder` for one output format (html escapes values).
    Each template is read once per environment: a run renders with the templates it
    started with, and a simulation does not look at the files again for every notice."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        autoescape=fmt == "html",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(daxie=filter_daxie, money=filter_money, cndate=filter_cndate)
    env.globals["format"] = fmt
    return env


def available_templates(folder: Path) -> set[str]:
    """The notice names the folder has a template for (`_`-files are shared parts)."""
    if not folder.is_dir():
        return set()
    return {path.name.removesuffix(".j2") for path in folder.glob("*.j2")
            if not path.name.startswith("_")}


def render_notice(env: jinja2.Environment, template: str, *, target: str,
                  loan: Mapping[str, Any], facts: Mapping[str, Any],
                  loan_source: str = "loan file", facts_source: str = "facts file") -> str:
    """The text of notice `template` addressed to `target`; NoticeError if it cannot be.
    The sources name where the loan data and the facts came from, in the error."""
    context = {
        "notice": {"template": template, "target": target},
        "loan": Record(loan, loan_source),
        "facts": Record(facts, facts_source),
    }
    try:
        return env.get_template(f"{template}.j2").render(context)
    except (MissingField, BadField) as error:
        raise NoticeError(f"{template}: {error}") from None
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name}:{error.lineno}"
        raise NoticeError(f"{where}: template error: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        raise NoticeError(f"{template}: no template file {error.name} in {_folder(env)}") \
            from None
    except jinja2.UndefinedError as error:
        raise NoticeError(f"{template}: the template uses something nobody supplies "
                          f"({error.message})") from None
    except ValueError as error:  # an amount the 大写 writer refuses, a bad date format
        raise NoticeError(f"{template}: {error}") from None


def _folder(env: jinja2.Environment) -> str:
    loader = env.loader
    return str(loader.searchpath[0]) if isinstance(loader, jinja2.FileSystemLoader) else "?"


def filter_daxie(amount: Decimal | int | str) -> str:
    """`{{ x|daxie }}`: the amount in Chinese uppercase financial numerals."""
    from engine.notices.amounts import to_uppercase_cny  # noqa: PLC0415 (another module's job)

    return to_uppercase_cny(amount)


def filter_money(amount: Decimal | int | str) -> str:
    """`{{ x|money }}`: figures with thousands separators and two decimals, 11,062.67."""
    if isinstance(amount, float):
        raise ValueError(f"the amount {amount!r} is a float; amounts must be exact")
    return f"{Decimal(str(amount)):,.2f}"


def filter_cndate(day: date) -> str:
    """`{{ d|cndate }}`: 2026年11月29日."""
    if not isinstance(day, date):
        raise ValueError(f"{day!r} is not a date")
    return f"{day.year}年{day.month}月{day.day}日"
