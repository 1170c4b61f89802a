"""Helpers shared by the engine tests: a small schema and a policy compiler.

Policies are written inline (with `load_text` and the schema text) so these
tests do not depend on the real retail policy.
"""

from __future__ import annotations

import pytest

from engine.api import CompiledPolicy, compile_checked
from policylang.pipeline import load_text

SCHEMA = """\
facts:
  overdue:       {type: days, min: 0, max: 3650}
  due_in:        {type: days, min: 0, max: 366, default: 30}
  has_guarantor: {type: bool, default: false}
  status:        {type: enum, values: [reachable, unreachable, lost], default: reachable}
  amount:        {type: money, currency: CNY, min: 0, default: 0}
  principal:     {type: money, currency: CNY, min: 0, default: 10000}
  calls:         {type: int, min: 0, max: 100, default: 0}
  rate:          {type: decimal, min: 0, max: 1, default: 0.05}
  deceased:      {type: bool, default: false}
  note:          {type: string, default: ""}
actions:
  call:      {targets: [borrower, guarantor], stage: 1, templates: [reminder, consequences]}
  sms:       {targets: [borrower], stage: 1}
  visit:     {targets: [borrower, guarantor], stage: 2}
  notify:    {targets: [borrower, guarantor], stage: 3,
              templates: [overdue_notice, guarantor_demand]}
  negotiate: {targets: [heir], stage: 4}
  refer:     {targets: [legal], stage: 5}
"""

HEADER = 'policy t version "1"\nschema "schema.yaml"\n'


def compile_text(policy: str, schema: str = SCHEMA) -> CompiledPolicy:
    """Compile policy text against schema text; fail the test with the diagnostics."""
    result = load_text(policy, "t.policy", schema_text=schema)
    if result.checked is None:
        messages = "\n".join(f"{d.code} {d.span.line}:{d.span.column} {d.message}"
                             for d in result.diagnostics)
        pytest.fail(f"the test policy does not check:\n{messages}")
    return compile_checked(result.checked)


def policy_of(body: str, schema: str = SCHEMA) -> CompiledPolicy:
    """The test header plus `body` (rules start on line 3), compiled against SCHEMA."""
    return compile_text(HEADER + body, schema)


def words(decision: object) -> list[str]:
    """A decision's actions as `verb target [using t] <- rule, rule`."""
    return [f"{a} <- {' + '.join(a.rules)}" for a in decision.actions]  # type: ignore[attr-defined]


def suppressed_words(decision: object) -> list[str]:
    return [f"{s} <- {' + '.join(s.rules)} by {s.by}"
            for s in decision.suppressed]  # type: ignore[attr-defined]
