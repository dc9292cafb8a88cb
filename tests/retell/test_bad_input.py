"""Bad input gets a precise 4xx or a precise reply for the agent — never a 500, never a booking."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from slotguard.retell.signature import sign
from slotguard.store.db import session_factory
from slotguard.store.tables import AppointmentRow
from tests.retell.conftest import RETELL_KEY, Phone

VALID = {"customer_name": "Max", "service": "Haarschnitt", "date": "morgen", "time": "14 Uhr"}


async def _appointments(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as s:
        return int(await s.scalar(select(func.count()).select_from(AppointmentRow)) or 0)


def _body(name: str = "book_appointment", args: dict[str, object] | None = None) -> bytes:
    payload = {
        "name": name,
        "call": {"call_id": "c1", "agent_id": "agent_test"},
        "args": args or VALID,
    }
    return json.dumps(payload).encode()


class TestSignature:
    """X-Retell-Signature is required whenever a Retell key is configured."""

    @pytest.mark.parametrize(
        ("header", "problem"),
        [
            (None, "missing X-Retell-Signature"),
            ("", "missing X-Retell-Signature"),
            ("v=abc,d=00", "malformed X-Retell-Signature"),
            ("d=" + "0" * 64 + ",v=1", "malformed X-Retell-Signature"),
            ("v=1700000000000,d=" + "0" * 64, "stale X-Retell-Signature timestamp"),
        ],
    )
    async def test_bad_header_is_401(
        self, phone: Phone, engine: AsyncEngine, header: str | None, problem: str
    ) -> None:
        """Missing, malformed and stale signatures are refused with 401 and nothing is booked."""
        response = await phone.client.post(
            "/retell/functions/book_appointment",
            content=_body(),
            headers={} if header is None else {"x-retell-signature": header},
        )
        assert (response.status_code, response.json()["detail"]) == (401, problem)
        assert await _appointments(engine) == 0

    async def test_wrong_key_is_401(self, phone: Phone) -> None:
        """A signature made with another key is refused."""
        body = _body()
        header = sign(body, "another-key", int(time.time() * 1000))
        response = await phone.post("/retell/functions/book_appointment", body, header)
        assert (response.status_code, response.json()["detail"]) == (
            401,
            "invalid X-Retell-Signature",
        )

    async def test_signature_covers_raw_bytes(self, phone: Phone) -> None:
        """Umlauts sent as raw UTF-8 verify; the same JSON re-serialised with escapes does not."""
        payload = {
            "call": {"call_id": "c1", "agent_id": "agent_test"},
            "args": {**VALID, "customer_name": "Jürgen Groß"},
        }
        raw = json.dumps(payload, ensure_ascii=False).encode()
        header = sign(raw, RETELL_KEY, int(time.time() * 1000))
        ok = await phone.post("/retell/functions/book_appointment", raw, header)
        assert ok.status_code == 200 and ok.json()["status"] == "booked"
        escaped = json.dumps(payload, ensure_ascii=True).encode()
        refused = await phone.post("/retell/functions/book_appointment", escaped, header)
        assert refused.status_code == 401

    def test_sdk_vector(self) -> None:
        """The Retell SDK's published test vector signs identically."""
        header = sign(b'{"event":"call_ended"}', "test-api-key", 1700000000000)
        assert (
            header
            == "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e"
        )


class TestMalformedRequests:
    """Requests that are not valid function calls get precise HTTP errors."""

    async def test_oversized_body_is_413(self, phone: Phone) -> None:
        """A body over 1 MiB is refused with 413 before it is parsed."""
        body = b'{"call":{"call_id":"c"},"args":{"x":"' + b"a" * (1024 * 1024) + b'"}}'
        response = await phone.post("/retell/functions/book_appointment", body)
        assert response.status_code == 413

    async def test_malformed_json_is_400(self, phone: Phone) -> None:
        """Broken JSON is a 400 that says so."""
        response = await phone.post("/retell/functions/book_appointment", b'{"call": ')
        assert response.status_code == 400
        assert "not valid JSON" in response.json()["detail"]

    async def test_json_array_is_400(self, phone: Phone) -> None:
        """A JSON value that is not an object is a 400."""
        response = await phone.post("/retell/functions/book_appointment", b"[1, 2]")
        assert (response.status_code, response.json()["detail"]) == (
            400,
            "request body must be a JSON object",
        )

    async def test_args_only_payload_is_400(self, phone: Phone) -> None:
        """The 'args only' payload has no call id: a 400 says to switch to the wrapped payload."""
        response = await phone.post(
            "/retell/functions/book_appointment", json.dumps(VALID).encode()
        )
        assert response.status_code == 400
        assert "wrapped payload" in response.json()["detail"]

    async def test_missing_call_id_is_400(self, phone: Phone) -> None:
        """A call object without call_id is a 400 naming the field."""
        body = json.dumps({"call": {"agent_id": "agent_test"}, "args": VALID}).encode()
        response = await phone.post("/retell/functions/book_appointment", body)
        assert response.status_code == 400
        assert "call.call_id" in response.json()["detail"]

    async def test_unknown_function_is_404(self, phone: Phone) -> None:
        """An unknown function is a 404 listing the known ones."""
        response = await phone.post("/retell/functions/book_a_table", _body("book_a_table"))
        assert response.status_code == 404
        assert "book_appointment" in response.json()["detail"]

    async def test_missing_name_in_body_is_404(self, phone: Phone) -> None:
        """POST /retell/functions without a name is a 404 listing the known ones."""
        body = json.dumps(
            {"call": {"call_id": "c1", "agent_id": "agent_test"}, "args": {}}
        ).encode()
        response = await phone.post("/retell/functions", body)
        assert response.status_code == 404


class TestAgentErrors:
    """Business-level mistakes are HTTP 200 with status error and a sentence for the agent."""

    @pytest.mark.parametrize(
        ("args", "field", "problem"),
        [
            ({**VALID, "date": "blabla"}, "date", "unparseable_date"),
            ({**VALID, "date": "32.13."}, "date", "unparseable_date"),
            ({**VALID, "time": "25 Uhr"}, "time", "unparseable_time"),
            ({**VALID, "date": "gestern"}, "date", "in_past"),
            ({**VALID, "date": "2026-11-20"}, "date", "in_past"),
            ({**VALID, "date": "heute", "time": "08:00"}, "date", "in_past"),
            ({**VALID, "date": "2027-03-28", "time": "02:30"}, "date", "nonexistent_time"),
            ({k: v for k, v in VALID.items() if k != "date"}, "date", "missing"),
            ({k: v for k, v in VALID.items() if k != "customer_name"}, "customer_name", "missing"),
            ({**VALID, "time": {"hour": 14}}, "time", "must be text"),
            (
                {**VALID, "confirm_duplicate": "vielleicht"},
                "confirm_duplicate",
                "must be true or false",
            ),
        ],
    )
    async def test_invalid_argument(
        self, phone: Phone, engine: AsyncEngine, args: dict[str, object], field: str, problem: str
    ) -> None:
        """Each bad argument yields error/invalid_argument naming the field, and books nothing."""
        reply = await phone.call("book_appointment", args)
        assert (reply["status"], reply["reason"]) == ("error", "invalid_argument"), reply
        assert (reply["field"], reply["problem"]) == (field, problem)
        assert reply["message"]
        assert await _appointments(engine) == 0

    async def test_unknown_service_lists_offered(self, phone: Phone, engine: AsyncEngine) -> None:
        """An unknown service is error/unknown_service with the offered services in the sentence."""
        reply = await phone.call("book_appointment", {**VALID, "service": "Massage"})
        assert (reply["status"], reply["reason"]) == ("error", "unknown_service")
        assert reply["offered_services"] == ["Bartpflege", "Färben", "Herrenhaarschnitt"]
        assert "Herrenhaarschnitt" in reply["message"]
        assert await _appointments(engine) == 0

    async def test_unknown_tenant(self, phone: Phone) -> None:
        """A call from an unknown agent to an unknown number is error/unknown_tenant."""
        body = json.dumps(
            {"call": {"call_id": "c1", "agent_id": "agent_x", "to_number": "+1"}, "args": VALID}
        ).encode()
        response = await phone.post("/retell/functions/book_appointment", body)
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["reason"]) == ("error", "unknown_tenant")

    async def test_withheld_number_is_not_a_shared_identity(
        self, phone: Phone, engine: AsyncEngine
    ) -> None:
        """Two anonymous callers with different names are different customers."""
        args = {**VALID, "date": "2026-11-27", "time": "10:00"}
        first = await phone.call("book_appointment", args, call_id="a1", from_number="anonymous")
        other = {**args, "customer_name": "Eva", "service": "Bartpflege", "time": "11:00"}
        second = await phone.call("book_appointment", other, call_id="a2", from_number=None)
        assert (first["status"], second["status"]) == ("booked", "booked")
        mine = await phone.call("query_appointment", call_id="a2", from_number=None)
        assert [a["service"] for a in mine["appointments"]] == ["Bartpflege"]
