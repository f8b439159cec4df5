"""Settings of ``workhooks mirror``: flags over ``WORKHOOKS_MIRROR_*`` variables over defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from workhooks.client.endpoints import Endpoints, protime_endpoints
from workhooks.client.signatures import Verifier, verify_request
from workhooks.client.sink import SyncScope
from workhooks.config import ConfigError

__all__ = ["ENV_PREFIX", "MirrorSettings"]

ENV_PREFIX = "WORKHOOKS_MIRROR_"
_REQUIRED = ("tenant", "client_id", "client_secret")


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorSettings:
    """Where the server is, who we are, where the copy lives and where events arrive.

    The server is ``server_url`` (workhooks: tokens under the same URL) or a Protime
    ``environment`` (tokens from its authentication host); ``token_url`` or ``oidc_issuer``
    say where tokens come from instead. ``verifier`` (``module:function``) replaces the
    Standard Webhooks check of deliveries. The mirrored scope is ``date_from`` to ``date_to``
    (at most one year, as the Protime delta asks); by default the current calendar year.
    """

    server_url: str | None = None
    environment: str | None = None
    token_url: str | None = None
    oidc_issuer: str | None = None
    verifier: str | None = None
    tenant: str
    client_id: str
    client_secret: str = field(repr=False)
    db: str = "workhooks-mirror.db"
    host: str = "127.0.0.1"
    port: int = 8010
    public_url: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    external_references: str | None = None
    poll_seconds: float = 60.0
    renew_before_hours: float = 24.0
    user_agent: str = "workhooks-mirror/0.1.0 (workhooks)"

    def __post_init__(self) -> None:
        """Refuse values the mirror cannot run with, naming the variable."""
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"{ENV_PREFIX}PORT {self.port} is not a TCP port (1 to 65535)")
        if not self.poll_seconds > 0:
            raise ConfigError(f"{ENV_PREFIX}POLL_SECONDS must be more than 0")
        if not self.renew_before_hours >= 0:
            raise ConfigError(f"{ENV_PREFIX}RENEW_BEFORE_HOURS must not be negative")

    def endpoints(self) -> Endpoints:
        """Where the API and the token endpoint are."""
        if self.environment is not None:
            try:
                found = protime_endpoints(self.environment, self.tenant)
            except ValueError as exc:
                raise ConfigError(f"{ENV_PREFIX}ENVIRONMENT: {exc}") from exc
            return replace(found, token_url=self.token_url or found.token_url)
        if self.server_url is None:
            raise ConfigError("missing --server-url or --environment")
        return Endpoints(
            base_url=self.server_url, token_url=self.token_url, oidc_issuer=self.oidc_issuer
        )

    def load_verifier(self) -> Verifier:
        """The delivery check: ``verifier`` imported, else Standard Webhooks v1."""
        if self.verifier is None:
            return verify_request
        module_name, _, attribute = self.verifier.partition(":")
        try:
            found = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(
                f"{ENV_PREFIX}VERIFIER {self.verifier!r}: expected module:function ({exc})"
            ) from exc
        if not callable(found):
            raise ConfigError(f"{ENV_PREFIX}VERIFIER {self.verifier!r} is not callable")
        verifier: Verifier = found
        return verifier

    @property
    def destination_url(self) -> str:
        """The URL the server POSTs events to (``public_url``, else this host and port)."""
        return self.public_url or f"http://{self.host}:{self.port}/hook"

    def scope(self, today: dt.date) -> SyncScope:
        """The mirrored scope; missing ends default to the calendar year of ``today``."""
        date_from = self.date_from or dt.date(today.year, 1, 1)
        date_to = self.date_to or dt.date(date_from.year, 12, 31)
        if date_to < date_from:
            raise ConfigError(f"{ENV_PREFIX}TO {date_to} is before {ENV_PREFIX}FROM {date_from}")
        return SyncScope(
            date_from=date_from, date_to=date_to, external_references=self.external_references
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> MirrorSettings:
        """Read ``WORKHOOKS_MIRROR_<NAME>`` (``FROM``/``TO`` for the dates), then apply flags."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            name = item.name.removeprefix("date_")
            raw = source.get(f"{ENV_PREFIX}{name.upper()}")
            if raw is not None and raw.strip():
                values[item.name] = _convert(f"{ENV_PREFIX}{name.upper()}", str(item.type), raw)
        for key, value in overrides.items():
            if value is not None:
                values[key] = value
        missing = [f"--{k.replace('_', '-')}" for k in _REQUIRED if not values.get(k)]
        if not values.get("server_url") and not values.get("environment"):
            missing.insert(0, "--server-url (or --environment)")
        if missing:
            raise ConfigError(
                f"missing {', '.join(missing)} (or the {ENV_PREFIX}* environment variables)"
            )
        return cls(**values)


def _convert(name: str, kind: str, raw: str) -> Any:
    text = raw.strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind.startswith("dt.date"):
            return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: {exc}") from exc
    return text
