"""Tests for the named queries: one vocabulary for both SQL stores, and named parameters."""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path

import pytest

from workhooks.storage.sql import (
    DIALECT_FILES,
    SHARED_FILE,
    SHARED_PACKAGE,
    VOCABULARY_FILES,
    Query,
    load_dialect,
    load_named_queries,
    numbered_query,
)

SQLITE = "workhooks.storage.sqlite"
POSTGRES = "workhooks.storage.postgres"
SHARED = VOCABULARY_FILES
OWN = DIALECT_FILES


def vocabulary(package: str, filename: str) -> dict[str, frozenset[str]]:
    """Each query's parameter names."""
    queries = load_named_queries(package, filename, numbered=package == POSTGRES)
    return {name: frozenset(query.params) for name, query in queries.items()}


SHARED_NAMES = set(vocabulary(SHARED_PACKAGE, SHARED_FILE))


@pytest.mark.parametrize("filename", SHARED)
def test_both_dialects_declare_the_same_queries_with_the_same_parameters(filename: str) -> None:
    """A query of the shared vocabulary means the same call in SQLite and PostgreSQL."""
    assert vocabulary(SQLITE, filename) == vocabulary(POSTGRES, filename)


@pytest.mark.parametrize("filename", OWN)
def test_a_dialects_own_queries_do_not_shadow_the_shared_ones(filename: str) -> None:
    """Writes and delivery statements of one dialect use names of their own."""
    for package in (SQLITE, POSTGRES):
        shared = SHARED_NAMES | {name for f in SHARED for name in vocabulary(package, f)}
        assert not shared & set(vocabulary(package, filename))


@pytest.mark.parametrize("package", [SQLITE, POSTGRES])
def test_no_query_name_is_used_twice_across_a_dialects_files(package: str) -> None:
    """A store loads the shared file and every file of its dialect into one vocabulary, so
    each name is defined once (and loading refuses a name defined twice)."""
    names = [*SHARED_NAMES, *(name for f in SHARED + OWN for name in vocabulary(package, f))]
    assert sorted(names) == sorted(set(names))


def test_loading_refuses_a_name_defined_in_the_shared_file_and_a_dialects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dialect may not quietly replace a shared statement with its own."""
    dialect = tmp_path / "dialect_with_a_twin"
    dialect.mkdir()
    (dialect / "__init__.py").write_text("")
    for filename in SHARED + OWN:
        (dialect / filename).write_text("")
    twin = sorted(SHARED_NAMES)[0]
    (dialect / "queries.sql").write_text(f"-- name: {twin}\n-- Its own way.\nSELECT 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=f"query '{twin}' .* is defined twice"):
        load_dialect("dialect_with_a_twin")


@pytest.mark.parametrize("filename", SHARED)
def test_a_statement_written_alike_in_both_dialects_is_written_once(filename: str) -> None:
    """A query whose text and description are the same in both dialects belongs in the
    shared file, so changing it is changing one file."""
    sqlite = load_named_queries(SQLITE, filename)
    postgres = load_named_queries(POSTGRES, filename)
    alike = [
        name
        for name, query in sqlite.items()
        if (query.sql, query.description) == (postgres[name].sql, postgres[name].description)
    ]
    assert alike == []


@pytest.mark.parametrize("package", [SQLITE, POSTGRES])
def test_the_stores_load_every_file_of_their_dialect(package: str) -> None:
    """Every named query of the shared file and the dialect's files is in the vocabulary
    its store runs."""
    files = {e.name for e in resources.files(package).iterdir() if e.name.endswith(".sql")}
    assert files == set(SHARED + OWN)
    loaded = importlib.import_module(f"{package}.base").Q
    own = {name for f in SHARED + OWN for name in vocabulary(package, f)}
    assert set(loaded) == SHARED_NAMES | own


@pytest.mark.parametrize(
    ("package", "filename"),
    [(SHARED_PACKAGE, SHARED_FILE)]
    + [(package, f) for package in (SQLITE, POSTGRES) for f in SHARED + OWN],
)
def test_every_query_says_what_it_does(package: str, filename: str) -> None:
    """Each query starts with a description line."""
    queries = load_named_queries(package, filename)
    assert queries
    assert not [name for name, query in queries.items() if not query.description]


def test_named_parameters_become_numbered_in_order_of_first_use() -> None:
    """A name used twice keeps its number; casts, literals and comments are left alone."""
    query = numbered_query(
        "demo",
        "-- Find :tenant's rows.\n"
        "SELECT 'a:b' AS x FROM t WHERE tenant = :tenant AND id = ANY(:ids::bigint[])\n"
        "    AND owner = :tenant -- :ignored\n",
    )
    assert query.params == ("tenant", "ids")
    assert query.description == "Find :tenant's rows."
    assert "tenant = $1 AND id = ANY($2::bigint[])" in query.sql
    assert "'a:b'" in query.sql
    assert "owner = $1 -- :ignored" in query.sql


def test_args_line_the_values_up_and_ignore_the_others() -> None:
    """Values come in parameter order, from a mapping and keywords alike."""
    query = Query(name="q", description="", sql="", params=("b", "a"))
    assert query.args({"a": 1, "c": 3}, b=2) == [2, 1]
    assert query.args(a=1, b=2) == [2, 1]
    with pytest.raises(KeyError):
        query.args(a=1)


def test_a_query_may_not_mix_numbered_and_named_parameters() -> None:
    """A ``$1`` left beside names is a mistake in the file."""
    with pytest.raises(ValueError, match="mixes"):
        numbered_query("demo", "SELECT * FROM t WHERE a = :a AND b = $2")
