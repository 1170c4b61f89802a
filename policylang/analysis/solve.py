"""Solve: ask z3 one question, and say only what it answered.

Input: the facts' domain and a formula that describes a failure (or a
match). Output: `Found(model)` (the formula can be made true: a
counterexample, a witness), `Impossible` (it never holds: a proof), or
`Undecided(reason)` (a time-out, non-linear arithmetic z3 gave up on).
Models prefer facts at their schema defaults and exact decimals, so the
witnesses read well and are valid engine input.
Must not: turn an unknown into a proof or a counterexample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import z3

from policylang.analysis.encode import Facts, fact_value
from policylang.schema_model import FactDef, FactType, Schema

TIMEOUT_MS = 10_000
DEFAULT_ROUNDS = 8           # unsat-core rounds spent keeping facts at their defaults
DECIMAL_PLACES = (2, 4, 6, 9)


@attrs.frozen(slots=True)
class Found:
    model: Any


@attrs.frozen(slots=True)
class Impossible:
    pass


@attrs.frozen(slots=True)
class Undecided:
    reason: str


Outcome = Found | Impossible | Undecided


class Solver:
    """One z3 solver per question set, with the domain of every copy of the facts."""

    def __init__(self, schema: Schema, copies: Sequence[Facts], timeout_ms: int = TIMEOUT_MS):
        self.schema = schema
        self.copies = copies
        self.timeout_ms = timeout_ms
        self._solver = z3.Solver(ctx=copies[0].ctx)   # domains stay; each question is pushed
        self._solver.set("timeout", timeout_ms)
        for copy in copies:
            self._solver.add(copy.domain)

    def find(self, formula: Any, *, witness: bool = False) -> Outcome:
        """Whether `formula` can hold inside the domains; with `witness`, a model that
        keeps facts at their defaults where it can and whose decimals are finite."""
        solver = self._solver
        solver.push()
        try:
            solver.add(formula)
            answer = solver.check()
            if answer == z3.unsat:
                return Impossible()
            if answer == z3.unknown:
                return Undecided(_reason(solver))
            if not witness:
                return Found(None)
            _keep_defaults(solver, self.schema, self.copies)
            model = _decimal_model(solver, self.copies)
            if model is None:
                return Undecided("the only solutions found are not finite decimals")
            return Found(model)
        finally:
            solver.pop()


def _reason(solver: z3.Solver) -> str:
    reason = solver.reason_unknown()
    if "timeout" in reason or "canceled" in reason:
        return "the solver ran out of time"
    return f"the solver could not decide ({reason}); non-linear arithmetic is the usual cause"


def _keep_defaults(solver: z3.Solver, schema: Schema, copies: Sequence[Facts]) -> None:
    """Fix as many facts as possible at their defaults (and required facts at their
    lowest value), dropping those an unsat core says conflict, a few rounds at most."""
    wishes: dict[Any, Any] = {}
    for index, copy in enumerate(copies):
        for fact in schema.facts.values():
            wish = plain_value(fact)
            if wish is None:
                continue
            var = copy[fact.name]
            flag = z3.Bool(f"default#{index}#{fact.name}", copy.ctx)
            solver.add(z3.Implies(flag, var == fact_value(fact, wish, copy)))
            wishes[flag] = var
    assumptions = list(wishes)
    for _ in range(DEFAULT_ROUNDS):
        answer = solver.check(*assumptions)
        if answer == z3.sat:
            solver.add(*assumptions)
            return
        if answer != z3.unsat:
            break
        core = {c.get_id() for c in solver.unsat_core()}
        if not core:
            break
        assumptions = [a for a in assumptions if a.get_id() not in core]
    solver.check()


def plain_value(fact: FactDef) -> Any:
    """The value a reader expects when a fact does not matter: its default, else false,
    the lowest value of its range (or 0 inside it), the first enum value, ""."""
    if fact.has_default:
        return fact.default
    match fact.type:
        case FactType.BOOL:
            return False
        case FactType.ENUM:
            return fact.values[0]
        case FactType.STRING:
            return ""
    if fact.minimum is not None:
        return fact.minimum
    return 0 if fact.maximum is None or fact.maximum >= 0 else fact.maximum


def _decimal_model(solver: z3.Solver, copies: Sequence[Facts]) -> Any:
    """The model, after making every real a finite decimal if it was not already."""
    if solver.check() != z3.sat:
        return None
    model = solver.model()
    reals = [v for copy in copies for v in copy.variables.values() if z3.is_real(v)]
    if all(_is_decimal(model.eval(v, model_completion=True)) for v in reals):
        return model
    for places in DECIMAL_PLACES:
        solver.push()
        solver.add(*(z3.IsInt(v * 10 ** places) for v in reals))
        if solver.check() == z3.sat:
            found = solver.model()
            solver.pop()
            return found
        solver.pop()
    return None


def _is_decimal(value: Any) -> bool:
    if not z3.is_rational_value(value):
        return False
    denominator = value.denominator_as_long()
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


__all__ = ["FactType", "Found", "Impossible", "Outcome", "Solver", "Undecided"]
