"""Settings: CLI flags over ``WORKHOOKS_*`` environment variables over defaults.

Nothing is read at import time: ``Settings.from_env()`` is called by the CLI, once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Any

__all__ = ["ConfigError", "Settings"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Every setting of workhooks, with its default.

    ``dev`` (development mode) accepts ``http`` and loopback destinations; never on by default.
    """

    database_url: str = "sqlite:///workhooks.db"  # or postgresql://user@host:5432/db
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    dev: bool = False
    run_worker: bool = True
    token_ttl_seconds: int = 1800
    webhook_validity_days: int = 30
    retry_schedule: str = "5,300,1800,7200,18000,36000,50400,72000,86400"
    delivery_timeout_seconds: float = 15.0
    delivery_window: int = 500
    delivery_concurrency: int = 32
    webhook_concurrency: int = 32
    windows_in_flight: int = 256
    max_webhooks_per_tenant: int = 10_000
    poll_interval_seconds: float = 1.0
    history_retention_days: int = 7
    history_page_size: int = 100
    page_size: int = 1000
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    log_level: str = "info"
    metrics_token: str | None = None
    metrics_webhook_series: int = 100
    db_pool_min: int = 2
    db_pool_max: int = 10
    lease_seconds: float = 30.0
    claim_batch: int = 256
    console_session_minutes: int = 480
    portal_link_minutes: int = 15

    def __post_init__(self) -> None:
        """Refuse limits that would stop delivery or make no sense."""
        for name in _AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise ConfigError(f"WORKHOOKS_{name.upper()} must be at least 1")
        if self.metrics_webhook_series < 0:
            raise ConfigError("WORKHOOKS_METRICS_WEBHOOK_SERIES must not be negative")

    @property
    def base_url(self) -> str:
        """The URL clients use to reach this server (issuer of tokens, links)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``WORKHOOKS_<NAME>`` variables, then apply non-None overrides."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = source.get(f"WORKHOOKS_{field.name.upper()}")
            if raw is not None:
                values[field.name] = _convert(field.name, field.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


_AT_LEAST_ONE = (
    "delivery_window",
    "delivery_concurrency",
    "webhook_concurrency",
    "windows_in_flight",
    "max_webhooks_per_tenant",
    "claim_batch",
    "console_session_minutes",
    "portal_link_minutes",
)


def _convert(name: str, kind: object, raw: str) -> Any:
    text = raw.strip()
    try:
        if kind == "bool":
            lowered = text.lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError("expected one of 1/0, true/false, yes/no, on/off")
            return lowered in _TRUE
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if name == "allowed_networks":
            return tuple(ipaddress.ip_network(p.strip()) for p in text.split(",") if p.strip())
    except ValueError as exc:
        raise ConfigError(f"WORKHOOKS_{name.upper()}={raw!r}: {exc}") from exc
    return text
