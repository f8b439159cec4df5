"""Which PostgreSQL failures are outages (503, retry later) rather than errors of a request."""

from __future__ import annotations

import asyncpg
import pytest

from workhooks.errors import StoreUnavailableError
from workhooks.storage.postgres.connection import translate_errors


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionResetError("reset by peer"),
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InterfaceError("connection is closed"),
        # What a connection the server dropped in the middle of an exchange raises.
        asyncpg.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        ),
    ],
    ids=type,
)
def test_a_lost_or_refused_connection_is_an_outage(failure: Exception) -> None:
    """The caller answers 503 with Retry-After; the reason names the failure, not its text."""
    with pytest.raises(StoreUnavailableError) as caught, translate_errors():
        raise failure
    assert caught.value.reasons == (f"database: {type(failure).__name__}",)
    assert caught.value.__cause__ is failure


def test_an_error_of_the_statement_itself_is_not_an_outage() -> None:
    """A constraint violation is the request's (or the code's) problem: it passes through."""
    with pytest.raises(asyncpg.UniqueViolationError), translate_errors():
        raise asyncpg.UniqueViolationError("duplicate key value violates unique constraint")
