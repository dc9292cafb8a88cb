"""Normalization shared by the date and time parsers: one canonical spelling per phrase."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_TOKENS", "normalize"]

# Real date or time phrases are a handful of words; longer input is not a phrase, and the
# cap keeps the split search in `resolve` cheap however much text an agent sends.
MAX_TOKENS = 12

_FOLDS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'", "´": "'"})
_WEEKDAY_OR_DAY = (
    "heute|morgen|uebermorgen|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
)
_EN_TENS = "twenty|thirty|forty|fifty"
_EN_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_EN_ORDINAL_UNITS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
# Applied in order to the lower-cased, umlaut-folded text.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bo\s*'?\s*clock\b", " uhr "),
        (r"\b([ap])\.\s?m\b\.?", r"\1m "),
        (r"(\d)(st|nd|rd|th)\b", r"\1."),  # "2nd" → "2." like the German "2."
        (r"(\d{1,2})h(\d{2})\b", r"\1:\2"),  # "14h30"
        (r"(\d)(am|pm|uhr|h)\b", r"\1 \2"),  # "2pm", "14uhr", "14h"
        (r"[^a-z0-9:./\-' ]", " "),
        (r"(?<!\d)[.:/]|[:/](?!\d)", " "),  # keep dots only after digits, ':' and '/' inside
        (r"(?<!\d)-|-(?!\d)", " "),
        (r"'", ""),
        (r"\s+", " "),
        (r"\b(\d{1,2})\. (\d{1,2})\.", r"\1.\2."),  # "2. 12. 2026"
        (r"\b(\d{1,2}\.\d{1,2}\.) (\d{4})\b", r"\1\2"),
        (rf"\b({_EN_TENS}) ({_EN_UNITS}|{_EN_ORDINAL_UNITS})\b", r"\1-\2"),
        (r"\btonight\b", "today evening"),
        (r"\bam (nachmittag|abend|vormittag|morgen|mittag)\b", r"\1s"),
        (r"\bin der (frueh|nacht)\b", r"\1"),
        (r"\bnacht\b", "nachts"),
        # after a day word "morgen" is the morning: "Montag morgen", "heute morgen"
        (rf"\b({_WEEKDAY_OR_DAY}) morgen\b", r"\1 morgens"),
    )
)


def normalize(text: str) -> list[str]:
    """Lower-case, fold umlauts (ä → ae …), drop punctuation that carries no meaning, split.

    Idempotent, so a slice of its output can be normalized again.
    """
    folded = unicodedata.normalize("NFC", text).lower().translate(_FOLDS)
    for pattern, replacement in _REWRITES:
        folded = pattern.sub(replacement, folded)
    return folded.split()
