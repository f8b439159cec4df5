"""The rules of reading work interruptions: which filters select what, and delta limits.

A list needs a ``date`` range of at most one year (both ends inclusive) and may narrow on
``person``: ``eq``, ``in (...)``, ``in circle(...)`` and ``in org-group(...)``, combined
with ``and`` and ``or`` (``person`` is a Multiple field, ``date`` a Range field). A delta
starts on a date in the past, no earlier than 1 January of the previous year, may leave out
the end date (at most one year after the start when given) and takes no ``person``.

Circles and org-groups are looked up in the store, so a filter is read in two steps:
``parse_work_interruption_filter`` gives a ``WorkInterruptionRequest``, whose
``group_conditions`` the caller resolves to people, and ``selection`` then gives the
``WorkInterruptionFilter`` a store runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from workhooks.domain.filter_specs import (
    WORK_INTERRUPTIONS_FILTER,
    conjuncts,
    date_range,
    leaves,
    parse_filter,
)
from workhooks.domain.filters import And, Comparison, InList, Node, Or
from workhooks.domain.groups import GroupKind
from workhooks.errors import InvalidFilterError

__all__ = [
    "OPEN_END",
    "WorkInterruptionFilter",
    "WorkInterruptionQuery",
    "WorkInterruptionRequest",
    "group_kind",
    "parse_work_interruption_filter",
]

OPEN_END = dt.date.max
"""The last date of a delta started without an end date."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkInterruptionFilter:
    """What a validated filter selects: a date range and optionally some people."""

    date_from: dt.date
    date_to: dt.date
    person_ids: frozenset[int] | None = None

    def matches(self, *, date: dt.date, person_id: int) -> bool:
        """Whether a record with this date and person is selected."""
        return self.date_from <= date <= self.date_to and (
            self.person_ids is None or person_id in self.person_ids
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkInterruptionQuery:
    """One page of live work interruptions, ordered by ``(date, id)``, after ``after``."""

    selection: WorkInterruptionFilter
    after: tuple[dt.date, int] | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkInterruptionRequest:
    """A checked filter before its circles and org-groups are looked up.

    ``people`` is the part of the filter on ``person`` (``None`` when there is none).
    """

    date_from: dt.date
    date_to: dt.date
    people: Node | None = None

    def group_conditions(self) -> list[InList]:
        """The ``person in circle(...)`` / ``org-group(...)`` conditions, each once."""
        if self.people is None:
            return []
        found = [leaf for leaf in leaves(self.people) if isinstance(leaf, InList)]
        return list(dict.fromkeys(leaf for leaf in found if leaf.list_name is not None))

    def selection(self, members: Mapping[InList, frozenset[int]]) -> WorkInterruptionFilter:
        """The filter a store runs, given the people of each of ``group_conditions``."""
        return WorkInterruptionFilter(
            date_from=self.date_from,
            date_to=self.date_to,
            person_ids=None if self.people is None else _people(self.people, members),
        )


def group_kind(condition: InList) -> GroupKind:
    """The kind of group a named list selects (``circle`` or ``org-group``)."""
    return GroupKind(condition.list_name or "")


def _people(node: Node, members: Mapping[InList, frozenset[int]]) -> frozenset[int]:
    """The people a ``person`` filter selects: ``and`` intersects, ``or`` unites."""
    if isinstance(node, And):
        return frozenset.intersection(*(_people(item, members) for item in node.items))
    if isinstance(node, Or):
        return frozenset.union(*(_people(item, members) for item in node.items))
    if isinstance(node, InList) and node.list_name is not None:
        return members[node]
    values = node.values if isinstance(node, InList) else (node.value,)
    return frozenset(v for v in values if isinstance(v, int) and not isinstance(v, bool))


def _one_year_after(day: dt.date) -> dt.date | None:
    """The same day a year later; ``None`` past the last representable year (no limit then)."""
    if day.year == dt.MAXYEAR:
        return None
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28) + dt.timedelta(days=1)


def _fail(reason: str) -> InvalidFilterError:
    return InvalidFilterError(f"Invalid filter for work-interruptions: {reason}", reasons=(reason,))


def _is_date(node: Node) -> bool:
    return isinstance(node, Comparison | InList) and node.field == "date"


def _check_delta_start(first: dt.date, today: dt.date) -> None:
    earliest = dt.date(today.year - 1, 1, 1)
    if first > today:
        raise _fail(f"a delta must start on a date in the past; {first} is after {today}")
    if first < earliest:
        raise _fail(f"a delta may start no earlier than {earliest}")


def parse_work_interruption_filter(
    text: str | None, *, delta: bool, today: dt.date
) -> WorkInterruptionRequest:
    """Parse and check a work-interruptions filter; raise ``InvalidFilterError`` with reasons."""
    if text is None or not text.strip():
        raise _fail(
            "a filter on 'date' is required, e.g. date ge '2024-01-01' and date le '2024-01-31'"
        )
    node = parse_filter(text, WORK_INTERRUPTIONS_FILTER)
    selected = date_range(node, "date", open_end=OPEN_END if delta else None)
    assert selected is not None  # 'date' is a required field of the spec
    first, last = selected
    limit = _one_year_after(first)
    if last != OPEN_END and limit is not None and last >= limit:
        raise _fail(f"the date range {first} to {last} is longer than one year")
    rest = [item for item in conjuncts(node) if not _is_date(item)]
    people = None if not rest else rest[0] if len(rest) == 1 else And(items=tuple(rest))
    if delta and people is not None:
        raise _fail("'person' cannot be used with delta")
    if delta:
        _check_delta_start(first, today)
    return WorkInterruptionRequest(date_from=first, date_to=last, people=people)
