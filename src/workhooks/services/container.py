"""The services an API process needs, built once by ``workhooks.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from workhooks.services.auth import AuthService
from workhooks.services.clients import ClientService
from workhooks.services.console import ConsoleService
from workhooks.services.deliveries import DeliveryHistoryService
from workhooks.services.groups import GroupService
from workhooks.services.reads import ReadService
from workhooks.services.records import RecordService
from workhooks.services.references import ReferenceService
from workhooks.services.sessions import SessionService
from workhooks.services.webhooks import WebhookService

__all__ = ["Services"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Use cases reachable from the API."""

    auth: AuthService
    clients: ClientService
    records: RecordService
    webhooks: WebhookService
    deliveries: DeliveryHistoryService
    reads: ReadService
    references: ReferenceService
    groups: GroupService
    console: ConsoleService
    sessions: SessionService
