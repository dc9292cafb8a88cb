"""Which offered service a caller means: by name or alias, by word parts, by inflection.

"Herrenschnitt" is "Herrenhaarschnitt" with a part left out, "Haare färben" says "Färben" with
a word more, "Farbe" is an inflection of it, "Damenhaarschnit" a slip. Each spelling a service
answers to (name and aliases) is scored 0-100 against the request; the best service wins when
it reaches THRESHOLD and no other comes within MARGIN of it. Otherwise the candidates are
returned so that the agent can ask which one was meant.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

__all__ = ["MARGIN", "THRESHOLD", "AmbiguousMatch", "ServiceNames", "match_service", "score"]

THRESHOLD = 80
MARGIN = 8
# Words that carry no meaning for which service is meant (folded like the requests).
_FILLER_WORDS = (
    "ein", "eine", "einen", "einem", "einer", "der", "die", "das", "den", "dem", "des", "für",
    "zum", "zur", "mal", "bitte", "gerne", "gern", "lassen", "machen", "nur", "mein", "meine",
    "meinen", "ich", "möchte", "termin", "neu", "neue", "neuen", "und", "a", "an", "the",
    "for", "my", "please", "appointment", "new", "i", "would", "like", "to", "get", "have",
    "and",
)  # fmt: skip
# German and English inflection endings, longest first; a stem keeps at least three letters.
_VOWEL_PAIRS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
_ENDINGS = ("ungen", "ung", "ern", "en", "er", "es", "e", "n", "s", "ing")


@dataclass(frozen=True)
class ServiceNames:
    """One offered service: its key (e.g. the name) and every spelling it answers to."""

    key: str
    spellings: tuple[str, ...]


class AmbiguousMatch(Exception):
    """Two or more services fit the request about equally well."""

    def __init__(self, requested: str, candidates: list[str]) -> None:
        super().__init__(f"{requested!r} could be {candidates}")
        self.requested = requested
        self.candidates = candidates


def _words(text: str) -> list[str]:
    """Lower case, accents and umlauts folded ("Färben", "Faerben" → "farben"), split."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    for pair, single in _VOWEL_PAIRS:
        folded = folded.replace(pair, single)
    return [w for w in re.split(r"[^a-z0-9]+", folded.replace("'s", "s")) if w]


_FILLERS = frozenset(word for filler in _FILLER_WORDS for word in _words(filler))


def _stems(text: str) -> list[str]:
    """The folded words without fillers, inflection endings cut."""
    return [_stem(w) for w in _words(text) if w not in _FILLERS]


def _stem(word: str) -> str:
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _joined_orders(words: list[str]) -> list[str]:
    """The words run together, in each order (a few words only)."""
    if len(words) > 3:
        return ["".join(words)]
    return ["".join(order) for order in itertools.permutations(words)]


def _drops_a_part(said: str, spelling: str) -> bool:
    """'herrenschnitt' is 'herren' + 'schnitt' of 'herrenhaarschnitt', a middle part left out."""
    if len(said) < 6 or len(said) >= len(spelling):
        return False
    return any(
        spelling.startswith(said[:cut]) and spelling.endswith(said[cut:])
        for cut in range(3, len(said) - 2)
    )


# Agents say the same few services all day: a scored pair is kept (bounded, per process).
@lru_cache(maxsize=8192)
def score(requested: str, spelling: str) -> float:
    """How well `requested` names `spelling`, 0-100."""
    said, meant = _stems(requested), _stems(spelling)
    if not said or not meant:
        return 0.0
    target = "".join(meant)
    orders = _joined_orders(said)
    if target in orders:
        return 100.0
    best = max(fuzz.ratio(order, target) for order in orders)
    if any(_drops_a_part(order, target) for order in orders):
        best = max(best, 92.0)
    if set(said) < set(meant) or set(meant) < set(said):
        best = max(best, 90.0)  # "haare faerben" for "faerben", "faerben" for "haare faerben"
    if len(said) == 1 and len(said[0]) >= 4 and said[0] in target:
        best = max(best, 85.0)  # a word part: "bart" in "bartpflege"
    return float(best)


def match_service(requested: str, services: Sequence[ServiceNames]) -> str | None:
    """The key of the service meant, None when none fits; raises AmbiguousMatch."""
    scored = sorted(
        (
            (max(score(requested, s) for s in service.spellings), service.key)
            for service in services
        ),
        reverse=True,
    )
    fitting = [(points, key) for points, key in scored if points >= THRESHOLD]
    if not fitting:
        return None
    best = fitting[0][0]
    close = [key for points, key in fitting if best - points < MARGIN]
    if len(close) > 1 and best < 100:
        raise AmbiguousMatch(requested, sorted(close))
    return fitting[0][1]
