"""Retell payloads: the custom-function wrapper, the call object, lifecycle events."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# Retell sends Unix milliseconds; anything outside 1970–2100 is a broken client, not a call.
MAX_EPOCH_MS = 4_102_444_800_000
EpochMillis = Annotated[int, Field(ge=0, le=MAX_EPOCH_MS)]
# The widths of the calls table's columns: a longer value is a broken client, and refusing it
# here is a precise 400 instead of a database error later.
ID_LENGTH = 128
PHONE_LENGTH = 32
STATUS_LENGTH = 32


class RetellCall(BaseModel):
    """The fields of Retell's call object that slotguard uses (others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1, max_length=ID_LENGTH)
    agent_id: str | None = Field(default=None, max_length=ID_LENGTH)
    from_number: str | None = Field(default=None, max_length=PHONE_LENGTH)
    to_number: str | None = Field(default=None, max_length=PHONE_LENGTH)
    call_status: str | None = Field(default=None, max_length=STATUS_LENGTH)
    start_timestamp: EpochMillis | None = None
    end_timestamp: EpochMillis | None = None


class FunctionCall(BaseModel):
    """A custom-function request in the default wrapped form ``{name, call, args}``."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    call: RetellCall
    args: dict[str, Any] = Field(default_factory=dict)


class LifecycleEvent(BaseModel):
    """``{"event": "...", "call": {...}}`` from Retell's call webhooks."""

    model_config = ConfigDict(extra="ignore")

    event: str = Field(min_length=1, max_length=64)
    call: RetellCall
