"""Spoken email addresses: the table of what speech-to-text writes and what we keep."""

from __future__ import annotations

import pytest

from slotguard.spoken import InvalidEmail, spoken_email

TABLE: list[tuple[str, str | None]] = [
    # what the agent sends                          the address (None: refused)
    ("max@example.com",                             "max@example.com"),
    ("Max@Example.COM",                             "max@example.com"),
    ("max at example dot com",                      "max@example.com"),
    ("MAX AT EXAMPLE DOT COM",                      "max@example.com"),
    ("max at example.com",                          "max@example.com"),
    ("max@example dot com",                         "max@example.com"),
    ("max ät web punkt de",                         "max@web.de"),
    ("Max Ät Web Punkt De",                         "max@web.de"),
    ("max at-zeichen web punkt de",                 "max@web.de"),
    ("max klammeraffe web punkt de",                "max@web.de"),
    ("max punkt mustermann at gmail punkt com",     "max.mustermann@gmail.com"),
    ("max dot mustermann at gmail dot com",         "max.mustermann@gmail.com"),
    ("max minus mueller at web punkt de",           "max-mueller@web.de"),
    ("max dash mueller at web dot de",              "max-mueller@web.de"),
    ("anna unterstrich b at example punkt org",     "anna_b@example.org"),
    ("anna underscore b at example dot org",        "anna_b@example.org"),
    ("anna plus salon at example dot org",          "anna+salon@example.org"),
    ("max at mail punkt example punkt co punkt uk", "max@mail.example.co.uk"),
    ("max 123 at example dot com",                  "max123@example.com"),
    ("kat@example.com",                             "kat@example.com"),
    ("  max@example.com. ",                         "max@example.com"),
    ("dot@example.com",                             "dot@example.com"),
    ("max at example",                              None),
    ("max at example dot",                          None),
    ("at example dot com",                          None),
    ("max example dot com",                         None),
    ("max at at example dot com",                   None),
    ("hallo",                                       None),
    ("max müller at web punkt de",                  None),
    ("max@@example.com",                            None),
]  # fmt: skip


@pytest.mark.parametrize(("said", "address"), TABLE, ids=[s for s, _ in TABLE])
def test_spoken_email(said: str, address: str | None) -> None:
    """Each spoken form becomes its address, or is refused with the reason."""
    if address is None:
        with pytest.raises(InvalidEmail) as caught:
            spoken_email(said)
        assert caught.value.text == said
        assert caught.value.problem
        return
    assert spoken_email(said) == address
