"""A spoken email address ("max at example dot com", "max ät web punkt de") → a valid address.

Speech-to-text writes what was said: "at", "ät", "dot", "punkt", "minus", "unterstrich".
These words become their symbols, the spaces between the parts go (an address has none), and
the result is checked by email-validator for syntax only (no DNS look-up during a call).
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

__all__ = ["InvalidEmail", "spoken_email"]

_SPOKEN_SYMBOLS: tuple[tuple[str, str], ...] = (
    (r"at[\s-]?zeichen|klammeraffe|at\s+sign", "@"),
    (r"at|ät|aet|aett|ätt", "@"),
    (r"dot|punkt|point", "."),
    (r"minus|bindestrich|dash|hyphen", "-"),
    (r"unterstrich|underscore|tiefstrich|underline", "_"),
    (r"plus", "+"),
)
_WORD = r"(?<![\w.@+-])(?:{})(?![\w@+-])"


class InvalidEmail(ValueError):
    """The text is no email address, even read as spoken."""

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"{text!r}: {problem}")
        self.text = text
        self.problem = problem


def spoken_email(text: str) -> str:
    """The address `text` says, in lower case (spoken letters have no case); raises InvalidEmail."""
    written = text.strip().strip(".,;!?<>\"'")
    for spoken, symbol in _SPOKEN_SYMBOLS:
        if symbol == "@" and "@" in written:
            continue  # an address already written out keeps an "at" in a name part
        written = re.sub(_WORD.format(spoken), f" {symbol} ", written, flags=re.IGNORECASE)
    written = "".join(written.split()).lower()
    try:
        valid = validate_email(written, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as problem:
        raise InvalidEmail(text, str(problem)) from None
    return str(valid.normalized)
