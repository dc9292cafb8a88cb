"""What /metrics tells an operator about Cal.com after a real booking through the emulator."""

from __future__ import annotations

import re

from tests.calcom.conftest import Stack
from tests.calcom.test_calcom_flow import ARGS


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in /metrics"
    return float(match.group(1))


async def test_budget_and_webhook_lag_after_a_booking(stack: Stack) -> None:
    """The company's rate budget went down by what was sent; the one webhook's lag is timed."""
    reply = await stack.call("book_appointment", ARGS)
    assert reply["status"] == "booked", reply
    await stack.deliveries(1)
    text = (await stack.client.get("/metrics")).text
    sent = len([r for r in stack.emulator.request_log if r.path.startswith("/v2/")])
    budget = _value(text, 'slotguard_calcom_budget_remaining{company="salon-cal"}')
    assert sent >= 1
    assert budget == 120 - sent
    assert _value(text, 'slotguard_webhook_lag_seconds_count{provider="calcom"}') == 1
    assert 0 <= _value(text, 'slotguard_webhook_lag_seconds_sum{provider="calcom"}') < 30
