"""Named SQL queries kept in ``.sql`` files: ``-- name: <query>`` starts each query.

A query's first comment lines describe it; its parameters are named (``:tenant``). SQLite
takes named parameters as they are; asyncpg takes only ``$1``-style ones, so for it each
name is numbered in order of first use and ``Query.args`` lines the values up.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from workhooks import __version__
from workhooks.errors import SchemaTooNewError

__all__ = [
    "DIALECT_FILES",
    "SHARED_FILE",
    "SHARED_PACKAGE",
    "VOCABULARY_FILES",
    "Query",
    "load_dialect",
    "load_migrations",
    "load_named_queries",
    "numbered_query",
    "pending_migrations",
]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
# A string literal or a comment (left as they are), else a parameter; ``::type`` is a cast.
_PARAMETER = re.compile(r"'(?:[^']|'')*'|--[^\n]*|(?<!:):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class Query:
    """One named query: what it does, its SQL as the driver takes it, its parameter names."""

    name: str
    description: str
    sql: str
    params: tuple[str, ...]
    """The parameter names, in order of first use (``$1``, ``$2``... when numbered)."""

    def args(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> list[Any]:
        """The values of the parameters in their order (for numbered parameters).

        Like SQLite with named parameters, values the query does not name are ignored and
        a missing one is a ``KeyError``.
        """
        given = more if values is None else {**values, **more}
        return [given[name] for name in self.params]


def _split(package: str, filename: str) -> dict[str, str]:
    text = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice in {package}/{filename}")
        queries[name] = body.strip().rstrip(";")
    return queries


def _described(body: str) -> str:
    lines = []
    for line in body.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


def _parameters(name: str, body: str, *, numbered: bool) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        param = match[1]
        if param is None:
            return match[0]
        if param not in names:
            names.append(param)
        return f"${names.index(param) + 1}" if numbered else match[0]

    sql = _PARAMETER.sub(replace, body)
    if numbered and "$" in _PARAMETER.sub(lambda m: "" if m[1] is None else m[0], body):
        raise ValueError(f"query {name!r} mixes numbered and named parameters")
    return sql, tuple(names)


def load_named_queries(
    package: str, filename: str = "queries.sql", *, numbered: bool = False
) -> dict[str, Query]:
    """Return the named queries of ``package/filename`` with their named parameters.

    ``numbered`` turns ``:name`` into ``$n`` for drivers that take only numbered ones.
    """
    return {
        name: _query(name, body, numbered=numbered)
        for name, body in _split(package, filename).items()
    }


SHARED_PACKAGE, SHARED_FILE = "workhooks.storage", "shared.sql"
"""The statements both dialects run as they are, written once."""
VOCABULARY_FILES = ("queries.sql", "groups.sql", "console.sql")
"""Files both dialects hold, declaring the same names with the same parameters (each its
own way; a statement written alike in both belongs in ``SHARED_FILE``)."""
DIALECT_FILES = ("writes.sql", "delivery.sql")
"""Files of statements one dialect runs its own way, under names of their own."""


def load_dialect(package: str, *, numbered: bool = False) -> dict[str, Query]:
    """Every named query of the shared file and a dialect's files, in one vocabulary (a
    store's ``Q``); a name defined twice is a ``ValueError``."""
    files = [(SHARED_PACKAGE, SHARED_FILE)]
    files += [(package, filename) for filename in (*VOCABULARY_FILES, *DIALECT_FILES)]
    vocabulary: dict[str, Query] = {}
    for source, filename in files:
        for name, query in load_named_queries(source, filename, numbered=numbered).items():
            if name in vocabulary:
                raise ValueError(f"query {name!r} of {source}/{filename} is defined twice")
            vocabulary[name] = query
    return vocabulary


def _query(name: str, body: str, *, numbered: bool) -> Query:
    sql, params = _parameters(name, body, numbered=numbered)
    return Query(name=name, description=_described(body), sql=sql, params=params)


def numbered_query(name: str, body: str) -> Query:
    """The query ``body`` with its named parameters numbered (``$1``...) for asyncpg."""
    return _query(name, body, numbered=True)


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
