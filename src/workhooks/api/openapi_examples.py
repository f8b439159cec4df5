"""One example per schema of the OpenAPI document, keyed by the schema's name.

Each example is a document this server could send or accept; a test validates every one
against its schema, so an example cannot drift from the model it shows.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EVENT_EXAMPLE", "EXAMPLES"]

_VERSION = "0000000000000000002A"
_RECORD: dict[str, Any] = {
    "changeVersion": _VERSION,
    "id": 1,
    "person": {"id": 7},
    "date": "2026-03-02",
    "durationInMinutes": 15,
    "startTimeInMinutes": 600,
    "endTimeInMinutes": 615,
}
_RECORD_IN: dict[str, Any] = {
    "person": {"id": 7},
    "date": "2026-03-02",
    "durationInMinutes": 15,
    "startTimeInMinutes": 600,
    "endTimeInMinutes": 615,
}
_PERSON: dict[str, Any] = {
    "changeVersion": "00000000000000000029",
    "id": 7,
    "badgeNumber": "B-007",
    "employeeNumber": "E-0007",
}
_PERSON_IN: dict[str, Any] = {"badgeNumber": "B-007", "employeeNumber": "E-0007"}
_WEBHOOK_ID = "3f2c1d9e-8b7a-4c6d-9e0f-1a2b3c4d5e6f"
_WEBHOOK: dict[str, Any] = {
    "id": _WEBHOOK_ID,
    "validUntil": "2026-04-01T10:00:00+00:00",
    "status": "Enabled",
    "externalReferences": {"people": ["@employee-number", "HRMID"]},
    "destinationUrl": "https://payroll.example.com/hooks/protime",
    "collectionName": "work-interruptions",
}
_DELIVERY: dict[str, Any] = {
    "id": f"msg_{_WEBHOOK_ID}_{_VERSION}",
    "changeVersion": _VERSION,
    "recordId": 1,
    "status": "Failed",
    "attempts": 2,
    "firstAttemptAt": "2026-03-02T10:00:00.125+00:00",
    "lastAttemptAt": "2026-03-02T10:00:05.250+00:00",
    "lastStatusCode": 503,
    "lastErrorClass": "server_error",
    "nextAttemptAt": "2026-03-02T10:05:05.250+00:00",
}
_ATTEMPT: dict[str, Any] = {
    "attemptedAt": "2026-03-02T10:00:05.250+00:00",
    "succeeded": False,
    "statusCode": 503,
    "latencyMs": 12.5,
    "errorClass": "server_error",
    "response": "Service Unavailable",
    "nextAttemptAt": "2026-03-02T10:05:05.250+00:00",
}
_JWK: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "k1",
    "use": "sig",
    "alg": "EdDSA",
}
_NEXT = "/connector/protimeapi/api/v1/work-interruptions?continuationToken=eyJ2IjoxfQ"
_DELTA = "/connector/protimeapi/api/v1/delta/work-interruptions?deltaToken=eyJ2IjoyfQ"

EVENT_EXAMPLE: dict[str, Any] = {"changeType": "InsertOrUpdate", "data": _RECORD}
"""The body of one delivery: the record as GET returns it, or ``{changeVersion, id}``."""

_API_CLIENT = {
    "id": "wh_3f9a0c2e7b1d4a65",
    "tenant": "acme",
    "scopes": ["connector-protimeapi-webhooks.read", "connector-protimeapi-webhooks.write"],
    "createdAt": "2026-03-02T08:15:00Z",
    "revokedAt": "2026-09-14T10:02:00Z",
}

_OPERATOR_WEBHOOK = {
    **_WEBHOOK,
    "tenant": "acme",
    "cursor": 40,
    "changesBehind": 2,
    "lagSeconds": 12.5,
    "failures": 3,
    "nextAttemptAt": "2026-03-02T08:20:00Z",
    "disabledReason": "The destination answered 410 Gone",
}
_OPERATOR_DELIVERY = {**_DELIVERY, "tenant": "acme", "webhookId": _WEBHOOK_ID}
_AUDIT = {
    "at": "2026-03-02T08:16:00Z",
    "actor": "operator ada",
    "action": "retry-now",
    "tenant": "acme",
    "webhookId": _WEBHOOK_ID,
    "detail": "back-off cut short",
}

EXAMPLES: dict[str, Any] = {
    "AccessToken": {
        "access_token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ3aF8xIn0.c2ln",
        "expires_in": 1800,
        "token_type": "Bearer",
        "scope": "connector-protimeapi-webhooks.read connector-protimeapi-webhooks.write",
    },
    "TokenForm": {
        "grant_type": "client_credentials",
        "client_id": "wh_3c1d9e8b7a4c",
        "client_secret": "s3cr3t-shown-once",
        "scope": "connector-protimeapi-webhooks.read connector-protimeapi-webhooks.write",
    },
    "OpenidConfiguration": {
        "issuer": "http://127.0.0.1:8000/tenants/demo",
        "token_endpoint": "http://127.0.0.1:8000/tenants/demo/connect/token",
        "jwks_uri": "http://127.0.0.1:8000/tenants/demo/.well-known/openid-configuration/jwks",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["connector-protimeapi-webhooks.read"],
        "response_types_supported": ["token"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
    },
    "Jwk": _JWK,
    "Jwks": {"keys": [_JWK]},
    "OAuthError": {
        "error": "invalid_client",
        "error_description": "Unknown client or wrong client secret",
    },
    "ErrorDetail": {"code": "InvalidFilter", "message": "The filter cannot be read"},
    "ErrorBody": {
        "error": {
            "code": "InvalidFilter",
            "message": "The filter cannot be read",
            "reasons": ["filter: expected 'and' after date ge '2026-01-01'"],
        }
    },
    "ValidationErrorItem": {"field": "durationInMinutes", "message": "Expected `int`"},
    "ValidationErrorBody": {
        "validationErrors": [{"field": "durationInMinutes", "message": "Expected `int`"}]
    },
    "PersonOfRecord": {"id": 7, "externalReferences": {"@employee-number": "E-0007"}},
    "WorkInterruption": _RECORD,
    "WorkInterruptionPage": {"value": [_RECORD], "nextLink": _NEXT},
    "DeletedRecord": {"changeVersion": _VERSION, "id": 1},
    "UpsertItem": EVENT_EXAMPLE,
    "DeleteItem": {"changeType": "Delete", "data": {"changeVersion": _VERSION, "id": 1}},
    "DeltaPage": {"value": [EVENT_EXAMPLE], "deltaLink": _DELTA},
    "Person": _PERSON,
    "PersonBatch": {"value": [_PERSON]},
    "PersonReferences": {"externalReferences": {"HRMID": "HR-1234"}},
    "Webhook": _WEBHOOK,
    "CreatedWebhook": {**_WEBHOOK, "key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    "WebhookList": {"value": [_WEBHOOK]},
    "Delivery": _DELIVERY,
    "DeliveryAttempt": _ATTEMPT,
    "DeliveryDetail": {**_DELIVERY, "attemptHistory": [_ATTEMPT]},
    "DeliveryPage": {"value": [_DELIVERY]},
    "WorkInterruptionBatch": {"value": [_RECORD]},
    "PersonRefIn": {"id": 7},
    "PersonRef": {"id": 7},
    "OrgGroupRef": {"id": 100},
    "OrgGroup": {"id": 121, "name": "Sales", "parent": {"id": 100}, "people": [{"id": 7}]},
    "Circle": {"id": 2, "name": "Night shift", "people": [{"id": 7}, {"id": 8}]},
    "OrgGroupIn": {"name": "Sales", "parent": {"id": 100}, "people": [{"id": 7}]},
    "CircleIn": {"name": "Night shift", "people": [{"id": 7}, {"id": 8}]},
    "WorkInterruptionIn": _RECORD_IN,
    "WorkInterruptionBatchIn": {"value": [{**_RECORD_IN, "id": 1}]},
    "PersonIn": _PERSON_IN,
    "PersonBatchIn": {"value": [{**_PERSON_IN, "id": 7}]},
    "ReferenceValueIn": {"value": "HR-1234"},
    "WebhookIn": {
        "destinationUrl": "https://payroll.example.com/hooks/protime",
        "collectionName": "work-interruptions",
    },
    "ApiClient": _API_CLIENT,
    "ApiClientList": {"value": [_API_CLIENT]},
    "ApiClientWithSecret": {**_API_CLIENT, "secret": "Zq3v5mXcD1kF0bYp7T2wLr9sNaHe4GuJiQyCoV8xEtM"},
    "ApiClientIn": {"tenant": "acme", "scopes": ["connector-protimeapi-webhooks.read"]},
    "DisableIn": {"reason": "The destination answers 500 since Monday; re-enable by a new one"},
    "RecoverIn": {"since": "2026-03-02T08:00:00Z"},
    "Recovered": {"changesSentAgain": 42},
    "ResendIn": {"recordId": 1},
    "SentTestEvent": {
        "id": "msg_6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f_test_9c2f41d07ab3e566",
        "attemptedAt": "2026-03-02T08:00:00+00:00",
        "succeeded": False,
        "statusCode": 401,
        "latencyMs": 41.7,
        "errorClass": "client_error",
        "response": '{"error": "invalid signature"}',
    },
    "PortalLink": {
        "url": "https://workhooks.example.com/portal/acme/link?token=eyJhbGciOi...",
        "expiresAt": "2026-03-02T08:30:00Z",
    },
    "OperatorWebhook": _OPERATOR_WEBHOOK,
    "OperatorWebhookPage": {"value": [_OPERATOR_WEBHOOK]},
    "OperatorDelivery": _OPERATOR_DELIVERY,
    "OperatorDeliveryPage": {"value": [_OPERATOR_DELIVERY]},
    "AuditItem": _AUDIT,
    "AuditList": {"value": [_AUDIT]},
}
