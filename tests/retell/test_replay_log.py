"""A repeated function call is answered from the stored reply, and the log says so."""

from __future__ import annotations

from tests.logs import LogLines, json_logs
from tests.retell.conftest import Phone

__all__ = ["json_logs"]

BOOK = {
    "customer_name": "Max Müller",
    "service": "Herrenhaarschnitt",
    "date": "morgen",
    "time": "14 Uhr",
}


async def test_a_replay_is_marked_in_the_log(phone: Phone, json_logs: LogLines) -> None:
    """Retell repeats book_appointment: the same reply, and a replay line under its request id."""
    json_logs()
    first = await phone.raw("book_appointment", BOOK, call_id="call_replay")
    first_lines = json_logs()
    again = await phone.raw("book_appointment", BOOK, call_id="call_replay")
    again_lines = json_logs()
    assert first.json()["status"] == "booked"
    assert again.json() == first.json()
    assert "idempotent_replay" not in [line["event"] for line in first_lines]
    request_id = again.headers["x-request-id"]
    assert request_id != first.headers["x-request-id"]
    (replay,) = [line for line in again_lines if line["event"] == "idempotent_replay"]
    assert replay["request_id"] == request_id
    assert (replay["function"], replay["call_id"], replay["status"]) == (
        "book_appointment",
        "call_replay",
        "booked",
    )
