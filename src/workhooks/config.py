"""Settings: CLI flags over ``WORKHOOKS_*`` environment variables over defaults.

Every setting and its default is written here, and only here: the layers take their
tuning as required parameters from the composition root. Settings are grouped by concern
(``server``, ``storage``, ``security``, ``http``, ``delivery``, ``api``); a field named
``x`` is read from ``WORKHOOKS_X`` whatever its group, so the variable names are flat.

Nothing is read at import time: ``Settings.from_env()`` is called by the CLI, once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from workhooks.domain.deliveries import MAX_EXCERPT_BYTES
from workhooks.domain.retry import DEFAULT_RETRY_SCHEDULE, RetryPolicy
from workhooks.logs import LOG_FORMATS, LOG_LEVELS

__all__ = [
    "ApiSettings",
    "ConfigError",
    "DeliverySettings",
    "HttpLimits",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "database_help",
    "default_of",
    "env_name",
    "setting_fields",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


def env_name(name: str) -> str:
    """The environment variable of the setting ``name``."""
    return f"WORKHOOKS_{name.upper()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """The process: where it listens, what it runs, how it logs."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    run_worker: bool = True
    worker_port: int = 8001  # `workhooks worker`: /health, /ready, /metrics (0: any free port)
    log_level: str = "info"
    log_format: str = "text"  # or "json": one object per line

    def __post_init__(self) -> None:
        """Refuse a port that is none, and log settings the logger does not know."""
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"WORKHOOKS_PORT {self.port} is not a TCP port (1 to 65535)")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"WORKHOOKS_LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.log_level.lower() not in LOG_LEVELS:
            raise ConfigError(
                f"WORKHOOKS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
                f"not {self.log_level!r}"
            )

    @property
    def base_url(self) -> str:
        """The URL clients use to reach this server (issuer of tokens, links)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageSettings:
    """The database and how this process holds it."""

    database_url: str = "sqlite:///workhooks.db"  # or postgresql://user@host:5432/db
    db_pool_min: int = 2
    db_pool_max: int = 10
    lease_seconds: float = 30.0

    def __post_init__(self) -> None:
        """Refuse a pool that cannot be built and a lease that never lasts."""
        _check_ranges(self)
        if self.db_pool_min > self.db_pool_max:
            raise ConfigError("WORKHOOKS_DB_POOL_MIN must not exceed WORKHOOKS_DB_POOL_MAX")


@dataclass(frozen=True, slots=True, kw_only=True)
class SecuritySettings:
    """Keys, tokens, sign-in limits and sessions."""

    master_key: str | None = field(default=None, repr=False)
    master_key_file: str | None = None
    token_ttl_seconds: int = 1800
    token_failures_per_client: int = 10
    token_failures_per_address: int = 50
    metrics_token: str | None = field(default=None, repr=False)
    console_session_minutes: int = 480
    portal_link_minutes: int = 15

    def __post_init__(self) -> None:
        """Refuse lifetimes and limits below one."""
        _check_ranges(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpLimits:
    """What one API process accepts from its callers: connections, requests, rates."""

    max_header_bytes: int = 16 * 1024
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_connections: int = 1000
    rate_limit_per_second: float = 200.0  # 0: no rate limit
    rate_limit_burst: int = 400

    def __post_init__(self) -> None:
        """Refuse limits that would refuse everything or wait forever."""
        _check_ranges(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    """The delivery worker: windows, concurrency, retries, destinations, history kept."""

    retry_schedule: tuple[timedelta, ...] = DEFAULT_RETRY_SCHEDULE
    delivery_timeout_seconds: float = 15.0
    delivery_window: int = 500
    delivery_concurrency: int = 32
    webhook_concurrency: int = 32
    windows_in_flight: int = 256
    claim_batch: int = 256
    poll_interval_seconds: float = 1.0
    history_retention_days: int = 7
    excerpt_bytes: int = 256
    failure_excerpt_bytes: int = 65536
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()

    def __post_init__(self) -> None:
        """Refuse every value that would stop delivery."""
        _check_ranges(self)
        for name in ("excerpt_bytes", "failure_excerpt_bytes"):
            if not 0 <= getattr(self, name) <= MAX_EXCERPT_BYTES:
                raise ConfigError(f"{env_name(name)} must be between 0 and {MAX_EXCERPT_BYTES}")
        try:
            RetryPolicy(schedule=self.retry_schedule)
        except ValueError as exc:
            raise ConfigError(f"WORKHOOKS_RETRY_SCHEDULE: {exc}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    """The API's pages, webhook limits and metrics."""

    page_size: int = 1000
    history_page_size: int = 100
    max_webhooks_per_tenant: int = 10_000
    webhook_validity_days: int = 30
    metrics_webhook_series: int = 100

    def __post_init__(self) -> None:
        """Refuse pages and limits below one."""
        _check_ranges(self)


# The groups of ``Settings``: attribute -> type.
_GROUPS: dict[str, type[Any]] = {
    "server": ServerSettings,
    "storage": StorageSettings,
    "security": SecuritySettings,
    "http": HttpLimits,
    "delivery": DeliverySettings,
    "api": ApiSettings,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Every setting of workhooks, by concern.

    ``dev`` (development mode) accepts ``http`` and loopback destinations and keeps a master
    key in a local file; never on by default. It touches several concerns, so it stands alone.
    """

    dev: bool = False
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    http: HttpLimits = field(default_factory=HttpLimits)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    api: ApiSettings = field(default_factory=ApiSettings)

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings from values named as their variables (``port=9000`` for
        ``WORKHOOKS_PORT``), defaults for the rest; ``TypeError`` for an unknown name."""
        groups = {
            group: kind(**{f.name: values.pop(f.name) for f in _fields(kind) if f.name in values})
            for group, kind in _GROUPS.items()
        }
        return cls(**values, **groups)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``WORKHOOKS_<NAME>`` variables, then apply non-None overrides."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in setting_fields():
            raw = source.get(env_name(setting.name))
            if raw is not None:
                values[setting.name] = _convert(setting.name, setting.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.of(**values)

    def replace(self, **values: Any) -> Settings:
        """These settings with some values changed, named as in ``of``."""
        return Settings.of(**{**dict(self.flat()), **values})

    def flat(self) -> Iterator[tuple[str, Any]]:
        """Every setting as (name, value), in the order of the variables."""
        yield "dev", self.dev
        for group in _GROUPS:
            part = getattr(self, group)
            for setting in _fields(type(part)):
                yield setting.name, getattr(part, setting.name)


def default_of(name: str) -> Any:
    """The default of the setting ``name`` (for help texts, which must not repeat it)."""
    (found,) = (f for f in setting_fields() if f.name == name)
    return found.default_factory() if found.default_factory is not MISSING else found.default


def database_help() -> str:
    """The help of every command's ``--database-url``."""
    return (
        f"sqlite:///<path> or postgresql://... (default {default_of('database_url')}; "
        f"env {env_name('database_url')})"
    )


def setting_fields() -> Iterator[dataclasses.Field[Any]]:
    """Every setting's field, of every group (each name is its variable, ``env_name``)."""
    yield from (f for f in dataclasses.fields(Settings) if f.name not in _GROUPS)
    for kind in _GROUPS.values():
        yield from _fields(kind)


def _fields(kind: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(kind)


_AT_LEAST_ONE = frozenset(
    {
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
    }
)
_ABOVE_ZERO = frozenset(
    {
        "delivery_timeout_seconds",
        "poll_interval_seconds",
        "lease_seconds",
        "header_timeout_seconds",
        "body_timeout_seconds",
    }
)
_NOT_NEGATIVE = frozenset({"metrics_webhook_series", "rate_limit_per_second"})


def _check_ranges(group: object) -> None:
    for setting in _fields(type(group)):
        name, value = setting.name, getattr(group, setting.name)
        if name in _AT_LEAST_ONE and value < 1:
            raise ConfigError(f"{env_name(name)} must be at least 1")
        if name in _ABOVE_ZERO and not value > 0:
            raise ConfigError(f"{env_name(name)} must be more than 0")
        if name in _NOT_NEGATIVE and not value >= 0:
            raise ConfigError(f"{env_name(name)} must not be negative (0 = off)")


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
        if name == "retry_schedule":
            return RetryPolicy.from_seconds(text).schedule
    except ValueError as exc:
        raise ConfigError(f"{env_name(name)}={raw!r}: {exc}") from exc
    return text
