"""Amounts in words: a money amount in Chinese uppercase financial numerals (大写).

Stage: rendering notices (催收通知书), after the decision; a leaf helper.
Input: an amount in yuan as a `Decimal`, an `int` or a decimal string,
0 to 10^12 inclusive, with at most two decimal places (角 and 分).
Output: the 大写 text, e.g. 11062.67 -> 壹万壹仟零陆拾贰元陆角柒分.
Must not: touch a float (a binary float is refused, never rounded); round
an amount (1.005 is refused, not written as 壹元零分); return a blank or
partial text (a bad amount raises `AmountError`, a `ValueError`).

Conventions (after the 《支付结算办法》 rules for bills; docs/notices.md):
- 拾 at the head is written 壹拾 (10 -> 壹拾元整), so nothing can be
  written in front of it.
- Groups are 万 and 亿; 10^12 reads 壹万亿 (兆 is ambiguous and not used).
- Integer part: one 零 for each run of zero digits between non-zero
  digits, across 万/亿 boundaries too (10001000 -> 壹仟万零壹仟,
  105000 -> 壹拾万零伍仟); never a leading or trailing 零.
- 元 is followed directly by 角: the optional 零 after a zero 元位 is not
  written (100000.50 -> 壹拾万元伍角, 1680.32 -> 壹仟陆佰捌拾元叁角贰分).
- 零 stands between 元 and 分 when 角 is zero (1.05 -> 壹元零伍分).
- No integer part is written below one yuan (0.05 -> 伍分, 0.5 -> 伍角);
  zero is 零元整.
- 整 ends the text exactly when there is no 角 and no 分 (10 -> 壹拾元整,
  10.50 -> 壹拾元伍角, no 整 after 角).
"""

from __future__ import annotations

import decimal
from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
MAXIMUM = Decimal(10) ** 12
CENT = Decimal("0.01")
# Enough digits for any amount accepted (13 before the point, 2 after).
EXACT = decimal.Context(prec=40, traps=[decimal.InvalidOperation])


class AmountError(ValueError):
    """An amount that cannot be written in 大写; says which and why."""

    def __init__(self, amount: object, reason: str) -> None:
        self.amount = amount
        self.reason = reason
        super().__init__(f"cannot write the amount {amount} in words (大写): {reason}")


def to_uppercase_cny(amount: Decimal | int | str) -> str:
    """Return `amount` yuan in 大写 (see the module's conventions).

    Raises TypeError for a float or another type, AmountError otherwise.
    """
    value = to_exact_decimal(amount)
    with decimal.localcontext(EXACT):
        cents = int(value * 100)
    yuan, fraction = divmod(cents, 100)
    jiao, fen = divmod(fraction, 10)
    if cents == 0:
        return "零元整"
    head = write_integer(yuan) + "元" if yuan else ""
    if fraction == 0:
        return head + "整"
    tail = DIGITS[jiao] + "角" if jiao else ("零" if yuan else "")
    return head + tail + (DIGITS[fen] + "分" if fen else "")


def to_exact_decimal(amount: object) -> Decimal:
    """Return `amount` as a Decimal in range with whole 分, or raise."""
    if isinstance(amount, float):
        raise TypeError(
            f"amount {amount!r} is a float; pass a Decimal, an int or a decimal string"
            " so that no binary rounding reaches a legal document"
        )
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise TypeError(
            f"amount {amount!r} is a {type(amount).__name__}; pass a Decimal, an int"
            " or a decimal string"
        )
    shown = repr(amount) if isinstance(amount, str) else str(amount)
    try:
        value = Decimal(amount)
    except decimal.InvalidOperation:
        raise AmountError(shown, "it is not a number") from None
    if value.is_nan():
        raise AmountError(shown, "it is not a number")
    if value.is_infinite():
        raise AmountError(shown, "it is infinite; an amount must be a finite number of yuan")
    if value < 0:
        raise AmountError(shown, "it is negative; an amount written in words must be 0 or more")
    if value > MAXIMUM:
        raise AmountError(
            shown, "it is more than 1,000,000,000,000 yuan (壹万亿元), the largest amount written"
        )
    with decimal.localcontext(EXACT):
        if value.quantize(CENT) != value:
            raise AmountError(
                shown, "it has a part smaller than one fen (分); round it to 2 decimal places first"
            )
    return value


def write_integer(number: int) -> str:
    """Return a whole number 1..10^12 in 大写, without 元."""
    digits = str(number)
    top = len(digits) - 1
    words: list[str] = []
    zeros_pending = False
    # position 12 occurs only for 10^12 itself: 壹万, then the 亿 below.
    for position, char in zip(range(top, -1, -1), digits, strict=True):
        digit = int(char)
        if digit:
            if zeros_pending:
                words.append("零")
            words.append(DIGITS[digit] + PLACES[position % 4] + ("万" if position == 12 else ""))
        zeros_pending = digit == 0
        # 万 and 亿 close a group that has a non-zero digit; a pending 零
        # carries over the boundary (10001000 -> 壹仟万零壹仟).
        if position == 4 and number // 10**4 % 10**4:
            words.append("万")
        if position == 8 and number // 10**8:
            words.append("亿")
    return "".join(words)
