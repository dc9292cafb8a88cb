"""Public holidays of a country or region (``"DE-BY"``), from the ``holidays`` package.

The domain asks only "is this local day a holiday, and what is it called?"; this adapter
answers from the package's tables, in the company's language, and caches each year.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from slotguard.domain.salon import HolidayLookup

# The package's name for each reply language.
_LANGUAGES = {"de": "de", "en": "en_US"}


class UnknownRegion(ValueError):
    """The country or its subdivision is not known to the holidays package."""


def check_region(region: str) -> str:
    """``region`` when the package knows it; raises UnknownRegion with the reason otherwise."""
    country, _, subdiv = region.partition("-")
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise UnknownRegion(f"unknown public-holiday region {region!r} (no country {country!r})")
    if subdiv and subdiv not in supported[country]:
        raise UnknownRegion(
            f"unknown public-holiday region {region!r} ({country} has no subdivision {subdiv!r})"
        )
    return region


def lookup(region: str, language: str) -> HolidayLookup:
    """A lookup ``day → holiday name or None`` for ``region``, names in ``language``."""
    return _lookup(region, _LANGUAGES.get(language, "en_US"))


@lru_cache(maxsize=256)
def _lookup(region: str, language: str) -> HolidayLookup:
    country, _, subdiv = region.partition("-")
    table = holidays.country_holidays(country, subdiv=subdiv or None, language=language)

    def name(day: date) -> str | None:
        found = table.get(day)
        return str(found) if found else None

    return name
