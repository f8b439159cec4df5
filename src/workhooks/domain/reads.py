"""The rules of reading work interruptions: which filters select what, and delta limits.

A list needs a ``date`` range of at most one year (both ends inclusive) and may narrow on
``person``; a delta additionally starts no earlier than 1 January of the previous year and
takes no ``person``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workhooks.domain.filter_specs import (
    WORK_INTERRUPTIONS_FILTER,
    conditions_for,
    date_range,
    parse_filter,
)
from workhooks.domain.filters import Comparison, InList
from workhooks.errors import InvalidFilterError

__all__ = ["WorkInterruptionFilter", "WorkInterruptionQuery", "parse_work_interruption_filter"]


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


def parse_work_interruption_filter(
    text: str | None, *, delta: bool, today: dt.date
) -> WorkInterruptionFilter:
    """Parse and check a work-interruptions filter; raise ``InvalidFilterError`` with reasons."""
    if text is None or not text.strip():
        raise _fail(
            "a filter on 'date' is required, e.g. date ge '2024-01-01' and date le '2024-01-31'"
        )
    node = parse_filter(text, WORK_INTERRUPTIONS_FILTER)
    selected = date_range(node, "date")
    assert selected is not None  # 'date' is a required field of the spec
    first, last = selected
    limit = _one_year_after(first)
    if limit is not None and last >= limit:
        raise _fail(f"the date range {first} to {last} is longer than one year")
    person_ids: set[int] | None = None
    for condition in conditions_for(node, "person"):
        if delta:
            raise _fail("'person' cannot be used with delta")
        values = (
            condition.values
            if isinstance(condition, InList)
            else (condition.value if isinstance(condition, Comparison) else None,)
        )
        chosen = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
        person_ids = chosen if person_ids is None else person_ids & chosen
    if delta and first < dt.date(today.year - 1, 1, 1):
        raise _fail(f"a delta may start no earlier than {dt.date(today.year - 1, 1, 1)}")
    return WorkInterruptionFilter(
        date_from=first,
        date_to=last,
        person_ids=None if person_ids is None else frozenset(person_ids),
    )
