"""Tests for the named queries: one vocabulary for both SQL stores, and named parameters."""

from __future__ import annotations

import importlib
from importlib import resources

import pytest

from workhooks.storage.sql import (
    DIALECT_FILES,
    VOCABULARY_FILES,
    Query,
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


@pytest.mark.parametrize("filename", SHARED)
def test_both_dialects_declare_the_same_queries_with_the_same_parameters(filename: str) -> None:
    """A query of the shared vocabulary means the same call in SQLite and PostgreSQL."""
    assert vocabulary(SQLITE, filename) == vocabulary(POSTGRES, filename)


@pytest.mark.parametrize("filename", OWN)
def test_a_dialects_own_queries_do_not_shadow_the_shared_ones(filename: str) -> None:
    """Writes, delivery and console statements of one dialect use names of their own."""
    for package in (SQLITE, POSTGRES):
        shared = {name for f in SHARED for name in vocabulary(package, f)}
        assert not shared & set(vocabulary(package, filename))


@pytest.mark.parametrize("package", [SQLITE, POSTGRES])
def test_no_query_name_is_used_twice_across_a_dialects_files(package: str) -> None:
    """A store loads every file into one vocabulary, so each name is defined once."""
    names = [name for f in SHARED + OWN for name in vocabulary(package, f)]
    assert sorted(names) == sorted(set(names))


@pytest.mark.parametrize("package", [SQLITE, POSTGRES])
def test_the_stores_load_every_file_of_their_dialect(package: str) -> None:
    """Every named query of the dialect's files is in the vocabulary its store runs."""
    files = {e.name for e in resources.files(package).iterdir() if e.name.endswith(".sql")}
    assert files == set(SHARED + OWN)
    loaded = importlib.import_module(f"{package}.base").Q
    assert set(loaded) == {name for f in SHARED + OWN for name in vocabulary(package, f)}


@pytest.mark.parametrize("package", [SQLITE, POSTGRES])
@pytest.mark.parametrize("filename", SHARED + OWN)
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
