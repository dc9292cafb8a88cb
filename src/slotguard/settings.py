"""Process settings from ``SLOTGUARD_*`` variables; built once by the CLI, never at import."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from slotguard.store.db import DatabaseUrlError, async_url

DEFAULT_DATABASE_URL = "sqlite:///./slotguard.db"
# Throttling bounds guesses per client, but a short token is still a guessable one;
# `openssl rand -hex 32` gives 64 characters.
MIN_ADMIN_TOKEN_LENGTH = 16


class SettingsError(ValueError):
    """The environment holds an invalid setting; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything a process needs from its environment. See README § Configuration."""

    model_config = SettingsConfigDict(env_prefix="SLOTGUARD_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    config: Path | None = Field(default=None, description="tenants file (TOML)")
    retell_api_key: SecretStr | None = None
    insecure_dev: bool = False
    calcom_base_url: str = "https://api.cal.com"
    admin_token: SecretStr | None = None
    api_docs: bool | None = Field(
        default=None, description="/docs and /openapi.json; default: only in insecure dev mode"
    )
    metrics_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    reconcile_interval_seconds: float = Field(default=30.0, ge=0, description="0 turns it off")
    # Must exceed the Cal.com timeout, so a create still in flight is never judged absent.
    pending_grace_seconds: float = Field(default=120.0, ge=0)
    calcom_timeout_seconds: float = Field(default=10.0, gt=0)
    # Stored webhook and call bodies (names, numbers, transcripts) are kept this long.
    retention_days: int = Field(default=90, ge=1, le=3650)
    # Free slots are shared by every process this long at most (0: ask Cal.com every time).
    calcom_slots_ttl_seconds: float = Field(default=20.0, ge=0, le=30)
    # Cal.com's limit of one API key per minute (120 unless Cal.com raised it for the account).
    calcom_rate_limit_per_minute: int = Field(default=120, ge=1)
    calendar_sync_interval_seconds: float = Field(default=300.0, ge=0, description="0: off")
    calendar_sync_days: int = Field(default=14, ge=1, le=90)
    # A repeated function call within this window is a retry and gets the first answer again:
    # Retell's tool timeout (20 s) times its three tries. Later repeats run afresh.
    replay_window_seconds: float = Field(default=60.0, ge=0)
    # A request that holds its key longer than this crashed; a retry takes over. Shorter than
    # the 20 s tool timeout, longer than a create (the Cal.com timeout) normally takes.
    claim_timeout_seconds: float = Field(default=15.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            async_url(value)
        except (DatabaseUrlError, ValueError) as error:
            raise ValueError(
                f"{error}; use sqlite:///PATH or postgresql://user@host:port/db"
            ) from None
        return value

    @field_validator("config")
    @classmethod
    def _config_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"tenants file {value} does not exist")
        return value

    @field_validator("retell_api_key", "admin_token", "metrics_token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        # Set but empty is a mistake (an empty line in an env file), never "no key": treating
        # it as unset would silently switch verification or the admin API to another mode.
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is set but empty; give it a value or unset it")
        return value

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"must be at least {MIN_ADMIN_TOKEN_LENGTH} characters "
                "(e.g. the output of `openssl rand -hex 32`)"
            )
        return value

    @property
    def docs_served(self) -> bool:
        """Whether /docs and /openapi.json are served: asked for, or insecure dev mode."""
        if self.api_docs is not None:
            return self.api_docs
        return self.retell_api_key is None and self.insecure_dev

    def serving_problem(self) -> str | None:
        """Why this configuration must not serve traffic, or None when it may."""
        if self.retell_api_key is not None:
            return None
        if not self.insecure_dev:
            return (
                "SLOTGUARD_RETELL_API_KEY is not set: Retell signatures cannot be verified. "
                "Set it, or set SLOTGUARD_INSECURE_DEV=1 for local development."
            )
        if not is_loopback(self.host):
            return (
                f"SLOTGUARD_INSECURE_DEV=1 accepts unsigned calls and serves only on loopback, "
                f"not on SLOTGUARD_HOST={self.host}; set SLOTGUARD_RETELL_API_KEY to serve there"
            )
        return None


def is_loopback(host: str) -> bool:
    """True when ``host`` can only be reached from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings() -> Settings:
    """Read the environment; raise SettingsError with one readable line on a bad value."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "SLOTGUARD_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"invalid {name}: {message}") from None
