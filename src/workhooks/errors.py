"""The error hierarchy: every error workhooks raises on purpose derives from ``WorkhooksError``.

Errors name the broken rule and know nothing of HTTP; ``workhooks.api.errors`` maps them
to status codes and Protime error bodies.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "DeliveryHeldError",
    "DeltaTokenExpiredError",
    "InsufficientScopeError",
    "InvalidClientError",
    "InvalidContinuationTokenError",
    "InvalidDeltaTokenError",
    "InvalidDestinationError",
    "InvalidFilterError",
    "InvalidRecordError",
    "InvalidRequestError",
    "InvalidScopeError",
    "MasterKeyError",
    "NotFoundError",
    "RateLimitedError",
    "SchemaTooNewError",
    "StoreUnavailableError",
    "TooManyWebhooksError",
    "UnknownCollectionError",
    "UnknownPersonError",
    "UnsupportedGrantTypeError",
    "WorkhooksError",
]


class WorkhooksError(Exception):
    """Base of every deliberate workhooks error; ``reasons`` lists what exactly was wrong."""

    code = "Error"

    def __init__(self, message: str, *, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = reasons


class InvalidRequestError(WorkhooksError):
    """The request breaks a protocol rule (e.g. no ``User-Agent``, a malformed form)."""

    code = "InvalidRequest"


class InvalidDeltaTokenError(InvalidRequestError):
    """A delta token is forged, altered, foreign or not a delta token: start a new delta."""

    code = "InvalidDeltaToken"

    @classmethod
    def malformed(cls) -> InvalidDeltaTokenError:
        """The error for a delta token that was not made by this server for this tenant."""
        return cls(
            "The delta token is not valid; start a new delta with ?delta on the collection",
            reasons=("deltaToken: not a delta token of this server and tenant",),
        )


class InvalidScopeError(InvalidRequestError):
    """A token request asks for a scope that is unknown or not granted to the client."""

    code = "InvalidScope"


class UnsupportedGrantTypeError(InvalidRequestError):
    """A token request uses a grant other than ``client_credentials``."""

    code = "UnsupportedGrantType"


class InvalidRecordError(WorkhooksError):
    """A record written by the source breaks a business rule."""

    code = "InvalidRecord"


class UnknownPersonError(InvalidRecordError):
    """A work interruption refers to a person that does not exist in the tenant."""

    code = "UnknownPerson"

    @classmethod
    def for_ids(cls, person_ids: list[int]) -> UnknownPersonError:
        """Build the error for the given missing person ids."""
        return cls(
            "The work interruption refers to an unknown person",
            reasons=tuple(f"person.id: person {pid} does not exist" for pid in person_ids),
        )


class InvalidDestinationError(WorkhooksError):
    """A webhook destination URL is not acceptable."""

    code = "InvalidDestinationUrl"


class UnknownCollectionError(WorkhooksError):
    """A collection name does not name a collection that supports webhooks."""

    code = "UnknownCollection"


class TooManyWebhooksError(WorkhooksError):
    """A tenant asked for a webhook beyond the enabled webhooks it may have."""

    code = "TooManyWebhooks"

    @classmethod
    def limit(cls, most: int) -> TooManyWebhooksError:
        """The error for a tenant that already has ``most`` enabled webhooks."""
        return cls(
            f"The tenant already has {most} enabled webhooks, the most allowed",
            reasons=(
                f"webhooks: at most {most} enabled webhooks per tenant; delete webhooks that"
                " are no longer used (disabled and deleted webhooks do not count)",
            ),
        )


class InvalidFilterError(WorkhooksError):
    """A ``filter`` expression is malformed or not allowed for the collection."""

    code = "InvalidFilter"


class NotFoundError(WorkhooksError):
    """The addressed resource does not exist (in the caller's tenant)."""

    code = "NotFound"


class ConflictError(WorkhooksError):
    """The request conflicts with the current state."""

    code = "Conflict"

    @classmethod
    def duplicate_reference(cls, key: str, value: str, owner: int | None) -> ConflictError:
        """The error for a custom reference value another person already holds (``owner``,
        None when a concurrent write took it and who is not known)."""
        holder = "another person" if owner is None else f"person {owner}"
        return cls(
            f"The value of external reference {key!r} is already used",
            reasons=(f"{key}: {value[:80]!r} already belongs to {holder}",),
        )


class InvalidContinuationTokenError(ConflictError):
    """A continuation token is forged, altered, foreign or no longer valid for this request."""

    code = "InvalidContinuationToken"

    @classmethod
    def malformed(cls) -> InvalidContinuationTokenError:
        """The error for a token that was not made by this server for this request."""
        return cls(
            "The continuation token is not valid",
            reasons=("continuationToken: start again from the first page",),
        )


class DeltaTokenExpiredError(WorkhooksError):
    """A delta token was last used more than 72 hours ago: sync again from the start."""

    code = "DeltaTokenExpired"

    @classmethod
    def unused_for(cls, hours: int) -> DeltaTokenExpiredError:
        """The error for a delta token last used more than ``hours`` hours ago."""
        return cls(
            f"The delta token has expired (unused for {hours} hours); "
            "start a new delta with ?delta on the collection",
            reasons=(f"deltaToken: expired after {hours} hours without use",),
        )


class RateLimitedError(WorkhooksError):
    """A client made more requests than its rate allows: wait ``retry_after_seconds``."""

    code = "TooManyRequests"
    retry_after_seconds = 1

    @classmethod
    def wait(cls, seconds: int, *, rate: float, burst: int) -> RateLimitedError:
        """The error for a client whose next request is allowed in ``seconds``."""
        error = cls(
            f"Too many requests; try again in {seconds} s",
            reasons=(f"rate: at most {rate:g} requests per second per client, bursts of {burst}",),
        )
        error.retry_after_seconds = seconds
        return error

    @classmethod
    def failed_attempts(cls, seconds: int) -> RateLimitedError:
        """Too many failed token requests from this client or address: wait ``seconds``."""
        error = cls(
            "Too many failed token requests for this client or from this address",
            reasons=(f"Retry-After: try again in {seconds} seconds",),
        )
        error.retry_after_seconds = seconds
        return error


class StoreUnavailableError(WorkhooksError):
    """The database cannot be reached right now (restart, lost connection): retry shortly."""

    code = "ServiceUnavailable"


class AuthenticationError(WorkhooksError):
    """The bearer token is missing, malformed, expired or not for this server."""

    code = "InvalidToken"


class InsufficientScopeError(AuthenticationError):
    """The token is valid but does not carry the scope the operation needs."""

    code = "InsufficientScope"


class InvalidClientError(WorkhooksError):
    """Client credentials are missing, unknown or wrong (OAuth2 ``invalid_client``)."""

    code = "InvalidClient"


class DeliveryHeldError(WorkhooksError):
    """Another process already delivers from this SQLite database (one deliverer per file)."""

    code = "DeliveryHeld"


class SchemaTooNewError(WorkhooksError):
    """The database was migrated by a newer workhooks than this one: it refuses to start."""

    code = "SchemaTooNew"

    def __init__(self, *, found: int, known: int, version: str) -> None:
        super().__init__(
            f"the database schema is at version {found}, but workhooks {version} knows "
            f"versions up to {known}: a newer workhooks has migrated this database; "
            "run that release (or a later one) against it, never an older one"
        )
        self.found = found
        self.known = known


class MasterKeyError(Exception):
    """The master key is missing, malformed, or not the one the database's secrets need."""
