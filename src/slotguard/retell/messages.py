"""Every sentence the agent says, per language, rendered from a Reply (Babel for dates)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime

from slotguard.booking.replies import AppointmentView, Reply, Status
from slotguard.domain import Reason

_WHEN = {"de": "EEEE, d. MMMM 'um' HH:mm 'Uhr'", "en": "EEEE, MMMM d 'at' h:mm a"}
_ON = {"de": "am", "en": "on"}

# (status, reason) → sentence, keyed by the wire values of Status and domain.Reason (plus
# "appointments"/"none"/"slots" and time-parse problems, which pick a variant); reason None
# is the status's default. Placeholders:
# {when} requested time, {existing} the existing appointment, {appointment}, {alternatives},
# {services}, {field}, {count}.
MESSAGES: dict[str, dict[tuple[str, str | None], str]] = {
    "de": {
        ("ok", None): "Der Termin {when}{with_staff} ist frei. Soll ich ihn buchen?",
        ("available", None): "Der Termin {when}{with_staff} ist frei.",
        ("available", "slots"): "Freie Termine: {alternatives}.",
        ("unavailable", None): "Der Termin {when} ist leider nicht frei. {offer}",
        ("unavailable", "day_full"): "An diesem Tag ist leider nichts mehr frei. {offer}",
        (
            "unavailable",
            "out_of_bounds",
        ): "Zu dieser Zeit kann leider nicht gebucht werden. {offer}",
        ("unavailable", "booker_limit"): "Für diese Person sind bereits zu viele Termine gebucht.",
        ("unavailable", "closed"): "{closed} {offer}",
        ("unavailable", "staff_off"): "{staff} arbeitet zu dieser Zeit nicht. {offer}",
        ("unavailable", "too_soon"): "So kurzfristig können wir leider nicht buchen. {offer}",
        (
            "unavailable",
            "too_far",
        ): "So weit im Voraus nehmen wir leider noch keine Termine an. {offer}",
        ("unavailable", "off_grid"): "Zu dieser genauen Uhrzeit beginnt kein Termin. {offer}",
        (
            "error",
            "unknown_staff",
        ): "{requested_staff} bietet diese Leistung bei uns nicht an. Möglich sind: {staff_names}.",
        (
            "warning",
            "same_day",
        ): "Sie haben an diesem Tag bereits einen Termin: {existing}. Möchten Sie diesen behalten, ihn verschieben, oder trotzdem einen weiteren Termin buchen?",
        (
            "warning",
            "same_service_upcoming",
        ): "Zur Info: Sie haben bereits einen Termin für diese Leistung: {existing}. Möchten Sie trotzdem einen weiteren buchen oder den bestehenden verschieben?",
        ("refused", "exact_duplicate"): "Diesen Termin haben Sie bereits gebucht: {existing}.",
        (
            "refused",
            "overlapping",
        ): "Zu dieser Zeit haben Sie bereits einen Termin: {existing}. Bitte wählen Sie eine andere Zeit.",
        (
            "refused",
            "daily_limit",
        ): "Sie haben an diesem Tag bereits {count} Termine, mehr sind nicht möglich. Bitte wählen Sie einen anderen Tag.",
        ("booked", None): "Ihr Termin ist gebucht: {appointment}{with_staff}.",
        (
            "pending",
            None,
        ): "Ihre Buchung {when} wird gerade bestätigt. Sie wird nicht doppelt angelegt.",
        ("pending", "busy"): "Diese Anfrage wird gerade noch bearbeitet. Einen Moment bitte.",
        ("known", None): "Willkommen zurück{name}. {upcoming}",
        ("new", None): "Sie rufen zum ersten Mal an. Wie ist Ihr Name?",
        ("rescheduled", None): "Ihr Termin wurde verschoben: {appointment}.",
        ("cancelled", None): "Ihr Termin {appointment} wurde storniert.",
        ("not_found", None): "Ich habe keinen passenden Termin gefunden.",
        (
            "error",
            "invalid_argument",
        ): "Das habe ich nicht verstanden ({field}). Können Sie das bitte wiederholen?",
        (
            "error",
            "in_past",
        ): "Dieser Zeitpunkt liegt in der Vergangenheit. Bitte nennen Sie einen späteren Termin.",
        (
            "error",
            "too_far_ahead",
        ): "So weit im Voraus kann ich keinen Termin vergeben. Bitte nennen Sie ein früheres Datum.",
        (
            "error",
            "nonexistent_time",
        ): "Diese Uhrzeit gibt es an diesem Tag wegen der Zeitumstellung nicht. Bitte nennen Sie eine andere.",
        (
            "error",
            "unknown_service",
        ): "Diese Leistung bieten wir nicht an. Möglich sind: {services}.",
        ("error", "ambiguous_service"): "Meinen Sie {candidates}?",
        (
            "error",
            "invalid_email",
        ): "Die E-Mail-Adresse habe ich nicht richtig verstanden. Können Sie sie bitte noch einmal langsam sagen?",
        ("error", "unknown_tenant"): "Dieser Anschluss ist für Terminbuchungen nicht eingerichtet.",
        (
            "error",
            "calendar_unreachable",
        ): "Der Kalender ist gerade nicht erreichbar. Es wurde nichts gebucht. Bitte versuchen Sie es gleich noch einmal.",
        ("error", None): "Das hat leider nicht geklappt.",
        ("ok", "appointments"): "Ihre Termine: {upcoming}",
        ("ok", "none"): "Sie haben keine anstehenden Termine.",
    },
    "en": {
        ("ok", None): "The slot {when}{with_staff} is free. Shall I book it?",
        ("available", None): "The slot {when}{with_staff} is free.",
        ("available", "slots"): "Free slots: {alternatives}.",
        ("unavailable", None): "Sorry, {when} is not available. {offer}",
        ("unavailable", "day_full"): "Sorry, that day is fully booked. {offer}",
        ("unavailable", "out_of_bounds"): "Sorry, that time cannot be booked. {offer}",
        ("unavailable", "booker_limit"): "This person already has too many bookings.",
        ("unavailable", "closed"): "{closed} {offer}",
        ("unavailable", "staff_off"): "{staff} is not working at that time. {offer}",
        ("unavailable", "too_soon"): "Sorry, we cannot book at such short notice. {offer}",
        ("unavailable", "too_far"): "Sorry, we do not take bookings that far ahead yet. {offer}",
        ("unavailable", "off_grid"): "No appointment starts at exactly that time. {offer}",
        (
            "error",
            "unknown_staff",
        ): "{requested_staff} does not offer that service here. You can choose: {staff_names}.",
        (
            "warning",
            "same_day",
        ): "You already have an appointment that day: {existing}. Would you like to keep it, move it, or book another one anyway?",
        (
            "warning",
            "same_service_upcoming",
        ): "Just so you know, you already have an appointment for this service: {existing}. Book another one anyway, or move the existing one?",
        ("refused", "exact_duplicate"): "You have already booked this appointment: {existing}.",
        (
            "refused",
            "overlapping",
        ): "You already have an appointment at that time: {existing}. Please choose another time.",
        (
            "refused",
            "daily_limit",
        ): "You already have {count} appointments that day, which is the limit. Please choose another day.",
        ("booked", None): "Your appointment is booked: {appointment}{with_staff}.",
        ("pending", None): "Your booking {when} is being confirmed. It will not be booked twice.",
        ("pending", "busy"): "This request is still being processed. One moment please.",
        ("known", None): "Welcome back{name}. {upcoming}",
        ("new", None): "This is your first call with us. May I have your name?",
        ("rescheduled", None): "Your appointment has been moved: {appointment}.",
        ("cancelled", None): "Your appointment {appointment} has been cancelled.",
        ("not_found", None): "I could not find a matching appointment.",
        ("error", "invalid_argument"): "I did not understand that ({field}). Could you repeat it?",
        ("error", "in_past"): "That time is in the past. Please name a later time.",
        ("error", "too_far_ahead"): "I cannot book that far ahead. Please name an earlier date.",
        (
            "error",
            "nonexistent_time",
        ): "That time does not exist that day because of the clock change. Please name another.",
        ("error", "unknown_service"): "We do not offer that service. We offer: {services}.",
        ("error", "ambiguous_service"): "Do you mean {candidates}?",
        (
            "error",
            "invalid_email",
        ): "I did not catch the email address. Could you say it again slowly?",
        ("error", "unknown_tenant"): "This line is not set up for bookings.",
        (
            "error",
            "calendar_unreachable",
        ): "The calendar cannot be reached right now. Nothing was booked. Please try again in a moment.",
        ("error", None): "Sorry, that did not work.",
        ("ok", "appointments"): "Your appointments: {upcoming}",
        ("ok", "none"): "You have no upcoming appointments.",
    },
}
_NO_ALTERNATIVES = {
    "de": "Ich habe keinen freien Termin in der Nähe gefunden.",
    "en": "I found no free slot nearby.",
}
_OFFER = {"de": "Frei wäre: {alternatives}.", "en": "Available instead: {alternatives}."}
_AND = {"de": " oder ", "en": " or "}
_WITH = {"de": " bei {name}", "en": " with {name}"}
_DAY = {"de": "EEEE, d. MMMM", "en": "EEEE, MMMM d"}
_CLOSED = {
    "de": {
        "holiday": "Am {day} ist Feiertag ({name}), da haben wir geschlossen.",
        "label": "Am {day} haben wir geschlossen ({name}).",
        None: "Am {day} haben wir geschlossen.",
    },
    "en": {
        "holiday": "{day} is a public holiday ({name}); we are closed.",
        "label": "We are closed on {day} ({name}).",
        None: "We are closed on {day}.",
    },
}


def when(moment: datetime, language: str) -> str:
    """``Mittwoch, 2. Dezember um 14:00 Uhr`` in the moment's own zone."""
    return str(format_datetime(moment, _WHEN[language], tzinfo=moment.tzinfo, locale=language))


def describe(appointment: AppointmentView, language: str) -> str:
    """``am Mittwoch, 2. Dezember um 14:00 Uhr für Herrenhaarschnitt``."""
    joiner = "für" if language == "de" else "for"
    return f"{_ON[language]} {when(appointment.start, language)} {joiner} {appointment.service}"


def render(reply: Reply, language: str) -> str:
    """The sentence for ``reply`` in ``language`` (de or en)."""
    language = language if language in MESSAGES else "de"
    table = MESSAGES[language]
    key: str | None = reply.reason
    if reply.status is Status.OK and reply.appointments is not None:
        key = "appointments" if reply.appointments else "none"
    if reply.status is Status.AVAILABLE and reply.requested_start is None:
        key = "slots"
    if reply.status is Status.ERROR and reply.reason is Reason.INVALID_ARGUMENT:
        problem = str(reply.facts.get("problem", ""))
        key = problem if (reply.status.value, problem) in table else key
    template = table.get((reply.status.value, key)) or table[(reply.status.value, None)]
    return template.format(**_values(reply, language)).strip()


def _closed(reply: Reply, language: str) -> str:
    """ "Am Mittwoch, 6. Januar ist Feiertag (Heilige Drei Könige) …" from the reply's facts."""
    closed_date = reply.facts.get("closed_date")
    if not closed_date:
        return ""
    day = str(format_date(date.fromisoformat(closed_date), _DAY[language], locale=language))
    kind = (
        "holiday" if reply.facts.get("holiday") else "label" if reply.facts.get("closure") else None
    )
    name = reply.facts.get("holiday") or reply.facts.get("closure") or ""
    return _CLOSED[language][kind].format(day=day, name=name)


def _with(name: object, language: str) -> str:
    return _WITH[language].format(name=name) if name else ""


def _values(reply: Reply, language: str) -> dict[str, str]:
    people = reply.facts.get("alternative_staff") or [None] * len(reply.alternatives)
    alternatives = _AND[language].join(
        when(t, language) + _with(person, language)
        for t, person in zip(reply.alternatives, people, strict=False)
    )
    listed = reply.appointments or ()
    name = reply.facts.get("customer_name")
    return {
        "when": f"{_ON[language]} {when(reply.requested_start, language)}"
        if reply.requested_start
        else "",
        "existing": "; ".join(describe(a, language) for a in reply.existing),
        "appointment": describe(reply.appointment, language) if reply.appointment else "",
        "alternatives": alternatives,
        "offer": _OFFER[language].format(alternatives=alternatives)
        if alternatives
        else _NO_ALTERNATIVES[language],
        "services": ", ".join(reply.facts.get("offered_services", [])),
        "candidates": _AND[language].join(reply.facts.get("candidates", [])),
        "field": str(reply.facts.get("field", "")),
        "count": str(len(reply.existing)),
        "name": f", {name}" if name else "",
        "upcoming": "; ".join(describe(a, language) for a in listed),
        "with_staff": _with(reply.facts.get("staff"), language),
        "staff": str(reply.facts.get("staff", "")),
        "closed": _closed(reply, language),
        "requested_staff": str(reply.facts.get("requested_staff", "")),
        "staff_names": _AND[language].join(reply.facts.get("offered_staff", [])),
    }
