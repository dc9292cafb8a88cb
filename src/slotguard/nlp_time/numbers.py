"""Cardinal and ordinal number words, German and English, as lookup tables.

Spellings are the normalized ones (lower case, umlauts as ae/oe/ue, ß as ss; see `text`).
"""

from __future__ import annotations

import re

__all__ = ["cardinal", "ordinal"]

_DE_SMALL = [
    "null",
    "eins",
    "zwei",
    "drei",
    "vier",
    "fuenf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwoelf",
    "dreizehn",
    "vierzehn",
    "fuenfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
]
_DE_TENS = {20: "zwanzig", 30: "dreissig", 40: "vierzig", 50: "fuenfzig"}
_EN_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty"}
# "ein Uhr", "in einer Woche"; "zwo" is said on the phone so "zwei" is not heard as "drei".
_CARDINAL_ALIASES = {"ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1, "zwo": 2}
_DE_ORDINAL_STEMS = {1: "erst", 3: "dritt", 7: "siebt", 8: "acht"}  # the irregular ones
_EN_ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
]
_DE_ENDINGS = ("e", "er", "en", "em", "es")  # "der zweite", "am zweiten", "zweiter Dezember"
_DIGITS = re.compile(r"\d{1,2}")
_DIGIT_ORDINAL = re.compile(r"(\d{1,2})\.")


def _de_word(n: int) -> str:
    """German spelling of 0..59: 'vierzehn', 'einundzwanzig'."""
    if n < 20:
        return _DE_SMALL[n]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _DE_TENS[n]
    return f"{'ein' if unit == 1 else _DE_SMALL[unit]}und{_DE_TENS[tens * 10]}"


def _en_word(n: int) -> str:
    """English spelling of 0..59: 'fourteen', 'twenty-one'."""
    if n < 20:
        return _EN_SMALL[n]
    tens, unit = divmod(n, 10)
    return _EN_TENS[n] if unit == 0 else f"{_EN_TENS[tens * 10]}-{_EN_SMALL[unit]}"


def _de_ordinal_stem(n: int) -> str:
    """German ordinal stem of 1..31: 'zweit', 'zwanzigst'."""
    if n in _DE_ORDINAL_STEMS:
        return _DE_ORDINAL_STEMS[n]
    return _de_word(n) + ("t" if n < 20 else "st")


def _en_ordinal(n: int) -> str:
    """English ordinal of 1..31: 'second', 'twentieth', 'thirty-first'."""
    if n < 13:
        return _EN_ORDINALS[n]
    if n < 20:
        return _EN_SMALL[n] + "th"
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _EN_TENS[n].removesuffix("y") + "ieth"
    return f"{_EN_TENS[tens * 10]}-{_EN_ORDINALS[unit]}"


def _build_cardinals() -> dict[str, int]:
    """Every spelling of 0..59."""
    words = {_de_word(n): n for n in range(60)}
    words.update({_en_word(n): n for n in range(60)})
    words.update(_CARDINAL_ALIASES)
    return words


def _build_ordinals() -> dict[str, int]:
    """Every spelling of the ordinals 1..31 (the days of a month)."""
    words: dict[str, int] = {}
    for n in range(1, 32):
        words.update({_de_ordinal_stem(n) + ending: n for ending in _DE_ENDINGS})
        words[_en_ordinal(n)] = n
    return words


_CARDINALS = _build_cardinals()
_ORDINALS = _build_ordinals()


def cardinal(token: str) -> int | None:
    """The value of a one- or two-digit number or a number word (0..59), else None."""
    if _DIGITS.fullmatch(token):
        return int(token)
    return _CARDINALS.get(token)


def ordinal(token: str) -> int | None:
    """The value of an ordinal such as '2.', 'zweiten' or 'second' (1..31), else None."""
    if match := _DIGIT_ORDINAL.fullmatch(token):
        return int(match.group(1))
    return _ORDINALS.get(token)
