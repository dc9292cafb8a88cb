"""What the seeded data looks like: zones, services, the status mix, names, spread.

The numbers are the seed's model of a year of busy salons; ``testing.seed`` turns them into rows.
"""

from __future__ import annotations

from slotguard.domain import AppointmentStatus

# (zone, language, phone prefix): offsets of +05:30 and +13:45 and a DST zone west of UTC,
# so local days and UTC dates disagree the way they do for real tenants.
ZONES = (
    ("Europe/Berlin", "de", "+4930"),
    ("Europe/Vienna", "de", "+431"),
    ("Europe/Zurich", "de", "+4144"),
    ("America/New_York", "en", "+1212"),
    ("Asia/Kolkata", "en", "+9122"),
    ("Pacific/Chatham", "en", "+643305"),
)
# (German name, English name, minutes): every company offers 3 to 6 of these.
SERVICES = (
    ("Bartpflege", "Beard trim", 15),
    ("Beratung", "Consultation", 15),
    ("Kinderhaarschnitt", "Kids' haircut", 20),
    ("Herrenhaarschnitt", "Men's haircut", 30),
    ("Waschen und Föhnen", "Wash and blow-dry", 45),
    ("Damenhaarschnitt", "Women's haircut", 60),
    ("Strähnen", "Highlights", 90),
    ("Färben", "Colouring", 120),
)
# Percent of appointments per status: what a year of a busy salon's calendar looks like.
STATUS_MIX = {
    AppointmentStatus.BOOKED: 70,
    AppointmentStatus.PENDING: 5,
    AppointmentStatus.CANCELLED: 15,
    AppointmentStatus.COMPLETED: 5,
    AppointmentStatus.NO_SHOW: 3,
    AppointmentStatus.FAILED: 2,
}
# Appointments lie within ±180 days of now: half a year of history and half a year ahead.
SPREAD_DAYS = 180
# Local business hours on a 15-minute grid: first start 08:00, last start 19:45.
OPENS_MINUTE, LAST_START_MINUTE, GRID_MINUTES = 8 * 60, 19 * 60 + 45, 15
# Cancelled appointments that reuse a slot the customer had ("cancel and rebook"): the
# inactive overlaps the guards must tolerate.
REBOOK_SHARE = 0.3
# Active appointments right after the customer's previous one: two services in one visit.
BACK_TO_BACK_SHARE = 0.1
# Customers are not alike: (weight, percent) of occasional, regular and very loyal callers.
CUSTOMER_WEIGHTS = ((1, 70), (3, 25), (10, 5))
# Above this average a loyal customer's calendar fills up and free slots get hard to find.
MAX_APPOINTMENTS_PER_CUSTOMER = 100
# Booking lead time: up to three weeks before the appointment.
MAX_LEAD_MINUTES = 21 * 24 * 60
# One audit row per this many appointments: enough for the decisions queries to have data.
APPOINTMENTS_PER_DECISION = 1_000
# Retries for a free slot before giving up; with the per-customer cap it takes a few at most.
MAX_SLOT_ATTEMPTS = 1_000
FIRST_NAMES = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Hannah", "Jonas", "Lea", "Max")
LAST_NAMES = ("Müller", "Schmidt", "Patel", "Smith", "Huber", "Meier", "Rossi", "Ngata", "Kim")
TRADES = ("Salon", "Studio", "Barber", "Praxis", "Beauty", "Friseur")
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat")
