"""Use cases of several statements, written once for every SQL dialect.

A script is a generator: it yields the named statements it needs one at a time and is sent
each one's result, so what a transaction reads, checks and writes is written once; how a
statement runs is its dialect's. A dialect drives a script inside one transaction: SQLite on
its writer or reader thread, synchronously; PostgreSQL on one pooled connection, awaiting
each statement. (The shape of a sans-I/O protocol: the logic yields, the driver does I/O.)

    def delete_group(params: Params) -> Script[bool]:
        if (yield one("group_has_children", params))[0]:
            raise group_has_subgroups(params["id"])
        return (yield count("delete_group", params)) == 1

A statement refused by a unique constraint is thrown into the script as ``UniqueViolation``
at the ``yield`` that sent it. The transaction is then rolled back whatever the script does
(PostgreSQL has aborted it; SQLite would keep the statements before): the script may turn
the violation into its own error, and if it goes on or returns instead, the violation is
raised for it.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = [
    "Params",
    "Returned",
    "Script",
    "Step",
    "UniqueViolation",
    "Want",
    "count",
    "each",
    "every",
    "one",
    "resume",
]

T = TypeVar("T")
Params = Mapping[str, Any]


class Want(enum.Enum):
    """What a script is sent back for a statement."""

    EVERY = "every"  # its rows
    ONE = "one"  # its first row, or None
    COUNT = "count"  # how many rows it touched
    EACH = "each"  # nothing: it ran once per parameter set


@dataclass(frozen=True, slots=True)
class Step:
    """One named statement a script wants run, with its parameters."""

    name: str
    want: Want
    params: Params
    batch: Sequence[Params] = ()
    """The parameter sets of an ``each`` step (its ``params`` are then empty)."""


Script = Generator[Step, Any, T]
"""A use case as statements: yields ``Step``s, is sent their results, returns its answer."""


class UniqueViolation(Exception):
    """A unique constraint refused the statement ``name`` (thrown into the script)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"statement {name!r} broke a unique constraint")
        self.name = name


@dataclass(frozen=True, slots=True)
class Returned(Generic[T]):
    """A script's answer, once it has no more statements."""

    value: T


def resume(script: Script[T], result: Any, violation: UniqueViolation | None) -> Step | Returned[T]:
    """Send ``result`` (or throw ``violation``) into ``script``: its next step or its answer.

    What a driver calls in its loop, with the result of the step before (None to start).
    """
    if violation is None:
        try:
            return script.send(result)
        except StopIteration as done:
            return Returned(done.value)
    with contextlib.suppress(StopIteration):  # it returned: the violation still stands
        script.throw(violation)
    script.close()  # it went on: stop it there
    raise violation


def every(name: str, params: Params | None = None, /, **more: Any) -> Step:
    """Run ``name``; send back its rows."""
    return Step(name, Want.EVERY, _merge(params, more))


def one(name: str, params: Params | None = None, /, **more: Any) -> Step:
    """Run ``name``; send back its first row (None when it has none)."""
    return Step(name, Want.ONE, _merge(params, more))


def count(name: str, params: Params | None = None, /, **more: Any) -> Step:
    """Run ``name``; send back how many rows it inserted, updated or deleted."""
    return Step(name, Want.COUNT, _merge(params, more))


def each(name: str, params: Sequence[Params], /) -> Step:
    """Run ``name`` once per parameter set (one batch); send back None."""
    return Step(name, Want.EACH, {}, params)


def _merge(params: Params | None, more: Mapping[str, Any]) -> Params:
    if params is None:
        return more
    return {**params, **more} if more else params
