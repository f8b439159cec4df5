"""The workhooks consumer SDK: clients, signature checks and the sync engine.

It works against workhooks or any server that implements the Protime contract, and imports
no server code (only the standard library, httpx, msgspec and ``workhooks.domain.signing``).
"""

from workhooks.client.async_client import AsyncClient
from workhooks.client.calls import API_PREFIX
from workhooks.client.endpoints import PROTIME, PROTIME_SANDBOX, Endpoints, protime_endpoints
from workhooks.client.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ProtimeError,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnexpectedResponse,
    UriTooLong,
    ValidationIssue,
)
from workhooks.client.models import (
    ChangeType,
    CreatedWebhook,
    Delivery,
    DeliveryAttempt,
    DeliveryDetail,
    DeltaItem,
    Person,
    PersonRef,
    PersonWrite,
    Webhook,
    WebhookStatus,
    WorkInterruption,
    WorkInterruptionWrite,
)
from workhooks.client.options import DEFAULT_USER_AGENT
from workhooks.client.paging import AsyncWalk, Walk
from workhooks.client.policy import RetryPolicy
from workhooks.client.signatures import (
    InvalidPayloadError,
    InvalidSignatureError,
    MissingHeaderError,
    SignatureError,
    TimestampOutOfToleranceError,
    Verifier,
    verify,
    verify_request,
)
from workhooks.client.sink import Sink, SyncScope, SyncState, Tombstone
from workhooks.client.sqlite_sink import SqliteSink
from workhooks.client.sync import Received, SyncEngine, SyncOptions
from workhooks.client.sync_client import Client

__all__ = [
    "API_PREFIX",
    "DEFAULT_USER_AGENT",
    "PROTIME",
    "PROTIME_SANDBOX",
    "AsyncClient",
    "AsyncWalk",
    "BadRequest",
    "ChangeType",
    "Client",
    "Conflict",
    "CreatedWebhook",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryDetail",
    "DeltaItem",
    "Endpoints",
    "Forbidden",
    "Gone",
    "InvalidPayloadError",
    "InvalidSignatureError",
    "MissingHeaderError",
    "NotFound",
    "Person",
    "PersonRef",
    "PersonWrite",
    "ProtimeError",
    "Received",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailable",
    "SignatureError",
    "Sink",
    "SqliteSink",
    "SyncEngine",
    "SyncOptions",
    "SyncScope",
    "SyncState",
    "TimestampOutOfToleranceError",
    "Tombstone",
    "TooManyRequests",
    "Unauthorized",
    "UnexpectedResponse",
    "UriTooLong",
    "ValidationIssue",
    "Verifier",
    "Walk",
    "Webhook",
    "WebhookStatus",
    "WorkInterruption",
    "WorkInterruptionWrite",
    "protime_endpoints",
    "verify",
    "verify_request",
]
