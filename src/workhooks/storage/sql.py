"""Named SQL queries kept in ``.sql`` files: ``-- name: <query>`` starts each query."""

from __future__ import annotations

import re
from collections.abc import Collection
from importlib import resources

from workhooks import __version__
from workhooks.errors import SchemaTooNewError

__all__ = ["load_migrations", "load_queries", "pending_migrations"]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def load_queries(package: str, filename: str = "queries.sql") -> dict[str, str]:
    """Return the named queries of ``package/filename``."""
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice in {package}/{filename}")
        queries[name] = body.strip().rstrip(";")
    return queries


def load_migrations(package: str) -> list[tuple[int, str, str]]:
    """Return ``(number, name, sql)`` for every ``NNNN_name.sql`` in ``package``, in order."""
    found = []
    for entry in resources.files(package).iterdir():
        match = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations of {package} are not numbered 1..n: {numbers}")
    return found


def pending_migrations(package: str, done: Collection[int]) -> list[tuple[int, str, str]]:
    """The migrations of ``package`` not yet in ``done``, in order.

    A database that already has a migration this code does not know was migrated by a
    newer release: running older code against it could corrupt it, so that is refused.
    """
    migrations = load_migrations(package)
    newest = max(done, default=0)
    if newest > len(migrations):
        raise SchemaTooNewError(found=newest, known=len(migrations), version=__version__)
    return [migration for migration in migrations if migration[0] not in done]
