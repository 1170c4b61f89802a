"""The notice data of a portfolio: who the parties are, per loan, for a simulation's notices.

Stage: `policylang simulate --notices`, before the replay (the file is read and
checked once) and for each notice (its loan's record is assembled). Input: a JSON
file `{"defaults": {...}, "loans": {"LOAN_ID": {...}}}` whose objects have the loan
file's fields (docs/notices.md). Output: per notice, one loan-file object: the
defaults, overlaid by the loan's entry, overlaid by the account of the day
(statement.py), with dates written relative to the notice resolved.
Must not: guess a party: a loan with no entry gets the defaults only, and a notice
that needs more fails naming the field. Nor reuse a notice number: `notice_numbers`
fixes one number per template, which a replay sending the same notice twice would
repeat, so it is refused here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs

# A date written relative to the notice's date: "+15 days" (a reply deadline).
_RELATIVE = re.compile(r"\+\s*(\d{1,4})\s*days?")


class NoticeDataError(Exception):
    """The notice data file cannot be used; the message names the file and the place."""


@attrs.frozen(slots=True)
class NoticeData:
    """The parsed file: fields every loan shares, and each loan's own."""

    defaults: Mapping[str, Any] = attrs.field(factory=dict)
    loans: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)

    def record(self, loan_id: str, account: Mapping[str, Any]) -> dict[str, Any]:
        """The loan-file object of one notice: defaults, then the loan's entry, then
        `account` (the day's amounts and dates, which no file can override)."""
        merged = overlay(overlay(self.defaults, self.loans.get(loan_id, {})), account)
        issued = merged.get("issue_date")
        return resolve_relative_dates(merged, issued) if isinstance(issued, date) else merged


def load_notice_data(path: Path) -> NoticeData:
    """Read and check the file; NoticeDataError says what is wrong and where."""
    from policylang.inputs import InputError, parse_json_object  # noqa: PLC0415

    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NoticeDataError(f"{name}: cannot read the notice data: "
                              f"{(error.strerror or str(error)).lower()}") from None
    except UnicodeDecodeError as error:
        raise NoticeDataError(f"{name}: not UTF-8 text (byte {error.start} cannot be read)"
                              ) from None
    try:
        data = parse_json_object(text, name, 'a JSON object {"defaults": {...}, '
                                 '"loans": {"LOAN_ID": {...}}}')
    except InputError as error:
        raise NoticeDataError(str(error)) from None
    unknown = sorted(set(data) - {"defaults", "loans"})
    if unknown:
        raise NoticeDataError(f'{name}: unknown key "{unknown[0]}"; the file has '
                              '"defaults" and "loans"')
    defaults = _object(data.get("defaults", {}), f'{name}: "defaults"')
    loans = _object(data.get("loans", {}), f'{name}: "loans"')
    entries = [('"defaults"', defaults), *((f'loan "{k}"', v) for k, v in loans.items())]
    for where, entry in entries:
        if "notice_numbers" in _object(entry, f"{name}: {where}"):
            raise NoticeDataError(
                f'{name}: {where} has "notice_numbers"; a simulation numbers each notice '
                "itself (PREFIX-CODE-DATE-CONTRACT), since a fixed number would repeat")
    return NoticeData(defaults, loans)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NoticeDataError(f"{where} is {_kind(value)}, not an object {{...}}")
    return value


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


def overlay(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `top`'s fields over it; objects present in both are overlaid
    field by field (a loan's `branch.phone` keeps the defaults' `branch.name`)."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = overlay(below, value)
        else:
            merged[key] = value
    return merged


def resolve_relative_dates(data: Mapping[str, Any], issued: date) -> dict[str, Any]:
    """`data` with every date field (`*_date`) written "+N days" replaced by the
    date N days after `issued`, at any depth."""
    return {key: _resolved(key, value, issued) for key, value in data.items()}


def _resolved(key: str, value: Any, issued: date) -> Any:
    if isinstance(value, Mapping):
        return resolve_relative_dates(value, issued)
    if key.endswith("_date") and isinstance(value, str):
        match = _RELATIVE.fullmatch(value.strip())
        if match is not None:
            return (issued + timedelta(days=int(match.group(1)))).isoformat()
    return value
