"""Pool settings and the translation of connection failures into ``StoreUnavailableError``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg

from workhooks.errors import StoreUnavailableError

__all__ = ["PoolSettings", "translate_errors"]

# Failures of the connection or the server, as opposed to errors of a statement.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # A connection the server dropped in the middle of an exchange ("cannot switch to
    # state ...; another operation is in progress"), seen while the server shuts down.
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.DiskFullError,  # space runs out: the statement rolled back, retry later
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSettings:
    """The asyncpg pool: ``WORKHOOKS_DB_POOL_MIN``, ``WORKHOOKS_DB_POOL_MAX``, statement timeout."""

    min_size: int = 2
    max_size: int = 10
    command_timeout: float = 30.0


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn a lost or refused connection into ``StoreUnavailableError``."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StoreUnavailableError(
            "The database is unavailable; try again shortly",
            reasons=(f"database: {type(exc).__name__}",),
        ) from exc
