"""Amounts in words (大写): table tests, refusals, the docs' table, and
properties checked against an independent reader (the `cn2an` package)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import cn2an
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine.notices.amounts import AmountError, to_uppercase_cny

DOC = Path(__file__).resolve().parent.parent / "docs" / "notices.md"
MAXIMUM = 10**12

CLASSIC = [
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("0.05", "伍分"),
    ("0.10", "壹角"),
    ("0.5", "伍角"),
    ("0.55", "伍角伍分"),
    ("1", "壹元整"),
    ("1.05", "壹元零伍分"),
    ("1.50", "壹元伍角"),
    ("10", "壹拾元整"),
    ("10.05", "壹拾元零伍分"),
    ("11", "壹拾壹元整"),
    ("19.99", "壹拾玖元玖角玖分"),
    ("100", "壹佰元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("1409.50", "壹仟肆佰零玖元伍角"),
    ("10000", "壹万元整"),
    ("10010", "壹万零壹拾元整"),
    ("10100", "壹万零壹佰元整"),
    ("11062.67", "壹万壹仟零陆拾贰元陆角柒分"),
    ("100000.50", "壹拾万元伍角"),
    ("100010", "壹拾万零壹拾元整"),
    ("105000", "壹拾万零伍仟元整"),
    ("107000.53", "壹拾万零柒仟元伍角叁分"),
    ("110000", "壹拾壹万元整"),
    ("1010000", "壹佰零壹万元整"),
    ("10001000", "壹仟万零壹仟元整"),
    ("100000000", "壹亿元整"),
    ("100000001", "壹亿零壹元整"),
    ("100010000", "壹亿零壹万元整"),
    ("110000000", "壹亿壹仟万元整"),
    ("1000000000.00", "壹拾亿元整"),
    ("1010000000", "壹拾亿零壹仟万元整"),
    ("100001000000", "壹仟亿零壹佰万元整"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("1000000000000", "壹万亿元整"),
]


@pytest.mark.parametrize(("amount", "words"), CLASSIC)
def test_classic_amounts_are_written_by_the_bank_convention(amount: str, words: str) -> None:
    assert to_uppercase_cny(amount) == words
    assert to_uppercase_cny(Decimal(amount)) == words


@pytest.mark.parametrize(
    ("amount", "words"),
    [(0, "零元整"), (10, "壹拾元整"), (10**12, "壹万亿元整"),
     (Decimal("12.3400"), "壹拾贰元叁角肆分"), (Decimal("1E+3"), "壹仟元整"),
     (Decimal("-0"), "零元整"), (" 7 ", "柒元整")],
)
def test_ints_trailing_zeros_exponents_and_negative_zero_are_accepted(
    amount: Decimal | int | str, words: str
) -> None:
    assert to_uppercase_cny(amount) == words


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1.005", "smaller than one fen"),
        (Decimal("0.001"), "smaller than one fen"),
        ("1e-999999999", "smaller than one fen"),
        ("-0.01", "negative"),
        (-1, "negative"),
        ("NaN", "not a number"),
        (Decimal("sNaN"), "not a number"),
        ("abc", "not a number"),
        ("", "not a number"),
        ("Infinity", "infinite"),
        ("1000000000000.01", "more than 1,000,000,000,000 yuan"),
        (10**12 + 1, "more than 1,000,000,000,000 yuan"),
    ],
)
def test_bad_amounts_are_refused_naming_the_amount_and_the_reason(
    amount: Decimal | int | str, reason: str
) -> None:
    with pytest.raises(AmountError) as caught:
        to_uppercase_cny(amount)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert str(amount) in message
    assert reason in message


def test_the_refusal_message_reads_as_a_sentence() -> None:
    with pytest.raises(ValueError, match=re.escape(
        "cannot write the amount '1.005' in words (大写): it has a part smaller than one fen"
    )):
        to_uppercase_cny("1.005")


@pytest.mark.parametrize("amount", [1.5, 0.0, float("nan"), True, None, [1]])
def test_floats_and_other_types_are_refused_with_type_error(amount: object) -> None:
    with pytest.raises(TypeError, match="Decimal, an int or a decimal string"):
        to_uppercase_cny(amount)  # type: ignore[arg-type]


def read_doc_table() -> list[tuple[str, str]]:
    """Return the (amount, 大写) rows of the docs' "Amounts in words" table."""
    section = DOC.read_text(encoding="utf-8").split("## Amounts in words (大写)", 1)[1]
    rows = re.findall(r"^\| *([0-9.]+) *\| *(\S+) *\|$", section, flags=re.MULTILINE)
    return [(amount, words) for amount, words in rows]


def test_the_docs_table_matches_the_function() -> None:
    rows = read_doc_table()
    assert len(rows) >= 15
    assert [(a, to_uppercase_cny(a)) for a, _ in rows] == rows


# ---- properties -----------------------------------------------------------

FRACTION = re.compile(r"(?:([壹贰叁肆伍陆柒捌玖])角)?(?:零?([壹贰叁肆伍陆柒捌玖])分)?")
DIGIT_VALUES = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}


def read_back(words: str) -> Decimal:
    """Read 大写 back to a Decimal: the yuan part by cn2an, 角/分 here."""
    if words == "零元整":
        return Decimal(0)
    yuan_text, _, rest = words.rpartition("元")
    yuan = cn2an.cn2an(yuan_text, "normal") if yuan_text else 0
    rest = rest.removesuffix("整")
    match = FRACTION.fullmatch(rest)
    assert match, f"unexpected 角/分 part {rest!r} in {words!r}"
    jiao, fen = (DIGIT_VALUES[g] if g else 0 for g in match.groups())
    return Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100


def amount_from(cents: int, places: int) -> Decimal:
    """`cents` hundredths of a yuan written with 0, 1 or 2 decimal places."""
    return (Decimal(cents) / 100).quantize(Decimal(1).scaleb(-places))


# Sparse digits (mostly zeros) reach the runs of 零 and the 万/亿 boundaries
# that uniform random amounts rarely produce.
sparse_cents = st.lists(
    st.sampled_from("0000000123456789"), min_size=1, max_size=14
).map(lambda ds: int("".join(ds)))
whole_cents = st.integers(0, MAXIMUM).map(lambda yuan: yuan * 100)
any_cents = st.integers(0, MAXIMUM * 100)
amounts = st.builds(
    lambda cents, places: amount_from(cents - cents % 10 ** (2 - places), places),
    st.one_of(sparse_cents, whole_cents, any_cents).filter(lambda c: c <= MAXIMUM * 100),
    st.integers(0, 2),
)


@given(amounts)
@example(Decimal(0))  # the only text with 零 first
@example(Decimal("0.05"))  # no yuan part, no 角
@example(Decimal("1.05"))  # 零 between 元 and 分
@example(Decimal("10001000"))  # a run of zeros across the 万 boundary
@example(Decimal("100000001"))  # the longest run of zeros below 亿
@example(Decimal(MAXIMUM))  # the largest amount, 壹万亿
@example(Decimal("999999999999.99"))  # every place non-zero
def test_cn2an_reads_back_the_amount(amount: Decimal) -> None:
    assert read_back(to_uppercase_cny(amount)) == amount


@given(amounts)
@example(Decimal("105000"))  # zero 万位 between non-zero digits
@example(Decimal("1010000000"))  # zero 亿位 between non-zero digits
def test_only_the_zero_after_a_group_word_differs_from_cn2an(amount: Decimal) -> None:
    # cn2an writes 零 after 万/亿 only when the lower group starts with zero;
    # this module also writes it when the group word's own digit is zero.
    def drop_zero_after_group(words: str) -> str:
        return re.sub("(?<=[万亿])零", "", words)

    ours = to_uppercase_cny(amount)
    theirs = cn2an.an2cn(str(amount), "rmb")
    assert drop_zero_after_group(ours) == drop_zero_after_group(theirs)


@given(amounts)
@example(Decimal("100010"))  # one 零 for a run of three zeros
@example(Decimal("0.50"))  # 角 alone, no 整
def test_zeros_are_single_never_at_the_ends_and_zheng_only_without_jiao_or_fen(
    amount: Decimal,
) -> None:
    words = to_uppercase_cny(amount)
    assert "零零" not in words
    if amount:
        assert not words.startswith("零")
    assert not words.endswith("零")
    assert "零元" not in words or amount == 0
    has_jiao_or_fen = "角" in words or "分" in words
    assert words.endswith("整") != has_jiao_or_fen
    assert words.count("整") <= 1
    jiao, fen = divmod(int(amount * 100) % 100, 10)
    assert ("角" in words) == (jiao != 0)
    assert ("分" in words) == (fen != 0)


@given(amounts)
@example(Decimal("10"))  # a leading ten
@example(Decimal("100000.50"))  # a leading ten in the 万 group
def test_a_leading_ten_is_written_yi_shi(amount: Decimal) -> None:
    words = to_uppercase_cny(amount)
    assert not words.startswith("拾")
    assert "零拾" not in words
    assert set(words) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")


@given(amounts)
def test_trailing_zero_places_do_not_change_the_words(amount: Decimal) -> None:
    assert to_uppercase_cny(amount) == to_uppercase_cny(amount.quantize(Decimal("0.01")))
    assert to_uppercase_cny(amount) == to_uppercase_cny(str(amount))
