"""Every sentence the agent says, per language, rendered from a Reply (Babel for dates).

Sentences are made for the phone: no argument names, at most three options with the day said
once, English dates English style ("Tuesday, December 1 at 2:30 pm"), German ones German
style ("Dienstag, 1. Dezember um 14:30 Uhr"), and each failure says what did and did not
happen for the function that failed. CATALOGUE is every (status, reason) the service answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from functools import lru_cache
from itertools import groupby
from typing import Any

from babel.dates import format_date, format_datetime

from slotguard.booking.replies import AppointmentView, Reply

# How many appointments or free times one sentence names; more is hard to follow by ear.
MAX_SPOKEN = 3

_DAY = {"de": "EEEE, d. MMMM", "en": "EEEE, MMMM d"}
_ON = {"de": "am", "en": "on"}
_AT = {"de": "um", "en": "at"}
_FOR = {"de": "für", "en": "for"}
_OR = {"de": "oder", "en": "or"}
_AND = {"de": "und", "en": "and"}

# What the caller is asked for, per argument: words, never the argument's name.
_THING: dict[str, dict[str, str]] = {
    "de": {
        "date": "das Datum",
        "time": "die Uhrzeit",
        "new_date": "das neue Datum",
        "new_time": "die neue Uhrzeit",
        "customer_name": "Ihren Namen",
        "service": "die gewünschte Leistung",
        "customer_email": "Ihre E-Mail-Adresse",
        "confirm_duplicate": "Ihre Bestätigung",
    },
    "en": {
        "date": "the date",
        "time": "the time",
        "new_date": "the new date",
        "new_time": "the new time",
        "customer_name": "your name",
        "service": "the service you would like",
        "customer_email": "your email address",
        "confirm_duplicate": "your confirmation",
    },
}
_SOMETHING = {"de": "das", "en": "that"}

# What did not happen when the calendar failed, per function.
_NOT_DONE: dict[str, dict[str, str]] = {
    "de": {
        "book_appointment": "Es wurde nichts gebucht.",
        "collect_appointment_data": "Es wurde noch nichts gebucht.",
        "check_availability": "Ich konnte die freien Termine nicht abrufen.",
        "reschedule_appointment": "Ihr Termin wurde nicht verschoben und bleibt, wie er war.",
        "cancel_appointment": "Ihr Termin wurde nicht storniert und bleibt bestehen.",
        "": "Es wurde nichts geändert.",
    },
    "en": {
        "book_appointment": "Nothing was booked.",
        "collect_appointment_data": "Nothing has been booked yet.",
        "check_availability": "I could not look up the free times.",
        "reschedule_appointment": "Your appointment was not moved and stays as it was.",
        "cancel_appointment": "Your appointment was not cancelled and still stands.",
        "": "Nothing was changed.",
    },
}

# (status, reason) → sentence; reason None is the status's default. Placeholders are filled
# by _values below.
CATALOGUE: dict[str, dict[tuple[str, str | None], str]] = {
    "de": {
        ("ok", None): "Der Termin {when}{with_staff} ist frei. Soll ich ihn buchen?",
        (
            "ok",
            "availability_unknown",
        ): "Ich habe alles notiert: {when}. Ob der Termin frei ist, sehe ich erst beim Buchen. Soll ich es versuchen?",
        ("ok", "appointments"): "{listing}",
        ("ok", "none"): "Sie haben keine anstehenden Termine.",
        ("ok", "none_that_day"): "An diesem Tag haben Sie keinen Termin. {next}",
        ("available", None): "Der Termin {when}{with_staff} ist frei.",
        ("available", "slots"): "Frei wäre {options}.",
        ("unavailable", None): "Der Termin {when} ist leider schon vergeben. {offer}",
        ("unavailable", "slot_taken"): "Der Termin {when} ist leider schon vergeben. {offer}",
        ("unavailable", "day_full"): "An diesem Tag ist leider nichts mehr frei. {offer}",
        (
            "unavailable",
            "out_of_bounds",
        ): "Zu dieser Zeit kann leider nicht gebucht werden. {offer}",
        ("unavailable", "closed"): "{closed} {offer}",
        ("unavailable", "staff_off"): "{staff} arbeitet zu dieser Zeit nicht. {offer}",
        ("unavailable", "too_soon"): "So kurzfristig können wir leider nicht buchen. {offer}",
        (
            "unavailable",
            "too_far",
        ): "So weit im Voraus nehmen wir leider noch keine Termine an. {offer}",
        ("unavailable", "off_grid"): "Zu dieser genauen Uhrzeit beginnt kein Termin. {offer}",
        (
            "unavailable",
            "booker_limit",
        ): "Für Sie sind bereits so viele Termine gebucht, wie erlaubt sind. Möchten Sie einen bestehenden verschieben?",
        (
            "warning",
            "same_day",
        ): "Sie haben an diesem Tag schon einen Termin: {existing}. Möchten Sie ihn behalten, verschieben oder noch einen buchen?",
        (
            "warning",
            "same_service_upcoming",
        ): "Sie haben für diese Leistung schon einen Termin: {existing}. Möchten Sie noch einen buchen oder diesen verschieben?",
        ("refused", "exact_duplicate"): "Diesen Termin haben Sie bereits: {existing}.",
        (
            "refused",
            "overlapping",
        ): "Zu dieser Zeit haben Sie schon einen Termin: {existing}. Welche andere Zeit passt Ihnen?",
        (
            "refused",
            "daily_limit",
        ): "Sie haben an diesem Tag schon {count} Termine, mehr geht nicht. Welcher andere Tag passt Ihnen?",
        ("booked", None): "Ihr Termin ist gebucht: {appointment}{with_staff}.",
        (
            "pending",
            None,
        ): "Ihr Termin {when} ist vorgemerkt und wird gerade vom Kalender bestätigt. Ich kann gleich nachsehen, ob er bestätigt ist.",
        ("pending", "busy"): "Einen Moment bitte, ich bin noch dabei.",
        ("known", None): "Willkommen zurück{name}. {listing}",
        ("known", "none"): "Willkommen zurück{name}. Sie haben keine anstehenden Termine.",
        ("new", None): "Sie rufen zum ersten Mal bei uns an. Wie ist Ihr Name?",
        ("rescheduled", None): "Ihr Termin ist verschoben: {appointment}.",
        ("cancelled", None): "Ihr Termin {appointment} ist storniert.",
        (
            "not_found",
            None,
        ): "Ich habe keinen passenden Termin gefunden. Wann war der Termin denn?",
        (
            "not_found",
            "appointments",
        ): "Zu dieser Angabe habe ich keinen Termin gefunden. {listing} Welchen meinen Sie?",
        ("ambiguous", None): "Dazu passen mehrere Termine. {listing} Welchen meinen Sie?",
        (
            "refused",
            "existing_hidden",
        ): "Unter dieser E-Mail-Adresse ist zu dieser Zeit schon ein Termin gebucht. Welche andere Zeit passt Ihnen?",
        (
            "warning",
            "existing_hidden",
        ): "Unter dieser E-Mail-Adresse ist an diesem Tag schon ein Termin gebucht. Soll ich trotzdem buchen?",
        (
            "error",
            "invalid_argument",
        ): "Das habe ich nicht ganz verstanden. Können Sie mir bitte {thing} noch einmal nennen?",
        ("error", "missing"): "Können Sie mir bitte noch {thing} nennen?",
        (
            "error",
            "in_past",
        ): "Dieser Zeitpunkt liegt in der Vergangenheit. Welcher spätere Termin passt Ihnen?",
        (
            "error",
            "nonexistent_time",
        ): "Diese Uhrzeit gibt es an dem Tag wegen der Zeitumstellung nicht. Welche andere Uhrzeit passt Ihnen?",
        (
            "error",
            "invalid_email",
        ): "Die E-Mail-Adresse habe ich nicht richtig verstanden. Können Sie sie bitte noch einmal langsam sagen?",
        (
            "error",
            "unknown_service",
        ): "Diese Leistung bieten wir leider nicht an. Möglich sind {services}.",
        ("error", "ambiguous_service"): "Meinen Sie {candidates}?",
        (
            "error",
            "unknown_staff",
        ): "{requested_staff} bietet diese Leistung bei uns nicht an. Möglich sind {staff_names}.",
        (
            "error",
            "too_far_ahead",
        ): "So weit im Voraus kann ich keinen Termin vergeben. Welches frühere Datum passt Ihnen?",
        (
            "error",
            "unknown_tenant",
        ): "Über diesen Anschluss kann ich leider keine Termine vereinbaren.",
        (
            "error",
            "calendar_unreachable",
        ): "Der Kalender antwortet gerade nicht. {not_done} Lassen Sie es uns gleich noch einmal versuchen.",
        (
            "error",
            "calendar_refused",
        ): "Der Kalender hat das leider abgelehnt. {not_done} Bitte vereinbaren Sie den Termin direkt mit unserem Team.",
        (
            "error",
            "needs_contact",
        ): "Für die Buchung brauche ich noch Ihre E-Mail-Adresse oder eine Rückrufnummer. Wie erreichen wir Sie?",
        (
            "error",
            "availability_unknown",
        ): "Ich kann die freien Termine gerade nicht prüfen. Bitte fragen Sie in einem Moment noch einmal.",
        ("error", None): "Das hat leider nicht geklappt. {not_done}",
    },
    "en": {
        ("ok", None): "The appointment {when}{with_staff} is free. Shall I book it?",
        (
            "ok",
            "availability_unknown",
        ): "I have noted everything: {when}. I will only know if it is free when I book it. Shall I try?",
        ("ok", "appointments"): "{listing}",
        ("ok", "none"): "You have no upcoming appointments.",
        ("ok", "none_that_day"): "You have no appointment that day. {next}",
        ("available", None): "The appointment {when}{with_staff} is free.",
        ("available", "slots"): "I could offer {options}.",
        ("unavailable", None): "Sorry, the appointment {when} is already taken. {offer}",
        ("unavailable", "slot_taken"): "Sorry, the appointment {when} is already taken. {offer}",
        ("unavailable", "day_full"): "Sorry, that day is fully booked. {offer}",
        ("unavailable", "out_of_bounds"): "Sorry, that time cannot be booked. {offer}",
        ("unavailable", "closed"): "{closed} {offer}",
        ("unavailable", "staff_off"): "{staff} is not working at that time. {offer}",
        ("unavailable", "too_soon"): "Sorry, we cannot book at such short notice. {offer}",
        ("unavailable", "too_far"): "Sorry, we do not take bookings that far ahead yet. {offer}",
        ("unavailable", "off_grid"): "No appointment starts at exactly that time. {offer}",
        (
            "unavailable",
            "booker_limit",
        ): "You already have as many bookings as allowed. Would you like to move one of them instead?",
        (
            "warning",
            "same_day",
        ): "You already have an appointment that day: {existing}. Keep it, move it, or book another one?",
        (
            "warning",
            "same_service_upcoming",
        ): "You already have an appointment for this service: {existing}. Book another one, or move that one?",
        ("refused", "exact_duplicate"): "You already have this appointment: {existing}.",
        (
            "refused",
            "overlapping",
        ): "You already have an appointment at that time: {existing}. Which other time suits you?",
        (
            "refused",
            "daily_limit",
        ): "You already have {count} appointments that day, which is the limit. Which other day suits you?",
        ("booked", None): "Your appointment is booked: {appointment}{with_staff}.",
        (
            "pending",
            None,
        ): "Your appointment {when} is reserved and the calendar is confirming it. I can check again in a moment.",
        ("pending", "busy"): "One moment please, I am still on it.",
        ("known", None): "Welcome back{name}. {listing}",
        ("known", "none"): "Welcome back{name}. You have no upcoming appointments.",
        ("new", None): "This is your first call with us. May I have your name?",
        ("rescheduled", None): "Your appointment has been moved: {appointment}.",
        ("cancelled", None): "Your appointment {appointment} is cancelled.",
        (
            "not_found",
            None,
        ): "I could not find a matching appointment. When was it?",
        (
            "not_found",
            "appointments",
        ): "I found no appointment for that. {listing} Which one do you mean?",
        ("ambiguous", None): "Several appointments fit. {listing} Which one do you mean?",
        (
            "refused",
            "existing_hidden",
        ): "This email address already has an appointment at that time. Which other time suits you?",
        (
            "warning",
            "existing_hidden",
        ): "This email address already has an appointment that day. Shall I book anyway?",
        (
            "error",
            "invalid_argument",
        ): "Sorry, I did not quite catch {thing}. Could you say it again?",
        ("error", "missing"): "Could you tell me {thing}, please?",
        ("error", "in_past"): "That time is in the past. Which later time suits you?",
        (
            "error",
            "nonexistent_time",
        ): "That time does not exist that day because of the clock change. Which other time suits you?",
        (
            "error",
            "invalid_email",
        ): "I did not catch the email address. Could you say it again slowly?",
        ("error", "unknown_service"): "Sorry, we do not offer that. We offer {services}.",
        ("error", "ambiguous_service"): "Do you mean {candidates}?",
        (
            "error",
            "unknown_staff",
        ): "{requested_staff} does not offer that service here. You can choose {staff_names}.",
        (
            "error",
            "too_far_ahead",
        ): "I cannot book that far ahead. Which earlier date suits you?",
        ("error", "unknown_tenant"): "Sorry, I cannot make appointments on this line.",
        (
            "error",
            "calendar_unreachable",
        ): "The calendar is not answering right now. {not_done} Let us try again in a moment.",
        (
            "error",
            "calendar_refused",
        ): "The calendar turned that down. {not_done} Please arrange the appointment with our team directly.",
        (
            "error",
            "needs_contact",
        ): "To book, I need your email address or a callback number. How can we reach you?",
        (
            "error",
            "availability_unknown",
        ): "I cannot check availability right now. Please ask again in a moment.",
        ("error", None): "Sorry, that did not work. {not_done}",
    },
}
# The table's old name, kept for importers.
MESSAGES = CATALOGUE

_WITH = {"de": " bei {name}", "en": " with {name}"}
# Said once, in the next reply of the call, when a booking told "being confirmed" failed.
_FAILED = {
    "de": "Leider konnte Ihr Termin {appointment} nicht bestätigt werden, er ist nicht gebucht.",
    "en": "Sorry, your appointment {appointment} could not be confirmed; it is not booked.",
}
_CLOSED = {
    "de": {
        "holiday": "Am {day} ist Feiertag, {name}, da haben wir geschlossen.",
        "label": "Am {day} haben wir geschlossen: {name}.",
        None: "Am {day} haben wir geschlossen.",
    },
    "en": {
        "holiday": "{day} is a public holiday, {name}, and we are closed.",
        "label": "We are closed on {day}: {name}.",
        None: "We are closed on {day}.",
    },
}
_NO_ALTERNATIVES = {
    "de": "In der Nähe habe ich leider keinen freien Termin gefunden.",
    "en": "I found no free time nearby.",
}
_OFFER = {"de": "Frei wäre {options}.", "en": "I could offer {options}."}
_NEXT = {"de": "Ihr nächster ist {appointment}.", "en": "Your next one is {appointment}."}
_LISTING = {
    "de": ("Ihr nächster Termin ist {items}.", "Ihre nächsten Termine sind {items}."),
    "en": ("Your next appointment is {items}.", "Your next appointments are {items}."),
}
_MORE = {
    "de": ("Dazu kommt noch ein weiterer.", "Dazu kommen noch {count} weitere."),
    "en": ("There is one more.", "There are {count} more."),
}


def day(moment: datetime, language: str) -> str:
    """``Dienstag, 1. Dezember`` / ``Tuesday, December 1`` in the moment's own zone."""
    return str(format_datetime(moment, _DAY[language], tzinfo=moment.tzinfo, locale=language))


def clock(moment: datetime, language: str) -> str:
    """``14 Uhr``, ``14:30 Uhr`` / ``2 pm``, ``2:30 pm``."""
    if language == "de":
        return f"{moment.hour} Uhr" if moment.minute == 0 else f"{moment.hour}:{moment:%M} Uhr"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment:%M} {suffix}"


def when(moment: datetime, language: str) -> str:
    """``Dienstag, 1. Dezember um 14:30 Uhr`` / ``Tuesday, December 1 at 2:30 pm``."""
    # Aware datetimes of one instant are equal in any zone: the zone is part of the key.
    return _when(moment, moment.tzinfo, language)


@lru_cache(maxsize=4096)
def _when(moment: datetime, _zone: tzinfo | None, language: str) -> str:
    return f"{day(moment, language)} {_AT[language]} {clock(moment, language)}"


def describe(appointment: AppointmentView, language: str) -> str:
    """``am Mittwoch, 2. Dezember um 14 Uhr für Herrenhaarschnitt``."""
    moment = when(appointment.start, language)
    return f"{_ON[language]} {moment} {_FOR[language]} {appointment.service}"


def choice(items: Sequence[str], language: str, *, final: str | None = None) -> str:
    """``a``, ``a oder b``, ``a, b oder c`` (``final``: the last joining word)."""
    word = final or _OR[language]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def options(
    moments: Sequence[datetime],
    language: str,
    said: datetime | None = None,
    people: Sequence[object] = (),
) -> str:
    """At most three times, grouped by day, each day said once, and not at all when it is the
    day the caller named (`said`); with the person free then, when there is one.

    ``am Donnerstag, 26. November um 10 Uhr, 10:30 Uhr oder 11 Uhr`` · ``um 10 Uhr bei Anna``.
    """
    named = list(people) + [None] * len(moments)
    spoken = list(zip(moments, named, strict=False))[:MAX_SPOKEN]
    groups = []
    for _, same_day in groupby(spoken, key=lambda pair: pair[0].date()):
        times = list(same_day)
        who = {p for _, p in times}
        if len(who) == 1:  # one person for all: "um 9 Uhr oder 9:15 Uhr bei Anna"
            clocks = choice([clock(t, language) for t, _ in times], language)
            clocks += _with(who.pop(), language)
        else:
            clocks = choice([clock(t, language) + _with(p, language) for t, p in times], language)
        first = times[0][0]
        if said is not None and first.date() == said.date():
            groups.append(f"{_AT[language]} {clocks}" if language == "de" else clocks)
        else:
            on_day = (
                f"{_ON[language]} {day(first, language)}"
                if language == "de"
                else day(first, language)
            )
            groups.append(f"{on_day} {_AT[language]} {clocks}")
    return choice(groups, language)


def _with(name: object, language: str) -> str:
    return _WITH[language].format(name=name) if name else ""


def _closed(reply: Reply, language: str) -> str:
    """ "Am Mittwoch, 6. Januar ist Feiertag, Heilige Drei Könige …" from the reply's facts."""
    closed_date = reply.facts.get("closed_date")
    if not closed_date:
        return ""
    named = format_date(date.fromisoformat(str(closed_date)), _DAY[language], locale=language)
    holiday, closure = reply.facts.get("holiday"), reply.facts.get("closure")
    kind = "holiday" if holiday else "label" if closure else None
    return _CLOSED[language][kind].format(day=named, name=holiday or closure or "")


def listing(appointments: Sequence[AppointmentView], language: str) -> str:
    """The next three appointments in one sentence, and how many more there are."""
    shown = [describe(a, language) for a in appointments[:MAX_SPOKEN]]
    one, many = _LISTING[language]
    sentence = (one if len(shown) == 1 else many).format(
        items=choice(shown, language, final=_AND[language])
    )
    rest = len(appointments) - len(shown)
    if rest <= 0:
        return sentence
    more_one, more_many = _MORE[language]
    return f"{sentence} {(more_one if rest == 1 else more_many).format(count=rest)}"


def key_of(reply: Reply) -> tuple[str, str | None]:
    """The (status, reason) a reply is spoken by."""
    status = reply.status.value
    reason: str | None = None if reply.reason is None else reply.reason.value
    if status == "ok" and reply.facts.get("availability") == "unknown":
        reason = "availability_unknown"
    if status == "ok" and reply.appointments is not None:
        if reply.appointments:
            reason = "appointments"
        else:
            reason = "none_that_day" if reply.facts.get("next_appointment") else "none"
    if status == "known" and not reply.appointments:
        reason = "none"
    if status == "not_found" and reply.appointments:
        reason = "appointments"
    if reply.facts.get("existing_hidden"):
        reason = "existing_hidden"
    if status == "available" and reply.requested_start is None:
        reason = "slots"
    if status == "error" and reason == "invalid_argument":
        problem = str(reply.facts.get("problem", ""))
        if ("error", problem) in CATALOGUE["de"]:
            reason = problem
    return status, reason


def render(reply: Reply, language: str, function: str | None = None) -> str:
    """The sentence for ``reply`` in ``language`` (de or en), said after ``function``."""
    language = language if language in CATALOGUE else "de"
    table = CATALOGUE[language]
    status, reason = key_of(reply)
    template = table.get((status, reason)) or table[(status, None)]
    text = template.format(**_values(reply, language, function or ""))
    failed: Any = reply.facts.get("failed_booking")
    if isinstance(failed, dict):
        told = describe(AppointmentView.from_json(failed), language)
        text = f"{_FAILED[language].format(appointment=told)} {text}"
    return " ".join(text.split())


def _values(reply: Reply, language: str, function: str) -> dict[str, str]:
    people = list(reply.facts.get("alternative_staff") or ())
    offered = options(reply.alternatives, language, reply.requested_start, people)
    name = reply.facts.get("customer_name")
    household = [str(n) for n in reply.facts.get("household") or ()]
    if household:
        name = choice(household, language, final=_AND[language])
    field = str(reply.facts.get("field", ""))
    said = (
        f"{_ON[language]} {when(reply.requested_start, language)}" if reply.requested_start else ""
    )
    following = _next_appointment(reply, language)
    return {
        "when": said,
        "existing": choice([describe(a, language) for a in reply.existing], language),
        "appointment": describe(reply.appointment, language) if reply.appointment else "",
        "options": offered,
        "offer": _OFFER[language].format(options=offered)
        if offered
        else _NO_ALTERNATIVES[language],
        "services": choice(list(reply.facts.get("offered_services", [])), language),
        "candidates": choice(list(reply.facts.get("candidates", [])), language),
        "thing": _THING[language].get(field, _SOMETHING[language]),
        "count": str(len(reply.existing)),
        "name": f", {name}" if name else "",
        "listing": listing(reply.appointments or (), language),
        "next": _NEXT[language].format(appointment=following) if following else "",
        "not_done": _NOT_DONE[language].get(function, _NOT_DONE[language][""]),
        "with_staff": _with(reply.facts.get("staff"), language),
        "staff": str(reply.facts.get("staff", "")),
        "closed": _closed(reply, language),
        "requested_staff": str(reply.facts.get("requested_staff", "")),
        "staff_names": choice(list(reply.facts.get("offered_staff", [])), language),
    }


def _next_appointment(reply: Reply, language: str) -> str:
    data: Any = reply.facts.get("next_appointment")
    if not isinstance(data, dict):
        return ""
    return describe(AppointmentView.from_json(data), language)
