"""Diagnostics: the registry of stable codes and the `Diagnostic` record.

Every stage returns diagnostics instead of raising on user error. Codes are
grouped by the contract's kinds: E1xx syntax, E2xx type, E3xx name, E4xx
schema, E5xx duplicate, E6xx/W6xx analysis. A code never changes meaning;
retired codes are not reused. Must not: format text (see render.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from policylang.source import NO_SPAN, Span


class Kind(enum.Enum):
    """The contract's diagnostic kinds."""

    SYNTAX = "syntax"
    NAME = "name"
    TYPE = "type"
    SCHEMA = "schema"
    DUPLICATE = "duplicate"
    UNSATISFIABLE = "unsatisfiable"
    SHADOWED = "shadowed"
    CONFLICT = "conflict"
    REQUIRES = "requires"
    ASSERT = "assert"
    REDUNDANT = "redundant"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen(slots=True)
class Code:
    """A registered diagnostic code with its kind, severity and one-line title."""

    code: str
    kind: Kind
    severity: Severity
    title: str


def _codes(*rows: tuple[str, Kind, str]) -> dict[str, Code]:
    table: dict[str, Code] = {}
    for code, kind, title in rows:
        severity = Severity.WARNING if code.startswith("W") else Severity.ERROR
        table[code] = Code(code, kind, severity, title)
    return table


S, N, T, SC, D = Kind.SYNTAX, Kind.NAME, Kind.TYPE, Kind.SCHEMA, Kind.DUPLICATE
U, SH, C, R, A, RD = (Kind.UNSATISFIABLE, Kind.SHADOWED, Kind.CONFLICT, Kind.REQUIRES,
                      Kind.ASSERT, Kind.REDUNDANT)

CODES: Mapping[str, Code] = _codes(
    # syntax
    ("E101", S, "unexpected text: the statement does not follow the grammar"),
    ("E102", S, "a character that cannot start anything here"),
    ("E103", S, "a string is not closed on its line"),
    ("E104", S, "the file does not start with `policy NAME` and `schema \"PATH\"`"),
    ("E105", S, "the statement ends too early"),
    ("E106", S, "an indented line that continues nothing"),
    ("E107", S, "an unknown unit after a number"),
    ("E108", S, "a header line in the wrong place or given twice"),
    ("W109", S, "an assertion not proved because the analysis was skipped"),
    ("E110", S, "a keyword of the language used as a name"),
    ("E111", S, "a number or sign where the grammar needs something else"),
    # E112 is retired (see RETIRED)
    ("E113", S, "a guard file without a version"),
    ("E114", S, "something a guard file cannot hold"),
    ("E115", S, "a guard file that cannot be read"),
    ("E116", S, "a file named in `guards` that is not a guard file"),
    # type
    ("E201", T, "the two sides of a comparison have different types"),
    ("E202", T, "a duration compared with a bare number"),
    ("E203", T, "arithmetic between values whose units do not combine"),
    ("E204", T, "money in two different currencies"),
    ("E205", T, "a condition that is not true/false"),
    ("E206", T, "a value that is not one of the enum's values"),
    ("E207", T, "an ordering comparison on values that have no order"),
    ("E208", T, "a duration that is not a whole number of days"),
    ("E209", T, "a parameter override of the wrong type"),
    ("E210", T, "a currency the schema does not use"),
    # name
    ("E301", N, "an unknown fact, let or param"),
    ("E302", N, "an unknown action verb"),
    ("E303", N, "a target the verb does not allow"),
    ("E304", N, "a template the verb does not allow"),
    ("E305", N, "a let that refers to itself"),
    ("E306", N, "an unknown parameter in an override"),
    ("E307", N, "an override of a guard's param"),
    # schema
    ("E401", SC, "the schema file cannot be read"),
    ("E402", SC, "the schema file is not valid YAML"),
    ("E403", SC, "an unknown fact type"),
    ("E404", SC, "bad bounds: min/max are not numbers of the fact's type or min > max"),
    ("E405", SC, "an enum without values"),
    ("E406", SC, "`requires` names something that is not a bool fact"),
    ("E407", SC, "a malformed `exclusive` pair"),
    ("E408", SC, "a missing or unknown key in a schema entry"),
    ("E409", SC, "a default outside the fact's type or domain"),
    ("E410", SC, "a malformed action in the catalogue"),
    ("E411", SC, "the schema's top level is malformed"),
    ("E412", SC, "a guard uses a fact or action the policy's schema lacks or defines otherwise"),
    # duplicate
    ("E501", D, "two rules with the same name"),
    ("E502", D, "a param or let whose name is already taken"),
    ("E503", D, "a name declared twice in the schema"),
    ("W504", D, "the same action twice in one rule"),
    ("E505", D, "a guard listed twice, or two guards with the same name"),
    # analysis
    ("E601", U, "a rule that can never match"),
    ("E602", SH, "a rule that never fires: an earlier final rule always matches first"),
    ("E603", C, "two actions that must never go together are produced together"),
    ("E604", R, "an action produced while the fact it requires is false"),
    ("E605", A, "an assertion that does not hold"),
    ("W606", RD, "a rule that adds nothing the other rules do not already produce"),
    ("W607", A, "a question the analyser could not decide"),
)

# Codes that no longer exist; never reused for anything else.
RETIRED: Mapping[str, str] = {
    "E112": "guards, which an earlier version could not apply (guards are applied now)",
}


@attrs.frozen(slots=True)
class Label:
    """A secondary place a diagnostic points at (`first defined here`)."""

    span: Span
    message: str


@attrs.frozen(slots=True)
class Diagnostic:
    """One finding: what is wrong, where, and what to do about it."""

    code: str
    kind: Kind
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    witness: Mapping[str, Any] | None = None
    labels: tuple[Label, ...] = ()
    file: str | None = None
    witness_text: str | None = None     # the compact wording of the witness, for text output

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def diagnostic(code: str, span: Span | None, message: str, hint: str | None = None, *,
               witness: Mapping[str, Any] | None = None,
               labels: Iterable[Label] = (), file: str | None = None,
               witness_text: str | None = None) -> Diagnostic:
    """Build a diagnostic from a registered code; the kind and severity come from the registry."""
    entry = CODES[code]
    return Diagnostic(entry.code, entry.kind, entry.severity, span or NO_SPAN, message,
                      hint, witness, tuple(labels), file, witness_text)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[int, int, str]:
    """Diagnostics are reported in source order, then by code."""
    return (d.span.start, d.span.end, d.code)
