"""Witness: a z3 model as a complete facts object, and its compact wording.

Input: a model and one copy of the fact variables. Output: a facts mapping
with a value for every schema fact, in the engine's input form (ints, bools,
enum names, decimal strings), and the short text `check` shows: the facts
that matter, then "others at their defaults".
Must not: produce a value outside a fact's domain or a float.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

from policylang.analysis.encode import Facts
from policylang.schema_model import FactDef, FactType, Schema


def facts_of(model: Any, facts: Facts, schema: Schema) -> dict[str, Any]:
    """Every fact's value in `model`, in schema order."""
    names = {ident: name for name, ident in facts.enum_ids.items()}
    return {fact.name: _value(model.eval(facts[fact.name], model_completion=True), fact, names)
            for fact in schema.facts.values()}


def _value(value: Any, fact: FactDef, names: Mapping[int, str]) -> Any:
    match fact.type:
        case FactType.BOOL:
            return z3.is_true(value)
        case FactType.INT | FactType.DAYS:
            return value.as_long()
        case FactType.ENUM:
            return names[value.as_long()]
        case FactType.STRING:
            return value.as_string()
    fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
    return str(decimal_of(fraction))


def decimal_of(fraction: Fraction) -> Decimal:
    """The exact decimal of a fraction whose denominator divides a power of ten."""
    places = 0
    while (fraction * 10 ** places).denominator != 1:
        places += 1
    scaled = fraction * 10 ** places
    return Decimal(scaled.numerator).scaleb(-places)


def compact(witness: Mapping[str, Any], schema: Schema, matter: Iterable[str]) -> str:
    """`overdue=95, has_guarantor=true, …; others at their defaults`."""
    important = set(matter)
    shown = []
    hidden = 0
    for fact in schema.facts.values():
        value = witness[fact.name]
        at_default = fact.has_default and _same(value, fact.default)
        if fact.name in important or not at_default:
            shown.append(f"{fact.name}={_show(value)}")
        else:
            hidden += 1
    text = ", ".join(shown)
    if not hidden:
        return text
    return f"{text}; others at their defaults" if text else "others at their defaults"


def _same(value: Any, default: Any) -> bool:
    if isinstance(default, Decimal):
        return Decimal(value) == default
    return value == default


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (value == "" or " " in value):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
