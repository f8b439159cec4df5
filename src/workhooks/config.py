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

from workhooks.domain.deliveries import MAX_EXCERPT_BYTES
from workhooks.domain.retry import RetryPolicy
from workhooks.logs import LOG_FORMATS, LOG_LEVELS

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
    excerpt_bytes: int = 256
    failure_excerpt_bytes: int = 65536
    page_size: int = 1000
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    log_level: str = "info"
    max_header_bytes: int = 16 * 1024
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_connections: int = 1000
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    log_format: str = "text"  # or "json": one object per line
    worker_port: int = 8001  # `workhooks worker`: /health, /ready, /metrics (0: any free port)
    metrics_token: str | None = None
    metrics_webhook_series: int = 100
    db_pool_min: int = 2
    db_pool_max: int = 10
    lease_seconds: float = 30.0
    claim_batch: int = 256
    master_key: str | None = dataclasses.field(default=None, repr=False)
    master_key_file: str | None = None
    token_failures_per_client: int = 10
    token_failures_per_address: int = 50
    console_session_minutes: int = 480
    portal_link_minutes: int = 15

    def __post_init__(self) -> None:
        """Refuse every value that would stop delivery, break a route or make no sense."""
        self._check_ranges()
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"WORKHOOKS_PORT {self.port} is not a TCP port (1 to 65535)")
        if self.db_pool_min > self.db_pool_max:
            raise ConfigError("WORKHOOKS_DB_POOL_MIN must not exceed WORKHOOKS_DB_POOL_MAX")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"WORKHOOKS_LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.log_level.lower() not in LOG_LEVELS:
            raise ConfigError(
                f"WORKHOOKS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
                f"not {self.log_level!r}"
            )
        try:
            RetryPolicy.from_seconds(self.retry_schedule)
        except ValueError as exc:
            raise ConfigError(f"WORKHOOKS_RETRY_SCHEDULE {self.retry_schedule!r}: {exc}") from exc

    def _check_ranges(self) -> None:
        for name in _AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise ConfigError(f"WORKHOOKS_{name.upper()} must be at least 1")
        for name in _ABOVE_ZERO:
            if not getattr(self, name) > 0:
                raise ConfigError(f"WORKHOOKS_{name.upper()} must be more than 0")
        for name in _NOT_NEGATIVE:
            if not getattr(self, name) >= 0:
                raise ConfigError(f"WORKHOOKS_{name.upper()} must not be negative (0 = off)")
        for name in ("excerpt_bytes", "failure_excerpt_bytes"):
            if not 0 <= getattr(self, name) <= MAX_EXCERPT_BYTES:
                raise ConfigError(
                    f"WORKHOOKS_{name.upper()} must be between 0 and {MAX_EXCERPT_BYTES}"
                )

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
    "page_size",
    "history_page_size",
    "token_ttl_seconds",
    "webhook_validity_days",
    "history_retention_days",
    "db_pool_max",
    "max_header_bytes",
    "max_connections",
    "rate_limit_burst",
    "token_failures_per_client",
    "token_failures_per_address",
    "console_session_minutes",
    "portal_link_minutes",
)
_ABOVE_ZERO = (
    "delivery_timeout_seconds",
    "poll_interval_seconds",
    "lease_seconds",
    "header_timeout_seconds",
    "body_timeout_seconds",
)
_NOT_NEGATIVE = ("metrics_webhook_series", "rate_limit_per_second")


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
