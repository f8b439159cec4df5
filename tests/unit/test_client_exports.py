"""The SDK's public surface is what we meant: exactly these names, each documented."""

from __future__ import annotations

import inspect

import workhooks.client

EXPECTED = {
    # clients and their walks
    "Client",
    "AsyncClient",
    "Walk",
    "AsyncWalk",
    "RetryPolicy",
    "API_PREFIX",
    "DEFAULT_USER_AGENT",
    # where the API and its tokens are (workhooks, or a Protime environment)
    "Endpoints",
    "PROTIME",
    "PROTIME_SANDBOX",
    "protime_endpoints",
    "Verifier",
    # models
    "WorkInterruption",
    "WorkInterruptionWrite",
    "PersonRef",
    "Person",
    "PersonWrite",
    "Webhook",
    "CreatedWebhook",
    "WebhookStatus",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryDetail",
    "DeltaItem",
    "ChangeType",
    # errors
    "ProtimeError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Gone",
    "UriTooLong",
    "TooManyRequests",
    "ServiceUnavailable",
    "ServerError",
    "UnexpectedResponse",
    "ValidationIssue",
    # signatures
    "verify",
    "verify_request",
    "SignatureError",
    "MissingHeaderError",
    "TimestampOutOfToleranceError",
    "InvalidSignatureError",
    "InvalidPayloadError",
    # sync engine
    "SyncEngine",
    "SyncOptions",
    "SyncScope",
    "SyncState",
    "Received",
    "Sink",
    "SqliteSink",
    "Tombstone",
}


def test_exports_are_exactly_the_intended_names() -> None:
    """Nothing is exported by accident and nothing intended is missing."""
    assert set(workhooks.client.__all__) == EXPECTED
    assert len(workhooks.client.__all__) == len(EXPECTED)


def test_every_exported_class_and_function_has_a_docstring() -> None:
    """Each public class or function says what it is for."""
    undocumented = [
        name
        for name in workhooks.client.__all__
        if (inspect.isclass(obj := getattr(workhooks.client, name)) or inspect.isfunction(obj))
        and not inspect.getdoc(obj)
    ]
    assert undocumented == []


def test_public_methods_of_the_clients_are_documented_and_mirror_each_other() -> None:
    """``Client`` and ``AsyncClient`` offer the same documented operations."""

    def public(cls: type) -> set[str]:
        return {n for n, _ in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}

    sync_names = public(workhooks.client.Client) - {"close"}
    async_names = public(workhooks.client.AsyncClient) - {"aclose"}
    assert sync_names == async_names
    assert all(inspect.getdoc(getattr(workhooks.client.Client, n)) for n in sync_names)
    assert "iter_work_interruptions" in sync_names
