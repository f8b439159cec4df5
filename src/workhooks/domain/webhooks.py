"""Webhooks: the subscription, its status and the rules for its destination."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from urllib.parse import urlsplit

from workhooks.domain.addresses import check_destination_host
from workhooks.domain.external_references import ExternalReference
from workhooks.errors import (
    InvalidDestinationError,
    TooManyWebhooksError,
    UnknownCollectionError,
)

__all__ = [
    "MAX_DESTINATION_LENGTH",
    "Collection",
    "NewWebhook",
    "Webhook",
    "WebhookStatus",
    "check_webhook_limit",
    "cursor_moved_back",
    "destination_origin",
    "is_webhook_id",
    "parse_collection",
    "validate_destination",
]

MAX_DESTINATION_LENGTH = 2048
# Letters (any script: IDNA names), digits, hyphens and dots; no percent-escapes or symbols.
_HOST_NAME = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?\.?")


class WebhookStatus(StrEnum):
    """A webhook is ``Enabled`` at creation and may become ``Disabled``; it is never revived."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"


class Collection(StrEnum):
    """The collections that support webhooks here."""

    WORK_INTERRUPTIONS = "work-interruptions"


def parse_collection(name: str) -> Collection:
    """Return the collection called ``name`` or raise ``UnknownCollectionError``."""
    try:
        return Collection(name)
    except ValueError:
        supported = ", ".join(c.value for c in Collection)
        raise UnknownCollectionError(
            f"Unknown collection name {name!r}",
            reasons=(
                f"collectionName: {name!r} does not support webhooks; use one of: {supported}",
            ),
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhook:
    """Everything needed to store a webhook at creation."""

    id: str
    tenant: str
    destination_url: str
    collection: Collection
    secret: bytes = field(repr=False)
    created_at: dt.datetime
    valid_until: dt.datetime
    external_references: tuple[ExternalReference, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A stored webhook with its delivery cursor (the last change version it has delivered)."""

    id: str
    tenant: str
    destination_url: str
    collection: Collection
    secret: bytes = field(repr=False)
    status: WebhookStatus
    created_at: dt.datetime
    valid_until: dt.datetime
    cursor: int
    deleted_at: dt.datetime | None = None
    disabled_reason: str | None = None
    failures: int = 0
    next_attempt_at: dt.datetime | None = None
    external_references: tuple[ExternalReference, ...] = ()


_DEFAULT_PORTS = {"http": 80, "https": 443}
_WEBHOOK_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_webhook_id(text: str) -> bool:
    """Whether ``text`` is spelled like a webhook id (a lower-case GUID); others name none."""
    return _WEBHOOK_ID.fullmatch(text) is not None


def destination_origin(url: str) -> str:
    """The origin of a destination (``scheme://host:port``): what shares connections.

    Delivery limits and probing apply per origin. A URL that does not parse is its own origin.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS.get(scheme, 0)}"


def _reject(url: str, reason: str) -> InvalidDestinationError:
    return InvalidDestinationError(
        f"Invalid destination URL {url[:200]!r}", reasons=(f"destinationUrl: {reason}",)
    )


def validate_destination(
    url: str,
    *,
    allow_http: bool,
    allow_loopback: bool,
    allowed_networks: Sequence[IPv4Network | IPv6Network] = (),
) -> str:
    """Check a destination URL and return it; raise ``InvalidDestinationError`` with the reason.

    Rules: an absolute ``https`` URL (``http`` only in development mode) of at most 2,048
    characters, with a host, without user info, and not a literal forbidden address.
    Host names are checked again against the addresses actually connected, at delivery time.
    """
    if len(url) > MAX_DESTINATION_LENGTH:
        raise _reject(url, f"must be at most {MAX_DESTINATION_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise _reject(url, "must not contain white space or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise _reject(url, f"is not a valid URL ({exc})") from exc
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        hint = "" if allow_http else " (plain http is accepted only in development mode)"
        raise _reject(url, f"must be an absolute https URL{hint}")
    if not parts.hostname:
        raise _reject(url, "must name a host")
    if parts.username is not None or parts.password is not None:
        raise _reject(url, "must not contain user info")
    if parts.port == 0:
        raise _reject(url, "must not use port 0")
    if not parts.netloc.startswith("[") and not _HOST_NAME.fullmatch(parts.hostname):
        raise _reject(url, f"host {parts.hostname[:100]!r} is not a valid host name")
    try:
        check_destination_host(
            parts.hostname, allow_loopback=allow_loopback, allowed=tuple(allowed_networks)
        )
    except InvalidDestinationError as exc:
        raise _reject(url, "; ".join(exc.reasons) or exc.message) from exc
    return url


def check_webhook_limit(enabled: int, *, max_enabled: int | None) -> None:
    """Raise ``TooManyWebhooksError`` when a tenant with ``enabled`` enabled webhooks (not
    deleted) may not have another; no limit when ``max_enabled`` is None."""
    if max_enabled is not None and enabled >= max_enabled:
        raise TooManyWebhooksError.limit(max_enabled)


def cursor_moved_back(cursor: int, first: int | None) -> int:
    """How many change versions a webhook's cursor moves back to send again from ``first``.

    The cursor goes to just before ``first``, never forward: a cursor already below it
    stays (that change is still to be sent), and nothing to send again (None) moves nothing.
    """
    return 0 if first is None else max(0, cursor - (first - 1))
