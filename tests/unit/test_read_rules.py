"""Tests for ``workhooks.domain.reads``: which work-interruptions filters are allowed and match."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.filter_specs import WORK_INTERRUPTIONS_FILTER, matches
from workhooks.domain.filters import InList
from workhooks.domain.groups import GroupKind
from workhooks.domain.reads import (
    OPEN_END,
    WorkInterruptionFilter,
    WorkInterruptionQuery,
    group_kind,
    parse_work_interruption_filter,
)
from workhooks.errors import InvalidFilterError

TODAY = dt.date(2025, 6, 15)


def selection(
    text: str | None, *, delta: bool = False, today: dt.date = TODAY
) -> WorkInterruptionFilter:
    """Parse ``text`` as a list (or delta) filter that names no circle or org-group."""
    return parse_work_interruption_filter(text, delta=delta, today=today).selection({})


def reasons(text: str | None, *, delta: bool = False, today: dt.date = TODAY) -> tuple[str, ...]:
    """Parse ``text`` expecting ``InvalidFilterError`` and return its reasons."""
    with pytest.raises(InvalidFilterError) as caught:
        selection(text, delta=delta, today=today)
    assert caught.value.code == "InvalidFilter"
    assert caught.value.reasons
    return caught.value.reasons


def between(first: str, last: str) -> str:
    """The filter text of an inclusive date range."""
    return f"date ge '{first}' and date le '{last}'"


# --- date is required ----------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   "])
def test_a_filter_is_required(text: str | None) -> None:
    """Without any filter, the reason asks for a filter on ``date`` and shows an example."""
    (reason,) = reasons(text)
    assert reason.startswith("a filter on 'date' is required")
    assert "date ge '" in reason


@pytest.mark.parametrize("text", ["person eq 1", "person in (1, 2)"])
def test_a_filter_without_date_is_refused(text: str) -> None:
    """A filter that does not constrain ``date`` is refused as missing a required field."""
    assert reasons(text) == ("Required filter field 'date' is missing",)


# --- date ranges ---------------------------------------------------------------------------


def test_eq_selects_a_single_day() -> None:
    """``date eq`` selects exactly that day and nobody in particular."""
    found = selection("date eq '2024-03-04'")
    assert found == WorkInterruptionFilter(
        date_from=dt.date(2024, 3, 4), date_to=dt.date(2024, 3, 4), person_ids=None
    )


def test_ge_and_le_select_an_inclusive_range() -> None:
    """``ge`` and ``le`` give the first and last day of the range."""
    found = selection(between("2024-01-01", "2024-01-05"))
    assert (found.date_from, found.date_to) == (dt.date(2024, 1, 1), dt.date(2024, 1, 5))
    assert found.person_ids is None


def test_bounds_in_any_order_and_narrowing_bounds() -> None:
    """Bounds may come in any order, and a tighter bound of the same kind wins."""
    text = (
        "date le '2024-02-01' and date ge '2024-01-01' and date ge '2024-01-10' "
        "and date le '2024-01-20'"
    )
    found = selection(text)
    assert (found.date_from, found.date_to) == (dt.date(2024, 1, 10), dt.date(2024, 1, 20))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2024-01-01", "2024-12-31"),
        ("2024-02-29", "2025-02-28"),
        ("2023-03-01", "2024-02-29"),
        ("2025-01-01", "2025-12-31"),
    ],
)
def test_exactly_one_year_inclusive_is_accepted(first: str, last: str) -> None:
    """A range of exactly one year, both ends included, is the longest accepted."""
    found = selection(between(first, last))
    assert (found.date_from, found.date_to) == (
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
    )


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2024-01-01", "2025-01-01"),
        ("2024-02-29", "2025-03-01"),
        ("2023-03-01", "2024-03-01"),
        ("2025-01-01", "2026-01-01"),
        ("2020-01-01", "2024-12-31"),
    ],
)
def test_one_day_more_than_a_year_is_refused(first: str, last: str) -> None:
    """One day past a year is refused, naming the range."""
    assert reasons(between(first, last)) == (
        f"the date range {first} to {last} is longer than one year",
    )


@given(
    first=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
    days=st.integers(min_value=0, max_value=800),
)
def test_range_length_rule_holds_for_any_start(first: dt.date, days: int) -> None:
    """Up to 365 days inclusive is always accepted, 367 or more always refused."""
    last = first + dt.timedelta(days=days)
    text = between(first.isoformat(), last.isoformat())
    if days <= 364:
        assert selection(text).date_to == last
    elif days >= 366:
        assert reasons(text)[0].endswith("is longer than one year")
    else:  # 366 days inclusive: accepted exactly when the range holds a 29 February
        holds_leap_day = any(
            (first + dt.timedelta(days=n)).timetuple()[1:3] == (2, 29) for n in range(days + 1)
        )
        try:
            accepted = selection(text).date_to == last
        except InvalidFilterError:
            accepted = False
        assert accepted == holds_leap_day


def test_a_range_in_the_last_representable_year_has_no_one_year_limit() -> None:
    """A year after 9999 cannot be named, so a range starting in year 9999 is never too long."""
    chosen = selection(between("9999-01-01", "9999-12-31"))
    assert (chosen.date_from, chosen.date_to) == (dt.date(9999, 1, 1), dt.date(9999, 12, 31))


def test_reversed_range_is_refused() -> None:
    """A first day after the last selects nothing and is refused."""
    assert reasons(between("2024-02-01", "2024-01-01")) == (
        "Filter on 'date' selects no dates: 2024-02-01 is after 2024-01-01",
    )


@pytest.mark.parametrize(
    ("text", "missing", "delta"),
    [
        ("date ge '2024-01-01'", "a last date (le or eq)", False),
        ("date le '2024-01-01'", "a first date (ge or eq)", False),
        ("date ge '2024-01-01' and person eq 1", "a last date (le or eq)", False),
        ("date le '2025-01-01'", "a first date (ge or eq)", True),
    ],
)
def test_missing_bound_is_refused(text: str, missing: str, delta: bool) -> None:
    """A list needs both ends of the range, a delta its start; the missing one is named."""
    assert reasons(text, delta=delta) == (f"Filter on 'date' needs {missing}",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date eq '2024-02-30'", "expects a valid date as 'YYYY-MM-DD', got '2024-02-30'"),
        ("date eq 20240101", "expects a valid date as 'YYYY-MM-DD', got 20240101"),
        ("date in ('2024-01-01')", "Operator 'in' is not allowed for filter field 'date'"),
    ],
)
def test_bad_date_conditions_are_refused(text: str, expected: str) -> None:
    """Impossible dates, non-dates and ``in`` on ``date`` are refused with a reason."""
    (reason,) = reasons(text)
    assert expected in reason


# --- person --------------------------------------------------------------------------------


def test_person_eq_selects_one_person() -> None:
    """``person eq`` narrows the selection to that person."""
    found = selection("date eq '2024-01-01' and person eq 115")
    assert found.person_ids == frozenset({115})


def test_person_in_selects_the_listed_people() -> None:
    """``person in`` narrows the selection to the listed people."""
    assert selection("date eq '2024-01-01' and person in (115, 256, 115)").person_ids == frozenset(
        {115, 256}
    )


@pytest.mark.parametrize("name", ["people", "team", "circles", "orggroup"])
def test_an_unknown_list_name_is_refused_naming_it(name: str) -> None:
    """Only ``circle(...)`` and ``org-group(...)`` name lists of people; any other name is a
    400 that names it (it was read as a plain list of person ids)."""
    (reason,) = reasons(f"date eq '2024-01-01' and person in {name}(2, 8)")
    assert reason == (
        f"Unknown list {name}(...) for filter field 'person'; "
        "use (...) or circle(...), org-group(...)"
    )


def test_circle_and_org_group_lists_are_resolved_by_the_caller() -> None:
    """``person in circle(...)`` and ``org-group(...)`` are listed for lookup, and the people
    found stand for them in the selection."""
    text = "date eq '2024-01-01' and person in circle(2, 8) and person in org-group(121)"
    request = parse_work_interruption_filter(text, delta=False, today=TODAY)
    circle, org = request.group_conditions()
    assert (group_kind(circle), circle.values) == (GroupKind.CIRCLE, (2, 8))
    assert (group_kind(org), org.values) == (GroupKind.ORG_GROUP, (121,))
    chosen = request.selection({circle: frozenset({1, 2, 3}), org: frozenset({3, 4})})
    assert chosen.person_ids == frozenset({3})


def test_a_plain_list_needs_no_lookup() -> None:
    """Without named lists there is nothing to look up; a plain ``in`` list is no group."""
    request = parse_work_interruption_filter(
        "date eq '2024-01-01' and person in (1, 2)", delta=False, today=TODAY
    )
    assert request.group_conditions() == []
    no_person = parse_work_interruption_filter("date eq '2024-01-01'", delta=False, today=TODAY)
    assert no_person.group_conditions() == []
    with pytest.raises(ValueError, match="GroupKind"):
        group_kind(InList(field="person", values=(1,)))


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ("(person eq 1 or person eq 2)", {1, 2}),
        ("(person in (1, 2) or person eq 5) and person in (2, 5, 7)", {2, 5}),
        ("(person eq 1 or person eq 2 and person eq 3)", {1}),
        ("(person in circle(9) or person eq 4)", {4, 10, 11}),
    ],
)
def test_or_combines_person_conditions(conditions: str, expected: set[int]) -> None:
    """``person`` is a Multiple field: ``or`` unites the people of its conditions and ``and``
    intersects them."""
    request = parse_work_interruption_filter(
        f"date eq '2024-01-01' and {conditions}", delta=False, today=TODAY
    )
    members = {c: frozenset({10, 11}) for c in request.group_conditions()}
    assert request.selection(members).person_ids == frozenset(expected)


def test_person_or_at_the_top_still_needs_the_date_in_every_branch() -> None:
    """``person eq 1 or person eq 2 and date ...`` leaves the first branch without a date."""
    assert reasons("person eq 1 or person eq 2 and date eq '2024-01-01'") == (
        "Filter field 'date' is a Range field and cannot be used inside 'or'; "
        "'or' combines conditions on 'person'",
        "Required filter field 'date' is missing",
    )


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ("person in (1, 2, 3) and person in (2, 3, 4)", {2, 3}),
        ("person in (1, 2) and person eq 2", {2}),
        ("person eq 1 and person eq 1", {1}),
        ("person eq 1 and person eq 2", set()),
    ],
)
def test_several_person_conditions_intersect(conditions: str, expected: set[int]) -> None:
    """Several ``person`` conditions must all hold, so their people intersect."""
    found = selection(f"date eq '2024-01-01' and {conditions}")
    assert found.person_ids == frozenset(expected)


def test_person_with_a_string_is_refused() -> None:
    """``person`` takes integers only."""
    (reason,) = reasons("date eq '2024-01-01' and person eq '115'")
    assert reason == "Filter field 'person' expects an integer, got '115'"


# --- delta ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "conditions",
    [
        "person eq 1",
        "person in (1, 2)",
        "(person eq 1 and person eq 1)",
        "(person eq 1 or person eq 2)",
        "person in circle(2)",
    ],
)
def test_delta_refuses_person(conditions: str) -> None:
    """A delta tracks every person: ``person`` may not be used with it."""
    text = f"{between('2025-01-01', '2025-01-31')} and {conditions}"
    assert reasons(text, delta=True) == ("'person' cannot be used with delta",)
    request = parse_work_interruption_filter(text, delta=False, today=TODAY)
    members = {c: frozenset({1}) for c in request.group_conditions()}
    assert request.selection(members).person_ids is not None


@pytest.mark.parametrize(
    "today", [dt.date(2025, 1, 1), dt.date(2025, 6, 15), dt.date(2025, 12, 31)]
)
def test_delta_may_start_on_1_january_of_the_previous_year(today: dt.date) -> None:
    """A delta starting on 1 January of the previous year is accepted, whatever today is."""
    found = selection(between("2024-01-01", "2024-12-31"), delta=True, today=today)
    assert found.date_from == dt.date(2024, 1, 1)


@pytest.mark.parametrize(
    "today", [dt.date(2025, 1, 1), dt.date(2025, 6, 15), dt.date(2025, 12, 31)]
)
def test_delta_refuses_an_earlier_start(today: dt.date) -> None:
    """A delta starting the day before 1 January of the previous year is refused."""
    text = between("2023-12-31", "2024-01-05")
    assert reasons(text, delta=True, today=today) == (
        "a delta may start no earlier than 2024-01-01",
    )
    assert selection(text, delta=False, today=today).date_from == dt.date(2023, 12, 31)


def test_delta_with_only_a_start_date_is_open_ended() -> None:
    """A delta may leave out the end date: it then tracks every later date."""
    found = selection("date ge '2025-01-01'", delta=True)
    assert (found.date_from, found.date_to) == (dt.date(2025, 1, 1), OPEN_END)
    assert found.matches(date=dt.date(2030, 5, 1), person_id=1)
    assert not found.matches(date=dt.date(2024, 12, 31), person_id=1)


@pytest.mark.parametrize(
    ("first", "last", "accepted"),
    [("2025-01-01", "2025-12-31", True), ("2025-01-01", "2026-01-01", False)],
)
def test_a_delta_end_date_is_at_most_one_year_after_the_start(
    first: str, last: str, accepted: bool
) -> None:
    """When a delta gives an end date, the range is at most one year, as for a list."""
    text = between(first, last)
    if accepted:
        assert selection(text, delta=True).date_to == dt.date.fromisoformat(last)
    else:
        assert reasons(text, delta=True)[0].endswith("is longer than one year")


@pytest.mark.parametrize(
    ("first", "accepted"),
    [("2025-06-15", True), ("2025-06-14", True), ("2025-06-16", False), ("2026-01-01", False)],
)
def test_a_delta_starts_in_the_past(first: str, accepted: bool) -> None:
    """A delta's start date lies in the past (today included), never in the future."""
    text = f"date ge '{first}'"
    if accepted:
        assert selection(text, delta=True).date_from == dt.date.fromisoformat(first)
    else:
        assert reasons(text, delta=True) == (
            f"a delta must start on a date in the past; {first} is after {TODAY}",
        )
    assert selection(between(first, first)).date_from == dt.date.fromisoformat(first)


def test_delta_limit_moves_with_today() -> None:
    """The earliest delta start follows the year of ``today``."""
    text = between("2024-01-01", "2024-01-05")
    assert reasons(text, delta=True, today=dt.date(2026, 1, 1)) == (
        "a delta may start no earlier than 2025-01-01",
    )


# --- unknown fields and syntax -------------------------------------------------------------


def test_unknown_field_is_refused_with_the_allowed_fields() -> None:
    """A field other than ``date`` and ``person`` is named with the allowed ones."""
    assert reasons("date eq '2024-01-01' and colour eq 'red'") == (
        "Unknown filter field 'colour'; allowed fields: date, person",
    )


@pytest.mark.parametrize(
    "text",
    [
        "date eq '2024-01-01' or date eq '2024-01-02'",
        "date eq '2024-01-01' and (person eq 1 or date eq '2024-01-02')",
    ],
)
def test_or_on_date_is_refused(text: str) -> None:
    """``date`` is a Range field: it may not be used inside an ``or``."""
    assert reasons(text)[0] == (
        "Filter field 'date' is a Range field and cannot be used inside 'or'; "
        "'or' combines conditions on 'person'"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date ge '2024-01-01' and", "Unexpected end of input at position 24"),
        ("date eq '2024-01-01", "Unterminated string starting at position 8"),
        ('date eq "2024-01-01"', "strings use single quotes"),
        ("date == '2024-01-01'", "Unexpected character '=' at position 5"),
        ("(date eq '2024-01-01'", "expected 'and', 'or' or ')'"),
    ],
)
def test_bad_syntax_is_refused_with_a_reason(text: str, expected: str) -> None:
    """Malformed filter text raises ``InvalidFilterError`` saying what is wrong where."""
    (reason,) = reasons(text)
    assert expected in reason


# --- matching ------------------------------------------------------------------------------


def test_matches_includes_both_ends_of_the_range() -> None:
    """A record matches on the first and last day of the range, not a day outside it."""
    chosen = WorkInterruptionFilter(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 1, 31))
    assert chosen.matches(date=dt.date(2024, 1, 1), person_id=7)
    assert chosen.matches(date=dt.date(2024, 1, 31), person_id=7)
    assert not chosen.matches(date=dt.date(2023, 12, 31), person_id=7)
    assert not chosen.matches(date=dt.date(2024, 2, 1), person_id=7)


def test_matches_narrows_on_people_when_asked() -> None:
    """With people chosen, only their records match; an empty choice matches nothing."""
    day = dt.date(2024, 1, 1)
    chosen = WorkInterruptionFilter(date_from=day, date_to=day, person_ids=frozenset({1, 2}))
    assert chosen.matches(date=day, person_id=2)
    assert not chosen.matches(date=day, person_id=3)
    nobody = WorkInterruptionFilter(date_from=day, date_to=day, person_ids=frozenset())
    assert not nobody.matches(date=day, person_id=1)


DAYS = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 3, 31))
PEOPLE = st.integers(min_value=1, max_value=6)


@given(
    first=DAYS,
    days=st.integers(min_value=0, max_value=40),
    people=st.none() | st.lists(PEOPLE, min_size=1, max_size=4),
    date=DAYS,
    person=PEOPLE,
)
def test_matches_agrees_with_the_generic_filter_evaluation(
    first: dt.date, days: int, people: list[int] | None, date: dt.date, person: int
) -> None:
    """``matches`` of a parsed filter agrees with evaluating the filter text on the record."""
    text = between(first.isoformat(), (first + dt.timedelta(days=days)).isoformat())
    if people is not None:
        text += " and person in (" + ", ".join(map(str, people)) + ")"
    chosen = selection(text)
    tree = WORK_INTERRUPTIONS_FILTER.parse(text)
    expected = matches(tree, {"date": date.isoformat(), "person": person})
    assert chosen.matches(date=date, person_id=person) == expected


def test_query_defaults_to_the_first_page_of_a_thousand() -> None:
    """A query without keyset starts at the beginning with the default page size."""
    day = dt.date(2024, 1, 1)
    query = WorkInterruptionQuery(selection=WorkInterruptionFilter(date_from=day, date_to=day))
    assert (query.after, query.limit) == (None, 1000)
