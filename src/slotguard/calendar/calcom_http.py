"""The HTTP side of the Cal.com adapter: one request at a time, under the per-key budget.

``send_once`` sends exactly once (creates); ``read`` retries what is safe to repeat. Every
``httpx`` exception is translated here (``HTTPX_ERRORS``) into ``SendFailed``, ``BudgetExhausted``
or ``CalendarUnreachable``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from slotguard.calendar.provider import CalendarUnreachable, RateLimited
from slotguard.calendar.ratelimit import (
    BudgetExhausted,
    BudgetPool,
    Clock,
    Priority,
    RateBudgets,
    RateLimit,
    RetryPolicy,
    Sleep,
)
from slotguard.calendar.waiting import waiting
from slotguard.observability import get_logger

# Everything httpx raises from a request: its whole public exception tree (meta-tested).
HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)

# A read whose deadline is (nearly) spent still gets this long to be answered.
_MIN_TIMEOUT = 0.05

Observe = Callable[[str, str, float], None]
"""``observe(endpoint, outcome, seconds)`` feeds the calendar latency histogram."""

_log = get_logger("calcom")


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Cal.com request: method, path, ``cal-api-version``, metrics label, query, body,
    and its priority in the key's budget (writes come first)."""

    method: str
    path: str
    version: str
    endpoint: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    priority: Priority = Priority.READ


class SendFailed(Exception):
    """An httpx error, translated: the request may or may not have reached Cal.com."""


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _outcome(status: int) -> str:
    if status == 429:
        return "rate_limited"
    return {2: "ok", 5: "server_error"}.get(status // 100, "client_error")


# Transport errors raised before any byte of the request was written.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class CalcomClient:
    """The process's one door to Cal.com: auth and version headers, rate budgets, retries, logs.

    ``http`` is the process's shared ``httpx.AsyncClient`` (base URL and timeout set by the
    app lifespan, which also closes it). ``budgets`` are kept per API key (sha256): the
    lifespan passes the database-kept ones shared by all processes; without them the budget
    is this process's own.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        rate_limit: RateLimit | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        budgets: BudgetPool | None = None,
    ) -> None:
        self.http = http
        self.retry = retry or RetryPolicy()
        self.budgets = budgets or RateBudgets(rate_limit, clock=clock, sleep=sleep)
        self._clock, self._sleep, self._jitter = clock, sleep, jitter

    async def send_once(
        self, call: ApiCall, api_key: str, observe: Observe, deadline: float | None = None
    ) -> httpx.Response:
        """Send once. Raises BudgetExhausted (nothing sent) or SendFailed (maybe sent).

        Without ``deadline`` (a create) it waits up to ``send_wait`` for the budget and uses
        the client's timeout; with one (a read) neither the wait nor the answer may pass it,
        and a read waits ``read_budget_wait`` at most for the budget.
        """
        budget = self.budgets.for_key(api_key)
        left = float("inf") if deadline is None else deadline - self._clock()
        write = call.priority is Priority.WRITE
        patience = self.retry.send_wait if write else self.retry.read_budget_wait
        try:
            with waiting():
                ticket = await budget.acquire(min(patience, left), call.priority)
        except BudgetExhausted:
            _log.warning("calcom_budget_exhausted", endpoint=call.endpoint, path=call.path)
            observe(call.endpoint, "budget_exhausted", 0.0)
            raise
        headers = {"Authorization": f"Bearer {api_key}", "cal-api-version": call.version}
        started = time.perf_counter()
        try:
            with waiting():
                response = await self.http.request(
                    call.method, call.path, params=call.params, json=call.json,
                    headers=headers, timeout=self._timeout(deadline),
                )  # fmt: skip
        except HTTPX_ERRORS as problem:
            seconds = time.perf_counter() - started
            error = type(problem).__name__
            _log.warning("calcom_request_failed", method=call.method, path=call.path,
                         error=error, latency_ms=round(seconds * 1000, 1))  # fmt: skip
            observe(call.endpoint, "transport_error", seconds)
            await budget.abandoned(ticket)
            raise SendFailed(f"{error}: {problem}") from problem
        seconds = time.perf_counter() - started
        await budget.done(ticket, response.status_code, response.headers)
        _log.info("calcom_request", method=call.method, path=call.path,
                  status=response.status_code, latency_ms=round(seconds * 1000, 1))  # fmt: skip
        observe(call.endpoint, _outcome(response.status_code), seconds)
        return response

    def _timeout(self, deadline: float | None) -> httpx.Timeout:
        """The client's timeout, each phase cut to what is left before ``deadline``."""
        configured = self.http.timeout
        if deadline is None:
            return configured
        left = max(_MIN_TIMEOUT, deadline - self._clock())
        return httpx.Timeout(
            connect=min(configured.connect or left, left),
            read=min(configured.read or left, left),
            write=min(configured.write or left, left),
            pool=min(configured.pool or left, left),
        )

    async def read(self, call: ApiCall, api_key: str, observe: Observe) -> httpx.Response:
        """Send a request that is safe to repeat, retrying 408/429/5xx and transport errors.

        Returns the first other answer (2xx or 4xx); raises CalendarUnreachable when the
        attempts, the deadline or the rate budget run out.
        """
        deadline = self._clock() + self.retry.read_deadline
        last, tries = "not sent", 0
        while tries < self.retry.attempts:
            tries += 1
            try:
                response = await self.send_once(call, api_key, observe, deadline)
            except BudgetExhausted as problem:
                raise RateLimited(f"{call.endpoint}: {problem}") from problem
            except SendFailed as problem:
                last = str(problem)
            else:
                if not _retryable(response.status_code):
                    return response
                last = f"HTTP {response.status_code}"
            pause = self.retry.pause(tries, self._jitter())
            if tries == self.retry.attempts or self._clock() + pause > deadline:
                break
            await self._sleep(pause)
        raise CalendarUnreachable(f"{call.endpoint}: {last} (gave up after {tries} tries)")


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


# -- the calendar ------------------------------------------------------------------------------
