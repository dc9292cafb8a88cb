"""People of a household: a phone number names a household, the spoken name picks the person."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TypeVar

_Named = TypeVar("_Named")
_FOLDS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


def fold(text: str) -> str:
    """Case, umlaut, hyphen and whitespace folded: "Müller-Lüd " → "mueller lued"."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    for a, b in _FOLDS:
        text = text.replace(a, b)
    return " ".join(text.replace("-", " ").split())


def name_key(name: str | None) -> str | None:
    """The key two spellings of one name share; None for no name."""
    if not name:
        return None
    return fold(name) or None


def pick(people: Sequence[tuple[str | None, _Named]], name: str) -> _Named | None:
    """The person ``name`` means among ``(name, person)`` pairs, or None for someone new.

    The whole folded name must match; a first name alone, or a full name where only the first
    name is known, picks the only person whose first name it is.
    """
    wanted = name_key(name)
    if wanted is None:
        return None
    keyed = [(name_key(known), person) for known, person in people]
    for key, person in keyed:
        if key == wanted:
            return person
    first = wanted.split()[0]
    partial = [
        person
        for key, person in keyed
        if key is not None
        and key.split()[0] == first
        and (len(wanted.split()) == 1 or len(key.split()) == 1)
    ]
    return partial[0] if len(partial) == 1 else None
