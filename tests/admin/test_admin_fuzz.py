"""Schemathesis over the admin API, served on loopback on both databases: never a 5xx.

The schema is the app's own OpenAPI description; every operation under /api/v1 gets
generated valid and invalid parameters and bodies, with the admin token and without.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from slotguard.api import create_app
from slotguard.settings import Settings
from slotguard.testing.server import serve_in_thread
from tests.admin.conftest import ADMIN_TOKEN, NOW, Seeded

# Examples per operation and engine, bounded so `make test` stays within a minute or two;
# FUZZ_EXAMPLES=1000 gives the longer run whose figures SECURITY.md records.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Requests sent and server errors seen, by status class; printed at the end (pytest -s).
TALLY: Counter[str] = Counter()

_SCHEMA = create_app(
    Settings(database_url="sqlite:///unused.db", insecure_dev=True, admin_token=ADMIN_TOKEN)
).openapi()
schema = schemathesis.openapi.from_dict(_SCHEMA).include(path_regex="^/api/v1/")


@pytest.fixture
def admin_base(make_settings: Callable[..., Settings], seeded: Seeded) -> Iterator[str]:
    """The app with the admin API on, served over HTTP on loopback, on the seeded database."""
    app = create_app(make_settings(), clock=lambda: NOW)
    with serve_in_thread(app) as base:
        yield base


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_admin_api_never_5xx(case: Any, admin_base: str) -> None:
    """Generated requests are answered below 500, and without the token never with a 2xx."""
    authorized = case.call(
        base_url=admin_base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    )
    anonymous = case.call(base_url=admin_base, timeout=30)
    TALLY.update(f"{r.status_code // 100}xx" for r in (authorized, anonymous))
    assert authorized.status_code < 500, (case.path, case.query, authorized.text[:300])
    assert 400 <= anonymous.status_code < 500, (case.path, anonymous.text[:300])


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nadmin API fuzz: {sum(TALLY.values())} requests, {dict(TALLY)}", file=sys.stderr)
