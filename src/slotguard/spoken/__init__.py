"""What callers say, made exact: spoken email addresses and service names.

Pure: no I/O, no clock. German and English.
"""

from slotguard.spoken.email import InvalidEmail, spoken_email
from slotguard.spoken.services import AmbiguousMatch, ServiceNames, match_service

__all__ = ["AmbiguousMatch", "InvalidEmail", "ServiceNames", "match_service", "spoken_email"]
