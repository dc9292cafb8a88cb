"""Retell custom-tool definitions for every function, ready to paste into Retell's dashboard/API."""

from __future__ import annotations

from typing import Any

# Retell's default is 120 s; our functions answer in milliseconds plus one calendar call, and
# a shorter limit lets the agent recover sooner when the calendar hangs.
TOOL_TIMEOUT_MS = 20_000

_TEXT = {"type": "string"}
_ARGS: dict[str, dict[str, str]] = {
    "customer_name": {"de": "Vor- und Nachname des Anrufers", "en": "Caller's full name"},
    "customer_email": {"de": "E-Mail-Adresse, falls genannt", "en": "Email address, if given"},
    "service": {
        "de": "Gewünschte Leistung, wie genannt (z. B. Haarschnitt)",
        "en": "Requested service as said (e.g. haircut)",
    },
    "date": {
        "de": "Datum wie gesagt oder ISO (z. B. morgen, nächsten Dienstag, 2026-12-02)",
        "en": "Date as said or ISO (e.g. tomorrow, next Tuesday, 2026-12-02)",
    },
    "time": {
        "de": "Uhrzeit wie gesagt oder ISO (z. B. 14 Uhr, halb drei, 14:30)",
        "en": "Time as said or ISO (e.g. 2pm, half past two, 14:30)",
    },
    "staff": {
        "de": "Gewünschte Mitarbeiterin/gewünschter Mitarbeiter, wie genannt (z. B. Anna, bei Anna, egal)",
        "en": "Wished staff member as said (e.g. Anna, with Anna, anyone)",
    },
    "new_date": {"de": "Neues Datum", "en": "New date"},
    "new_time": {"de": "Neue Uhrzeit", "en": "New time"},
}
_CONFIRM_DESCRIPTION = {
    "de": "true nur, wenn der Anrufer nach der Warnung same_day ausdrücklich einen weiteren Termin am selben Tag will",
    "en": "true only when the caller, after a same_day warning, explicitly wants another appointment that day",
}
# name → (description per language, required args, optional args)
FUNCTIONS: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]] = {
    "check_customer": (
        {"de": "Prüft zu Beginn des Gesprächs, ob der Anrufer bekannt ist und welche Termine er hat. Nennt household mehrere Personen, fragen, wer anruft.", "en": "At the start of the call: is the caller known, and which appointments do they have? If household names several people, ask who is calling."},
        (), (),
    ),
    "check_availability": (
        {"de": "Prüft, ob eine Leistung zu einem Datum (und einer Uhrzeit) frei ist; nennt Alternativen.", "en": "Checks whether a service is free at a date (and time); offers alternatives."},
        ("service", "date"), ("time", "staff"),
    ),
    "collect_appointment_data": (
        {"de": "Sobald Name, Leistung, Datum und Uhrzeit bekannt sind: warnt sofort vor bestehenden Terminen.", "en": "As soon as name, service, date and time are known: warns at once about existing appointments."},
        ("customer_name", "service", "date", "time"), ("customer_email", "staff"),
    ),
    "book_appointment": (
        {"de": "Bucht den Termin. Nie ohne Zustimmung des Anrufers aufrufen.", "en": "Books the appointment. Never call without the caller's consent."},
        ("customer_name", "service", "date", "time"), ("customer_email", "confirm_duplicate", "staff"),
    ),
    "query_appointment": (
        {"de": "Nennt die anstehenden Termine des Anrufers, optional an einem Datum.", "en": "Lists the caller's upcoming appointments, optionally on one date."},
        (), ("date",),
    ),
    "reschedule_appointment": (
        {"de": "Verschiebt einen Termin des Anrufers auf ein neues Datum und eine neue Uhrzeit. Datum und Uhrzeit des alten Termins müssen genau passen; bei not_found oder ambiguous nachfragen, welcher Termin gemeint ist.", "en": "Moves one of the caller's appointments to a new date and time. The old appointment's date and time must match exactly; on not_found or ambiguous ask which appointment is meant."},
        ("new_date", "new_time"), ("date", "time", "service"),
    ),
    "cancel_appointment": (
        {"de": "Storniert einen Termin des Anrufers. Datum und Uhrzeit müssen genau passen; bei not_found oder ambiguous nachfragen, welcher Termin gemeint ist.", "en": "Cancels one of the caller's appointments. Date and time must match exactly; on not_found or ambiguous ask which appointment is meant."},
        (), ("date", "time", "service"),
    ),
}  # fmt: skip


def tool_definitions(base_url: str, language: str = "de") -> list[dict[str, Any]]:
    """Retell ``custom`` tools pointing at ``{base_url}/retell/functions/{name}``."""
    base = base_url.rstrip("/")
    tools = []
    for name, (description, required, optional) in FUNCTIONS.items():
        properties: dict[str, Any] = {}
        for arg in (*required, *optional):
            if arg == "confirm_duplicate":
                properties[arg] = {
                    "type": "boolean",
                    "description": _CONFIRM_DESCRIPTION[language],
                }
            else:
                properties[arg] = {**_TEXT, "description": _ARGS[arg][language]}
        tools.append(
            {
                "type": "custom",
                "name": name,
                "description": description[language],
                "url": f"{base}/retell/functions/{name}",
                "method": "POST",
                "timeout_ms": TOOL_TIMEOUT_MS,
                "speak_during_execution": name in ("book_appointment", "reschedule_appointment"),
                "speak_after_execution": True,
                "args_at_root": False,
                "parameters": {
                    "type": "object",
                    "properties": properties,
                    "required": list(required),
                },
            }
        )
    return tools
