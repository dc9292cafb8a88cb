"""Arbitrary function-call payloads never produce a 500 (property-based)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.retell.conftest import Phone

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["morgen", "14 Uhr", "halb drei", "2026-02-30", "Haarschnitt", "+49"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_ARG_NAMES = st.sampled_from(
    ["customer_name", "service", "date", "time", "customer_email", "confirm_duplicate",
     "new_date", "new_time", "other"]
)  # fmt: skip
_CALLS = st.fixed_dictionaries(
    {
        "call_id": st.text(min_size=1, max_size=20),
        "agent_id": st.one_of(st.just("agent_test"), _SCALARS),
    },
    optional={
        "from_number": st.one_of(st.just("+4915112345678"), _SCALARS),
        "to_number": _SCALARS,
        "start_timestamp": st.integers(min_value=-(2**70), max_value=2**70),
        "end_timestamp": _SCALARS,
    },
)
_FUNCTIONS = st.sampled_from(
    ["check_customer", "check_availability", "collect_appointment_data", "book_appointment",
     "query_appointment", "reschedule_appointment", "cancel_appointment"]
)  # fmt: skip


class TestFuzzedFunctionCalls:
    """Whatever an LLM or a broken client sends, the answer is a 2xx or a precise 4xx."""

    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        name=_FUNCTIONS,
        call=_CALLS,
        args=st.one_of(st.dictionaries(_ARG_NAMES, _VALUES, max_size=6), _VALUES),
    )
    async def test_never_500(
        self, phone: Phone, name: str, call: dict[str, Any], args: Any
    ) -> None:
        """Random calls and arguments are answered with 200 or a 4xx, never a server error."""
        body = json.dumps({"name": name, "call": call, "args": args}).encode()
        response = await phone.post(f"/retell/functions/{name}", body)
        assert response.status_code < 500, (response.status_code, response.text[:300])
        if response.status_code == 200:
            assert response.json()["message"]
