"""Shared hypothesis strategies: one small schema, facts within it, well-typed policies.

Import from a test module as `from strategies import SCHEMA_YAML, facts, policies`
(pytest puts tests/ on sys.path). The API is kept small on purpose:

- `SCHEMA_YAML`: the schema text (a fact of every type, a catalogue of four verbs).
  Policies name it as `schema "strategies.schema.yaml"`; pass the text itself, e.g.
  `load_text(text, schema_text=SCHEMA_YAML)`.
- `facts()`: a complete facts mapping inside the schema's domains: int for days and
  int facts, Decimal for decimal and money, str for enums, bool for bools.
- `policies(asserts=False)`: the text of a whole policy that parses and type-checks
  against SCHEMA_YAML: header, schema line, params, lets, rules (optional name, label,
  priority, final; produce and suppress actions), the odd comment, varied layout.
  Division is only ever by a non-zero literal, so evaluating never divides by zero.
  With `asserts=True`, `assert` statements are added (they may well not hold).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs
from hypothesis import strategies as st

# name -> (schema type, min, max); the order here is the order in SCHEMA_YAML
FACTS: dict[str, tuple[str, int | Decimal | None, int | Decimal | None]] = {
    "overdue": ("days", 0, 400),
    "due_in": ("days", 0, 60),
    "has_guarantor": ("bool", None, None),
    "in_litigation": ("bool", None, None),
    "periods_overdue": ("int", 0, 24),
    "联系次数": ("int", 0, 50),
    "risk_score": ("decimal", Decimal("0"), Decimal("1")),
    "overdue_amount": ("money", Decimal("0"), Decimal("100000")),
    "loan_type": ("enum", None, None),
    "contact_status": ("enum", None, None),
}
ENUMS = {
    "loan_type": ("credit", "guaranteed", "mortgage"),
    "contact_status": ("reachable", "unreachable", "lost"),
}
# verb -> (targets, templates)
ACTIONS = {
    "call": (("borrower", "guarantor"), ("repayment_reminder", "overdue_notice")),
    "visit": (("borrower", "guarantor"), ()),
    "notify": (("borrower", "guarantor"), ("overdue_notice", "guarantor_demand")),
    "refer": (("legal",), ()),
}

SCHEMA_YAML = """\
# The schema of tests/strategies.py: one fact of every type, four verbs.
facts:
  overdue:         {type: days, min: 0, max: 400, label: 逾期天数}
  due_in:          {type: days, min: 0, max: 60}
  has_guarantor:   {type: bool}
  in_litigation:   {type: bool, default: false}
  periods_overdue: {type: int, min: 0, max: 24}
  联系次数:        {type: int, min: 0, max: 50, default: 0}
  risk_score:      {type: decimal, min: 0, max: 1}
  overdue_amount:  {type: money, currency: CNY, min: 0, max: 100000}
  loan_type:       {type: enum, values: [credit, guaranteed, mortgage]}
  contact_status:  {type: enum, values: [reachable, unreachable, lost]}
actions:
  call:   {targets: [borrower, guarantor], stage: 1,
           templates: [repayment_reminder, overdue_notice]}
  visit:  {targets: [borrower, guarantor], stage: 2}
  notify: {targets: [borrower, guarantor], stage: 3,
           templates: [overdue_notice, guarantor_demand]}
  refer:  {targets: [legal], stage: 5}
"""

SCHEMA_PATH = "strategies.schema.yaml"

# Expression kinds. Enum kinds are "enum:FACT" (values of that fact's enum).
BOOL, NUMBER, DAYS, MONEY = "bool", "number", "days", "money"
ORDERED = (NUMBER, DAYS, MONEY)
_KIND_OF_TYPE = {"bool": BOOL, "int": NUMBER, "decimal": NUMBER, "days": DAYS,
                 "money": MONEY}


def _fact_kind(name: str) -> str:
    schema_type = FACTS[name][0]
    return f"enum:{name}" if schema_type == "enum" else _KIND_OF_TYPE[schema_type]


# -- facts ---------------------------------------------------------------------------------

def _fact_value(name: str) -> st.SearchStrategy[object]:
    schema_type, low, high = FACTS[name]
    if schema_type in ("days", "int"):
        return st.integers(min_value=low, max_value=high)
    if schema_type in ("decimal", "money"):
        return st.decimals(min_value=low, max_value=high, places=2)
    if schema_type == "enum":
        return st.sampled_from(ENUMS[name])
    return st.booleans()


def facts() -> st.SearchStrategy[dict[str, object]]:
    """Complete facts for SCHEMA_YAML, every value inside its fact's domain."""
    return st.fixed_dictionaries({name: _fact_value(name) for name in FACTS})


# -- literals --------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_whole = st.integers(min_value=0, max_value=500).map(str)
_decimal = st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: format(d, "f"))
_number_text = st.one_of(_whole, _decimal)
_nonzero = st.integers(min_value=1, max_value=12).map(str)


@st.composite
def _duration(draw: st.DrawFn, nonzero: bool = False) -> str:
    amount = draw(st.integers(min_value=1 if nonzero else 0, max_value=90))
    unit = draw(st.sampled_from(("day", "week")))
    plural = draw(st.booleans()) if amount == 1 else amount != 1
    return f"{amount} {unit}{'s' if plural else ''}"


def _literal(kind: str, nonzero: bool = False) -> st.SearchStrategy[str]:
    if kind == NUMBER:
        return _nonzero if nonzero else st.one_of(
            _number_text, st.integers(min_value=0, max_value=100).map(lambda n: f"{n}%"))
    if kind == DAYS:
        return _duration(nonzero)
    if kind == MONEY:
        amount = _nonzero if nonzero else _number_text
        return amount.map(lambda a: f"{a} CNY")
    if kind == BOOL:
        return st.sampled_from(("true", "false"))
    return st.sampled_from(ENUMS[kind.removeprefix("enum:")])


# -- expressions ------------------------------------------------------------------------------

@attrs.frozen
class Env:
    """The names an expression may use, by kind."""

    names: dict[str, tuple[str, ...]]

    def of(self, kind: str) -> tuple[str, ...]:
        return self.names.get(kind, ())

    def with_name(self, kind: str, name: str) -> Env:
        return Env({**self.names, kind: (*self.of(kind), name)})


def _facts_env() -> Env:
    names: dict[str, tuple[str, ...]] = {}
    for name in FACTS:
        kind = _fact_kind(name)
        names[kind] = (*names.get(kind, ()), name)
    return Env(names)


def _wrap(text: str) -> str:
    """Parenthesize a compound operand (the formatter drops what is not needed)."""
    return text if text.replace("_", "").replace(".", "").isalnum() else f"({text})"


@st.composite
def expressions(draw: st.DrawFn, kind: str, env: Env, depth: int = 3) -> str:
    """A well-typed expression of `kind` over `env`'s names."""
    leaves: list[st.SearchStrategy[str]] = []
    if not kind.startswith("enum:"):
        leaves.append(_literal(kind))
    if env.of(kind):
        leaves.append(st.sampled_from(env.of(kind)))
    if depth <= 0 or (leaves and draw(st.integers(0, 2)) == 0):
        return draw(st.one_of(leaves))
    builders = _BUILDERS.get(kind, ())
    if not builders:
        return draw(st.one_of(leaves))
    builder = draw(st.sampled_from(builders))
    return builder(draw, env, depth - 1)


def _sub(draw: st.DrawFn, kind: str, env: Env, depth: int) -> str:
    return _wrap(draw(expressions(kind, env, depth)))


def _sum(kind: str) -> Callable[[st.DrawFn, Env, int], str]:
    def build(draw: st.DrawFn, env: Env, depth: int) -> str:
        op = draw(st.sampled_from("+-"))
        return f"{_sub(draw, kind, env, depth)} {op} {_sub(draw, kind, env, depth)}"
    return build


def _scale(kind: str) -> Callable[[st.DrawFn, Env, int], str]:
    """kind * number, number * kind, kind / non-zero literal."""
    def build(draw: st.DrawFn, env: Env, depth: int) -> str:
        how = draw(st.sampled_from(("left", "right", "divide")))
        value = _sub(draw, kind, env, depth)
        if how == "divide":
            return f"{value} / {draw(_nonzero)}"
        number = _sub(draw, NUMBER, env, depth)
        return f"{number} * {value}" if how == "left" else f"{value} * {number}"
    return build


def _negate(kind: str) -> Callable[[st.DrawFn, Env, int], str]:
    def build(draw: st.DrawFn, env: Env, depth: int) -> str:
        return "-" + _sub(draw, kind, env, depth)
    return build


def _ratio(draw: st.DrawFn, env: Env, depth: int) -> str:
    """days / days or money / money (a number), over a non-zero literal."""
    kind = draw(st.sampled_from((DAYS, MONEY)))
    return f"{_sub(draw, kind, env, depth)} / {draw(_literal(kind, nonzero=True))}"


def _compare(draw: st.DrawFn, env: Env, depth: int) -> str:
    kind = draw(st.sampled_from(ORDERED))
    op = draw(st.sampled_from(("==", "!=", "<", "<=", ">", ">=")))
    return f"{_sub(draw, kind, env, depth)} {op} {_sub(draw, kind, env, depth)}"


def _between(draw: st.DrawFn, env: Env, depth: int) -> str:
    kind = draw(st.sampled_from(ORDERED))
    subject, low, high = (_sub(draw, kind, env, depth) for _ in range(3))
    return f"{subject} between {low} and {high}"


def _set_items(draw: st.DrawFn, kind: str) -> str:
    if kind.startswith("enum:"):
        values = ENUMS[kind.removeprefix("enum:")]
        items = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
    else:
        signed = st.tuples(st.sampled_from(("", "-")), _literal(kind)).map("".join)
        items = draw(st.lists(signed, min_size=1, max_size=3))
    return "{" + ", ".join(items) + "}"


def _in_set(draw: st.DrawFn, env: Env, depth: int) -> str:
    enums = [k for k in env.names if k.startswith("enum:") and env.of(k)]
    kind = draw(st.sampled_from([*enums, *enums, *ORDERED]))
    subject = draw(st.sampled_from(env.of(kind))) if kind in enums else \
        _sub(draw, kind, env, depth)
    word = draw(st.sampled_from(("in", "not in")))
    return f"{subject} {word} {_set_items(draw, kind)}"


def _enum_compare(draw: st.DrawFn, env: Env, depth: int) -> str:
    kind = draw(st.sampled_from([k for k in env.names if k.startswith("enum:")]))
    op = draw(st.sampled_from(("==", "!=")))
    right = draw(st.one_of(_literal(kind), st.sampled_from(env.of(kind))))
    return f"{draw(st.sampled_from(env.of(kind)))} {op} {right}"


def _not(draw: st.DrawFn, env: Env, depth: int) -> str:
    return "not " + _sub(draw, BOOL, env, depth)


def _chain(draw: st.DrawFn, env: Env, depth: int) -> str:
    word = draw(st.sampled_from(("and", "or")))
    count = draw(st.integers(min_value=2, max_value=4))
    return f" {word} ".join(_sub(draw, BOOL, env, depth) for _ in range(count))


_BUILDERS: dict[str, tuple[Callable[[st.DrawFn, Env, int], str], ...]] = {
    NUMBER: (_sum(NUMBER), _scale(NUMBER), _negate(NUMBER), _ratio),
    DAYS: (_sum(DAYS), _scale(DAYS), _negate(DAYS)),
    MONEY: (_sum(MONEY), _scale(MONEY), _negate(MONEY)),
    BOOL: (_compare, _compare, _between, _in_set, _enum_compare, _not, _chain, _chain),
}


# -- whole policies ---------------------------------------------------------------------------

_RULE_NAMES = ("remind", "early_calls", "letter", "visit_home", "legal", "cap", "催收提醒",
               "上门拜访", "r_7")
_LABEL_CHARS = st.characters(codec="utf-8", categories=("L", "N", "Zs", "P"),
                             exclude_characters="\n\r\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_COMMENT = st.text(_LABEL_CHARS, max_size=20).map(lambda t: ("# " + t).rstrip())


@st.composite
def _action(draw: st.DrawFn) -> str:
    verb = draw(st.sampled_from(sorted(ACTIONS)))
    targets, templates = ACTIONS[verb]
    target = draw(st.sampled_from(targets))
    if draw(st.integers(0, 4)) == 0:
        return f"suppress {verb}" if draw(st.booleans()) else f"suppress {verb} {target}"
    if templates and draw(st.booleans()):
        return f"{verb} {target} using {draw(st.sampled_from(templates))}"
    return f"{verb} {target}"


@st.composite
def _param(draw: st.DrawFn, index: int) -> tuple[str, str, str]:
    kind = draw(st.sampled_from((NUMBER, DAYS, MONEY, BOOL)))
    literal = draw(_literal(kind))
    sign = draw(st.sampled_from(("", "", "-"))) if kind != BOOL else ""
    name = f"p_{index}"
    return kind, name, f"param {name} = {sign}{literal}"


@st.composite
def _let(draw: st.DrawFn, index: int, env: Env) -> tuple[str, str, str]:
    kind = draw(st.sampled_from((BOOL, BOOL, NUMBER, DAYS, MONEY, "enum:loan_type")))
    name = f"let_{index}" if index % 2 else f"条件{index}"
    return kind, name, f"let {name} = {draw(expressions(kind, env, depth=2))}"


@st.composite
def _rule(draw: st.DrawFn, env: Env, name: str | None) -> str:
    condition = draw(expressions(BOOL, env))
    actions = draw(st.lists(_action(), min_size=1, max_size=3, unique=True))
    body = f"{condition} -> {', '.join(actions)}"
    if draw(st.booleans()):
        body = f"{condition}\n    -> {', '.join(actions)}"
    if name is None:
        return body
    head = ["rule", name]
    if draw(st.booleans()):
        head.append(_quote(draw(st.text(_LABEL_CHARS | st.sampled_from('"\\'), max_size=12))))
    if draw(st.booleans()):
        head.append(f"priority {draw(st.integers(min_value=-10, max_value=300))}")
    if draw(st.booleans()):
        head.append("final")
    separator = draw(st.sampled_from((" ", "\n  ")))
    return " ".join(head) + ":" + separator + body.replace("\n", "\n  ")


@st.composite
def _assertion(draw: st.DrawFn, env: Env) -> str:
    if draw(st.integers(0, 3)) == 0:
        return f"assert monotone {draw(st.sampled_from(('overdue', 'periods_overdue')))}"
    condition = draw(expressions(BOOL, env, depth=2))
    action = draw(_action().filter(lambda a: not a.startswith("suppress")))
    expect = draw(st.sampled_from(("any", action, f"no {action}")))
    return f"assert {condition} -> {expect}"


@st.composite
def policies(draw: st.DrawFn, asserts: bool = False) -> str:
    """The text of a whole well-typed policy for SCHEMA_YAML."""
    title = f' {_quote(draw(st.text(_LABEL_CHARS, max_size=10)))}' if draw(st.booleans()) else ""
    statements = [f'policy generated version "1"{title}', f'schema "{SCHEMA_PATH}"']
    env = _facts_env()
    for index in range(draw(st.integers(0, 3))):
        kind, name, text = draw(_param(index))
        env = env.with_name(kind, name)
        statements.append(text)
    for index in range(draw(st.integers(0, 3))):
        kind, name, text = draw(_let(index, env))
        env = env.with_name(kind, name)
        statements.append(text)
    names = draw(st.lists(st.sampled_from(_RULE_NAMES), max_size=6, unique=True))
    for name in names:
        statements.append(draw(_rule(env, name)))
    for _ in range(draw(st.integers(1 if not names else 0, 3))):
        statements.append(draw(_rule(env, None)))
    if asserts:
        statements.extend(draw(st.lists(_assertion(env), max_size=3)))
    return _decorate(draw, statements)


def _decorate(draw: st.DrawFn, statements: list[str]) -> str:
    """Join statements, sometimes with a blank line, a comment line or a trailing comment."""
    out: list[str] = []
    for statement in statements:
        if out and draw(st.integers(0, 3)) == 0:
            out.append("")
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(_COMMENT))
        trailing = "  " + draw(_COMMENT) if draw(st.integers(0, 5)) == 0 else ""
        out.append(statement + trailing)
    return "\n".join(out) + "\n"
