"""Which service a caller means: the matching table, German and English.

SALON is a salon without aliases (matching must work from the names alone); ALIASED has the
aliases a salon would configure; PRACTICE_EN is an English-speaking business.
"""

from __future__ import annotations

import pytest

from slotguard.spoken import AmbiguousMatch, ServiceNames, match_service


def _services(*entries: tuple[str, ...]) -> list[ServiceNames]:
    return [ServiceNames(names[0], names) for names in entries]


SALON = _services(
    ("Herrenhaarschnitt",), ("Damenhaarschnitt",), ("Färben",), ("Bartpflege",), ("Strähnen",)
)
ALIASED = _services(
    ("Herrenhaarschnitt", "Haarschnitt", "Männerhaarschnitt"),
    ("Färben", "Haare färben", "Coloration"),
    ("Bartpflege",),
)
PRACTICE_EN = _services(
    ("Men's haircut",), ("Women's haircut",), ("Colouring",), ("Beard trim",), ("Highlights",)
)
SETS = {"salon": SALON, "aliased": ALIASED, "en": PRACTICE_EN}

# (service set, what the caller said, expected: a key, None for no match, or "?a|b" to ask)
TABLE: list[tuple[str, str, str | None]] = [
    # --- exact names and aliases, any case
    ("salon",   "Herrenhaarschnitt",            "Herrenhaarschnitt"),
    ("salon",   "herrenhaarschnitt",            "Herrenhaarschnitt"),
    ("salon",   "HERRENHAARSCHNITT",            "Herrenhaarschnitt"),
    ("salon",   "Färben",                       "Färben"),
    ("salon",   "Faerben",                      "Färben"),
    ("aliased", "Haarschnitt",                  "Herrenhaarschnitt"),
    ("aliased", "Männerhaarschnitt",            "Herrenhaarschnitt"),
    ("aliased", "Coloration",                   "Färben"),
    ("aliased", "Haare färben",                 "Färben"),
    # --- more words than the name
    ("salon",   "Haare färben",                 "Färben"),
    ("salon",   "Haare färben lassen",          "Färben"),
    ("salon",   "die Haare färben",             "Färben"),
    ("salon",   "ich möchte die Haare färben",  "Färben"),
    ("salon",   "Schnitt für Herren",           "Herrenhaarschnitt"),
    ("salon",   "einen Herrenhaarschnitt bitte", "Herrenhaarschnitt"),
    ("salon",   "Herren Haarschnitt",           "Herrenhaarschnitt"),
    ("salon",   "Haarschnitt für Herren",       "Herrenhaarschnitt"),
    ("salon",   "Haarschnitt Damen",            "Damenhaarschnitt"),
    # --- a part of a compound left out, or said alone
    ("salon",   "Herrenschnitt",                "Herrenhaarschnitt"),
    ("salon",   "Damenschnitt",                 "Damenhaarschnitt"),
    ("salon",   "Bart",                         "Bartpflege"),
    ("aliased", "Männerschnitt",                "Herrenhaarschnitt"),
    # --- inflections
    ("salon",   "Farbe",                        "Färben"),
    ("salon",   "Färbung",                      "Färben"),
    ("salon",   "Strähnchen",                   "Strähnen"),
    ("salon",   "Strähne",                      "Strähnen"),
    ("salon",   "Herrenhaarschnitte",           "Herrenhaarschnitt"),
    # --- slips of speech-to-text
    ("salon",   "Herrenhaarschnit",             "Herrenhaarschnitt"),
    ("salon",   "Damenhaarschnit",              "Damenhaarschnitt"),
    ("salon",   "Bartpflge",                    "Bartpflege"),
    # --- two close candidates: ask which
    ("salon",   "Haarschnitt",                  "?Damenhaarschnitt|Herrenhaarschnitt"),
    ("salon",   "Schnitt",                      "?Damenhaarschnitt|Herrenhaarschnitt"),
    ("salon",   "Haare",                        "?Damenhaarschnitt|Herrenhaarschnitt"),
    ("en",      "haircut",                      "?Men's haircut|Women's haircut"),
    # --- not offered
    ("salon",   "Massage",                      None),
    ("salon",   "Dauerwelle",                   None),
    ("salon",   "Maniküre",                     None),
    ("salon",   "Termin",                       None),
    ("aliased", "Damenschnitt",                 None),
    ("en",      "massage",                      None),
    ("en",      "oil change",                   None),
    # --- English
    ("en",      "Men's haircut",                "Men's haircut"),
    ("en",      "mens haircut",                 "Men's haircut"),
    ("en",      "haircut for men",              "Men's haircut"),
    ("en",      "a women's haircut please",     "Women's haircut"),
    ("en",      "men's cut",                    "Men's haircut"),
    ("en",      "colouring",                    "Colouring"),
    ("en",      "colour",                       "Colouring"),
    ("en",      "coloring",                     "Colouring"),
    ("en",      "beard",                        "Beard trim"),
    ("en",      "trim my beard",                "Beard trim"),
    ("en",      "highlight",                    "Highlights"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("services", "said", "expected"), TABLE, ids=[f"{s}: {w}" for s, w, _ in TABLE]
)
def test_match(services: str, said: str, expected: str | None) -> None:
    """Each request finds its service, none, or the candidates to ask about."""
    if expected is not None and expected.startswith("?"):
        with pytest.raises(AmbiguousMatch) as caught:
            match_service(said, SETS[services])
        assert caught.value.candidates == expected[1:].split("|")
        return
    assert match_service(said, SETS[services]) == expected


def test_table_size() -> None:
    """The table has at least 40 distinct rows."""
    assert len({(s, w) for s, w, _ in TABLE}) == len(TABLE) >= 40
