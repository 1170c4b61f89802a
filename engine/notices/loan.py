"""The loan file of a notice: JSON data read lazily, every field checked when used.

Stage: rendering notices, before the template sees any data.
Input: the parsed JSON object of a loan file (docs/notices.md lists its fields).
Output: a `Record` whose fields a template reads as `loan.borrower.name`; amounts
come out as `Decimal`, dates as `datetime.date`.
`amounts_from_facts` first fills in, or checks, the amounts the facts also hold.
Must not: hand a template a blank. A field that is absent, null or an empty string
raises `MissingField` naming its dotted path; a bad amount or date raises
`BadField`. Both are plain exceptions (not AttributeError or LookupError), so Jinja
lets them through instead of turning them into an undefined value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

# Fields read as money (CNY, exact decimals) wherever they stand in the file.
AMOUNT_FIELDS = frozenset({
    "principal", "outstanding_principal", "overdue_amount", "overdue_principal",
    "overdue_interest", "interest_due", "guaranteed_amount",
})


class MissingField(Exception):
    """A field the notice needs is absent, null or empty in `source`."""

    def __init__(self, source: str, path: str) -> None:
        super().__init__(f'the {source} has no "{path}"')
        self.source, self.path = source, path


class BadField(Exception):
    """A field is present but not of the kind the notice needs."""

    def __init__(self, source: str, path: str, reason: str) -> None:
        super().__init__(f'the {source}\'s "{path}" {reason}')
        self.source, self.path = source, path


class Record:
    """A JSON object seen by a template; `rec.name` and `rec["name"]` are the same."""

    __slots__ = ("_data", "_path", "_source")

    def __init__(self, data: Mapping[str, Any], source: str, path: str = "") -> None:
        self._data, self._source, self._path = data, source, path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Any:
        path = f"{self._path}{name}"
        value = self._data.get(name)
        if _blank(value):
            raise MissingField(self._source, path)
        return _typed(value, name, path, self._source)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not _blank(self._data.get(name))

    def get(self, name: str, default: Any = None) -> Any:
        """The field, or `default` when absent: for parts a notice may leave out."""
        if name not in self:
            return default
        return self[name]


def _blank(value: Any) -> bool:
    """Absent, null, "" or an empty object or list: nothing a notice can show."""
    return value is None or (isinstance(value, str | dict | list) and not value)


def _typed(value: Any, name: str, path: str, source: str) -> Any:
    if isinstance(value, Mapping):
        return Record(value, source, f"{path}.")
    if isinstance(value, list):
        return [_typed(item, name, f"{path}[{index}]", source)
                for index, item in enumerate(value)]
    if name in AMOUNT_FIELDS:
        return read_amount(value, path, source)
    if name.endswith("_date") or name == "as_of":
        return read_date(value, path, source)
    return value


def amounts_from_facts(loan: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The loan file with the amounts the decision was made on: an amount field the
    facts also have (`overdue_amount`, `principal`, ...) is taken from the facts when
    the loan file leaves it out, and must agree with them when it gives it, so a notice
    never states an amount other than the one that called for it (BadField if not)."""
    merged = dict(loan)
    for name in sorted(AMOUNT_FIELDS & facts.keys()):
        if _blank(facts[name]):
            continue
        decided = read_amount(facts[name], name, "facts file")
        if _blank(merged.get(name)):
            merged[name] = decided
        elif (given := read_amount(merged[name], name, "loan file")) != decided:
            raise BadField("loan file", name,
                           f"is {given}, but the facts file gives {decided}: a notice must "
                           "state the amount the decision was made on")
    return merged


def read_amount(value: Any, path: str, source: str) -> Decimal:
    """An amount in yuan: a decimal string or an integer, never a float, never negative."""
    if isinstance(value, bool | float):
        raise BadField(source, path, f'is {value!r}: write amounts as strings, e.g. "1062.67"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BadField(source, path, f"is {value!r}, not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise BadField(source, path, f"is {value!r}, not an amount of 0 or more")
    return amount


def read_date(value: Any, path: str, source: str) -> date:
    """A date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadField(source, path, f"is {value!r}, not a date (YYYY-MM-DD)") from None
