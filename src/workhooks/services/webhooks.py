"""Webhook use cases: create (key shown once), list with filters, get, soft delete."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from workhooks.domain.external_references import parse_external_references
from workhooks.domain.filter_specs import WEBHOOKS_FILTER, matches, parse_filter
from workhooks.domain.signing import KEY_SIZE, encode_key
from workhooks.domain.webhooks import (
    NewWebhook,
    Webhook,
    is_webhook_id,
    parse_collection,
    validate_destination,
)
from workhooks.errors import NotFoundError
from workhooks.services.clock import Clock
from workhooks.storage.protocol import WebhookStore

__all__ = ["CreatedWebhook", "DestinationRules", "WebhookService"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationRules:
    """What destinations this server accepts (development mode relaxes them)."""

    allow_http: bool = False
    allow_loopback: bool = False
    allowed_networks: Sequence[IPv4Network | IPv6Network] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedWebhook:
    """A new webhook and its private key, which is never shown again."""

    webhook: Webhook
    key: str


class WebhookService:
    """Manages a tenant's webhooks."""

    def __init__(
        self,
        store: WebhookStore,
        clock: Clock,
        *,
        rules: DestinationRules,
        validity: dt.timedelta,
        max_enabled: int | None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rules = rules
        self._validity = validity
        self._max_enabled = max_enabled

    async def create(
        self,
        tenant: str,
        *,
        destination_url: str,
        collection_name: str,
        references: str | None = None,
    ) -> CreatedWebhook:
        """Validate and store a webhook; its cursor starts at the tenant's current version.

        ``references`` (``(people,@employee-number)...``) are rendered into every event.
        A tenant that already has ``max_enabled`` enabled webhooks gets
        ``TooManyWebhooksError``.
        """
        external_references = parse_external_references(references)
        collection = parse_collection(collection_name)
        url = validate_destination(
            destination_url,
            allow_http=self._rules.allow_http,
            allow_loopback=self._rules.allow_loopback,
            allowed_networks=self._rules.allowed_networks,
        )
        secret = secrets.token_bytes(KEY_SIZE)
        now = self._clock.now()
        webhook = await self._store.create_webhook(
            NewWebhook(
                id=str(uuid.uuid4()),
                tenant=tenant,
                destination_url=url,
                collection=collection,
                secret=secret,
                created_at=now,
                valid_until=now + self._validity,
                external_references=external_references,
            ),
            max_enabled=self._max_enabled,
        )
        return CreatedWebhook(webhook=webhook, key=encode_key(secret))

    async def list(self, tenant: str, *, filter_text: str | None = None) -> list[Webhook]:
        """Return the tenant's webhooks that are not deleted and match ``filter_text``.

        The filter may use ``status`` and ``collection-name`` (``eq``/``in``, ``and``/``or``).
        """
        node = None if filter_text is None else parse_filter(filter_text, WEBHOOKS_FILTER)
        webhooks = await self._store.list_webhooks(tenant)
        if node is None:
            return webhooks
        return [
            w
            for w in webhooks
            if matches(node, {"status": w.status.value, "collection-name": w.collection.value})
        ]

    async def get(self, tenant: str, webhook_id: str, *, include_deleted: bool = False) -> Webhook:
        """Return one webhook of the tenant or raise ``NotFoundError``."""
        known = is_webhook_id(webhook_id)
        webhook = await self._store.get_webhook(tenant, webhook_id) if known else None
        if webhook is None or (webhook.deleted_at is not None and not include_deleted):
            raise NotFoundError(f"Webhook {webhook_id[:80]!r} does not exist")
        return webhook

    async def delete(self, tenant: str, webhook_id: str) -> None:
        """Soft-delete: deliveries stop, the delivery history stays readable."""
        if not is_webhook_id(webhook_id) or not await self._store.delete_webhook(
            tenant, webhook_id, at=self._clock.now()
        ):
            raise NotFoundError(f"Webhook {webhook_id[:80]!r} does not exist")
