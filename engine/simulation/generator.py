"""Seeded generator of realistic loan portfolios, in the simulation input layout.

Stage: test and demo data for `policylang simulate`; nothing reads it at run time.
Input: a loan count, a seed, a date window, and the collection schema (which gives
the loans.csv columns, so the two cannot drift apart).
Output: a `GeneratedPortfolio`; `write_portfolio` writes loans.csv, installments.csv,
payments.csv and events.csv as LANGUAGE.md "Simulation" lays them out.
Must not: touch global random state, the clock or floats for money; the same
arguments give byte-identical files. docs/simulation.md describes the model.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import json
import random
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import attrs
import yaml

from engine.simulation.generator_behaviour import (
    CENT,
    DAY,
    DEFAULT_MIX,
    DEFAULTING,
    DELINQUENT,
    Behaviour,
    History,
    Profile,
    Schedule,
    cell_text,
    draw_behaviour,
    draw_changes,
    draw_profile,
    normalise,
    paid_dates,
    pick,
    plan_payments,
    recovery_payment,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "policies" / "collection.schema.yaml"
EXAMPLE_DIR = Path(__file__).resolve().parent / "example"
EXAMPLE_PARAMETERS: Mapping[str, Any] = {
    "loans": 200, "seed": 2026, "start": date(2025, 1, 1), "months": 14}
CURRENCY = "CNY"
DEFAULT_MONTHS = 14

# Facts a replay derives from the instalments and payments (and, for the deadlines,
# its own notices); never a loans.csv column.
LEDGER_FACTS = frozenset({
    "overdue", "due_in", "periods_overdue", "overdue_amount", "outstanding", "never_paid",
    "days_since_payment", "matured", "longest_overdue", "next_due_final",
    "days_to_limitation", "days_to_guarantee_end"})
# Share of guaranteed loans whose contract sets a guarantee period of its own (1-3
# months after maturity, so that some lapse within a short replay); the rest take the
# schema's default (six months, 民法典 692).
CONTRACT_GUARANTEE_SHARE = 0.3
# loans.csv columns whose value events.csv may change later.
EVENT_FACTS = frozenset({
    "contact_status", "debit_failed", "interest_overdue", "account_balance", "ability",
    "willingness", "cause", "business_viable", "over_indebted", "borrower_deceased",
    "borrower_missing", "in_litigation", "in_enforcement"})


@attrs.frozen
class LoanKind:
    """Draw ranges for one loan type: principal (yuan), annual rate (basis points)."""

    weight: int
    principal: tuple[int, int, int]          # low, high, step
    rate_bp: tuple[int, int]
    guarantor_share: float
    structures: tuple[int, int, int]         # weights: amortising, bullet, interest-only
    min_months: int = 3                      # a big loan is not repaid in a quarter


_KINDS: Mapping[str, LoanKind] = {
    "credit": LoanKind(45, (5_000, 200_000, 1_000), (700, 1800), 0.10, (90, 10, 0)),
    "guaranteed": LoanKind(25, (20_000, 500_000, 1_000), (500, 900), 1.0, (60, 15, 25)),
    "mortgage": LoanKind(20, (100_000, 2_000_000, 10_000), (360, 550), 0.15, (70, 0, 30), 12),
    "pledge": LoanKind(10, (10_000, 300_000, 1_000), (450, 800), 0.10, (50, 30, 20)),
}
_MONTHS: Mapping[str, tuple[tuple[int, int], ...]] = {   # (weight, term in months)
    "amortising": ((10, 3), (20, 6), (10, 9), (30, 12), (10, 18), (12, 24), (8, 36)),
    "bullet": ((3, 3), (4, 6), (1, 9), (2, 12)),
    "interest_only": ((3, 6), (4, 12), (2, 24), (1, 36)),
}


@attrs.frozen
class Installment:
    """One row of installments.csv: `amount_due` is `principal_due + interest_due`."""

    loan_id: str
    number: int
    due_date: date
    amount_due: Decimal
    principal_due: Decimal

    @property
    def interest_due(self) -> Decimal:
        return self.amount_due - self.principal_due


@attrs.frozen
class Payment:
    """One row of payments.csv."""

    loan_id: str
    date: date
    amount: Decimal


@attrs.frozen
class Event:
    """One row of events.csv: `fact` takes `value` (CSV text) from `date` on."""

    loan_id: str
    date: date
    fact: str
    value: str


@attrs.frozen
class Loan:
    """One row of loans.csv, with the behaviour and profile that drove its history."""

    loan_id: str
    origination_date: date
    behaviour: Behaviour
    profile: Profile
    facts: Mapping[str, str]   # loans.csv cell text by column


@attrs.frozen
class GeneratedPortfolio:
    """A whole portfolio; rows are in the order the files are written."""

    seed: int
    start: date
    end: date
    columns: tuple[str, ...]   # loans.csv columns after loan_id, origination_date
    loans: tuple[Loan, ...]
    installments: tuple[Installment, ...]
    payments: tuple[Payment, ...]
    events: tuple[Event, ...]


# ---- the schema --------------------------------------------------------------------

def load_schema_facts(path: Path = SCHEMA_PATH) -> dict[str, dict[str, Any]]:
    """The schema's facts by name, in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(data["facts"])


def is_history_fact(spec: Mapping[str, Any]) -> bool:
    """A fact the replay derives from its own earlier actions."""
    return "history" in spec


def loan_columns(facts: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """loans.csv columns after loan_id and origination_date: currency, then static facts."""
    static = (name for name, spec in facts.items()
              if name not in LEDGER_FACTS and not is_history_fact(spec))
    return ("currency", *static)


# ---- dates and money ---------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clipped to the month's end."""
    year, month = divmod(day.month - 1 + months, 12)
    last = calendar.monthrange(day.year + year, month + 1)[1]
    return date(day.year + year, month + 1, min(day.day, last))


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


# ---- terms and schedule ------------------------------------------------------------

@attrs.frozen
class Terms:
    """The contract: type, principal, rate and the instalment schedule it implies."""

    loan_type: str
    principal: Decimal
    interest_only: bool
    schedule: Schedule
    principal_parts: tuple[Decimal, ...]     # of each instalment; the rest is interest


def draw_terms(rng: random.Random, origination: date) -> Terms:
    """A loan type, principal, rate and structure, and its instalments."""
    loan_type = pick(rng, [(kind.weight, name) for name, kind in _KINDS.items()])
    kind = _KINDS[loan_type]
    low, high, step = kind.principal
    units = min(rng.randint(low // step, high // step), rng.randint(low // step, high // step))
    principal = Decimal(units * step).quantize(CENT)
    rate = Decimal(rng.randint(*kind.rate_bp)) / 10_000
    structure = pick(rng, list(zip(kind.structures, _MONTHS, strict=True)))
    months = pick(rng, [(w, m) for w, m in _MONTHS[structure] if m >= kind.min_months])
    if structure == "amortising":     # flat rate: equal principal and equal interest parts
        amounts = _equal_instalments(principal * (1 + rate * months / 12), months)
        parts = _equal_instalments(principal, months)
    elif structure == "bullet":
        amounts = [_money(principal * (1 + rate * months / 12))]
        parts = [principal]
    else:
        interest = _money(principal * rate / 12)
        amounts = [interest] * (months - 1) + [principal + interest]
        parts = [Decimal("0.00")] * (months - 1) + [principal]
    step_months = months // len(amounts)
    schedule = tuple((add_months(origination, step_months * (i + 1)), amount)
                     for i, amount in enumerate(amounts))
    return Terms(loan_type, principal, structure == "interest_only", schedule, tuple(parts))


def _equal_instalments(total: Decimal, n: int) -> list[Decimal]:
    """n equal instalments rounded to cents; the rounding remainder goes on the last."""
    total = _money(total)
    each = _money(total / n)
    return [each] * (n - 1) + [total - each * (n - 1)]


# ---- one loan, the portfolio ---------------------------------------------------------

def _static_facts(rng: random.Random, terms: Terms, behaviour: Behaviour) -> dict[str, str]:
    """loans.csv values at origination; collection's findings start unknown."""
    kind, mortgage = _KINDS[terms.loan_type], terms.loan_type == "mortgage"
    only_home = mortgage and rng.random() < 0.6
    area = Decimal(rng.randint(450, 1400) if only_home else rng.randint(700, 2000)) / 10
    balance = Decimal(0)
    if behaviour not in DELINQUENT | DEFAULTING and rng.random() < 0.5:
        balance = Decimal(rng.randint(0, int(terms.schedule[0][1]) * 3))
    return {
        "currency": CURRENCY, "principal": cell_text(terms.principal), "loan_type": terms.loan_type,
        "has_guarantor": cell_text(terms.loan_type == "guaranteed"
                               or rng.random() < kind.guarantor_share),
        "contact_status": "reachable", "interest_only": cell_text(terms.interest_only),
        "debit_failed": "false", "account_balance": cell_text(balance.quantize(CENT)),
        "ability": "unknown", "willingness": "unknown", "cause": "none",
        "business_viable": "false", "over_indebted": "false", "borrower_deceased": "false",
        "borrower_missing": "false", "in_litigation": "false", "in_enforcement": "false",
        "only_home": cell_text(only_home),
        "home_area_m2": f"{area if mortgage else Decimal(0):.1f}",
        # a bare shell nobody lives in is never the family's only home
        "home_bare_shell": cell_text(mortgage and not only_home and rng.random() < 0.3),
        "interest_overdue": "false",
    }


@attrs.frozen
class _LoanRows:
    loan: Loan
    installments: tuple[Installment, ...]
    payments: tuple[Payment, ...]
    events: tuple[Event, ...]


@attrs.frozen
class _Setting:
    """What every loan of one portfolio shares."""

    end: date
    columns: tuple[str, ...]
    mix: Mapping[Behaviour, int]
    schema: Mapping[str, Mapping[str, Any]]


def _generate_loan(rng: random.Random, loan_id: str, origination: date,
                   setting: _Setting) -> _LoanRows:
    """One loan's rows: terms, behaviour, payments up to the end, and its events."""
    terms = draw_terms(rng, origination)
    behaviour = draw_behaviour(rng, setting.mix, len(terms.schedule))
    profile = draw_profile(rng, behaviour)
    known = _static_facts(rng, terms, behaviour)
    facts = {c: known.get(c) or _schema_default(setting.schema, c) for c in setting.columns}
    if "guarantee_months" in facts and facts.get("has_guarantor") == "true":
        facts["guarantee_months"] = _guarantee_months(loan_id, facts["guarantee_months"])
    cash = [c for c in plan_payments(rng, behaviour, terms.schedule, profile)
            if c[0] <= setting.end]
    hist = History(origination, terms.loan_type, terms.interest_only, terms.schedule,
                   behaviour, profile, cash, paid_dates(terms.schedule, cash))
    changes, enforced = draw_changes(rng, hist)
    recovered = recovery_payment(rng, hist, enforced)
    if recovered and recovered[0] <= setting.end:
        cash.append(recovered)
    repaid = paid_dates(terms.schedule, cash)[-1]
    high = min(setting.end, repaid) if repaid else setting.end
    events = [Event(loan_id, day, fact, value) for fact in sorted(changes)
              for day, value in normalise(facts[fact], changes[fact], origination, high)]
    return _LoanRows(
        Loan(loan_id, origination, behaviour, profile, facts),
        tuple(Installment(loan_id, i, due, amt, part) for i, ((due, amt), part)
              in enumerate(zip(terms.schedule, terms.principal_parts, strict=True), 1)),
        tuple(Payment(loan_id, day, amt) for day, amt in sorted(cash)),
        tuple(sorted(events, key=lambda e: (e.date, e.fact))))


def _guarantee_months(loan_id: str, default: str) -> str:
    """The contract's guarantee period: drawn from the loan's own generator (seeded by its
    id), so adding it changed no other value of the portfolio."""
    rng = random.Random(f"guarantee {loan_id}")
    return str(rng.randint(1, 3)) if rng.random() < CONTRACT_GUARANTEE_SHARE else default


def _schema_default(schema: Mapping[str, Mapping[str, Any]], fact: str) -> str:
    """A static fact the generator does not model yet takes its schema default."""
    if "default" not in schema[fact]:
        raise ValueError(f"generator: schema fact {fact!r} needs a value and has no default")
    return cell_text(schema[fact]["default"])


def generate_portfolio(n_loans: int, *, seed: int, start: date, end: date | None = None,
                       origination_days: int | None = None,
                       mix: Mapping[Behaviour, int] | None = None,
                       schema_path: Path = SCHEMA_PATH) -> GeneratedPortfolio:
    """n_loans loans originated in the first half of [start, end] (or the first
    `origination_days` days), replayed to `end`; pure: the seed decides everything."""
    end = end or add_months(start, DEFAULT_MONTHS) - DAY
    if n_loans < 0 or end < start:
        raise ValueError("generator: need n_loans >= 0 and start <= end")
    window = (end - start).days // 2 if origination_days is None else origination_days
    schema = load_schema_facts(schema_path)
    setting = _Setting(end, loan_columns(schema), mix or DEFAULT_MIX, schema)
    master, width = random.Random(seed), max(5, len(str(n_loans)))
    rows = []
    for number in range(1, n_loans + 1):
        # one sub-seed per loan: loan k is the same whatever n_loans is
        rng = random.Random(master.getrandbits(64))
        origination = min(start + rng.randint(0, window) * DAY, end)
        rows.append(_generate_loan(rng, f"L{number:0{width}d}", origination, setting))
    return GeneratedPortfolio(
        seed, start, end, setting.columns, tuple(r.loan for r in rows),
        tuple(i for r in rows for i in r.installments),
        tuple(p for r in rows for p in r.payments), tuple(e for r in rows for e in r.events))


# ---- files -------------------------------------------------------------------------

def write_portfolio(portfolio: GeneratedPortfolio, directory: Path) -> None:
    """Write the four CSV files (UTF-8, LF line ends) and notice_data.json into
    `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    _write_csv(directory / "loans.csv", ("loan_id", "origination_date", *portfolio.columns),
               ([loan.loan_id, loan.origination_date.isoformat(),
                 *(loan.facts[c] for c in portfolio.columns)] for loan in portfolio.loans))
    _write_csv(directory / "installments.csv",
               ("loan_id", "installment_no", "due_date", "amount_due", "principal_due",
                "interest_due"),
               ([i.loan_id, str(i.number), i.due_date.isoformat(), cell_text(i.amount_due),
                 cell_text(i.principal_due), cell_text(i.interest_due)]
                for i in portfolio.installments))
    _write_csv(directory / "payments.csv", ("loan_id", "date", "amount"),
               ([p.loan_id, p.date.isoformat(), cell_text(p.amount)] for p in portfolio.payments))
    _write_csv(directory / "events.csv", ("loan_id", "date", "fact", "value"),
               ([e.loan_id, e.date.isoformat(), e.fact, e.value] for e in portfolio.events))
    (directory / "notice_data.json").write_text(
        json.dumps(notice_data(portfolio), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8", newline="")


# Fictional, plainly anonymised parties for notice_data.json: 张某甲, 王某乙, ...
_SURNAMES = "张王李赵刘陈杨黄周吴"
_RANKS = "甲乙丙丁戊己庚辛壬癸"
NOTICE_DEFAULTS: Mapping[str, Any] = {
    "lender": {"name": "示例农村商业银行"},
    "branch": {"name": "示例农村商业银行营业部", "phone": "0000-1234567"},
    "notice_prefix": "CS",
    "penalty_rate": "5",
    "acceleration": {"contract_title": "个人借款合同", "clause": "第十二条",
                     "breached_clause": "第八条", "breach": "未按约定归还到期贷款本息"},
    "verification": {"findings": ["借款人放款后不久即未按约定还款，经多次催收仍未归还"],
                     "reply_date": "+15 days"},
}


def notice_data(portfolio: GeneratedPortfolio) -> dict[str, Any]:
    """notice_data.json: the bank's defaults and each loan's contract and parties
    (`simulate --notices`, docs/simulation.md). Names are fictional."""
    loans: dict[str, Any] = {}
    for index, loan in enumerate(portfolio.loans):
        year = loan.origination_date.year
        entry: dict[str, Any] = {
            "contract_no": f"JK{year}-{loan.loan_id}",
            "borrower": {"name": _person(index), "address": f"示例市示例区示例路{index + 1}号"},
        }
        if loan.facts.get("has_guarantor") == "true":
            entry["guarantor"] = {"name": _person(index + 3),
                                  "contract_no": f"BZ{year}-{loan.loan_id}"}
        loans[loan.loan_id] = entry
    return {"defaults": NOTICE_DEFAULTS, "loans": loans}


def _person(index: int) -> str:
    return f"{_SURNAMES[index % 10]}某{_RANKS[index // 10 % 10]}"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m engine.simulation.generator --loans N --seed S --out DIR`."""
    parser = argparse.ArgumentParser(
        prog="python -m engine.simulation.generator",
        description="Write a seeded synthetic loan portfolio in the simulation input layout.")
    parser.add_argument("--loans", type=int, default=EXAMPLE_PARAMETERS["loans"])
    parser.add_argument("--seed", type=int, default=EXAMPLE_PARAMETERS["seed"])
    parser.add_argument("--start", type=date.fromisoformat,
                        default=EXAMPLE_PARAMETERS["start"], help="first day (YYYY-MM-DD)")
    parser.add_argument("--months", type=int, default=EXAMPLE_PARAMETERS["months"],
                        help="horizon in months; the last day is the day before")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)
    if args.loans < 0 or args.months < 1:
        parser.error("--loans must be >= 0 and --months >= 1")
    end = add_months(args.start, args.months) - DAY
    portfolio = generate_portfolio(args.loans, seed=args.seed, start=args.start, end=end)
    write_portfolio(portfolio, args.out)
    print(f"{len(portfolio.loans)} loans, {len(portfolio.installments)} instalments, "
          f"{len(portfolio.payments)} payments, {len(portfolio.events)} events, "
          f"{portfolio.start} to {portfolio.end} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
