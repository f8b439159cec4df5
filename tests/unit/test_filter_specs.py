"""Tests for filter declarations (``filter_specs``): validation and the helpers built on it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.unit.filter_helpers import EQ, GE, LE, cmp
from workhooks.domain.filter_specs import (
    DELIVERIES_FILTER,
    WEBHOOKS_FILTER,
    WORK_INTERRUPTIONS_FILTER,
    FilterField,
    FilterSpec,
    ValueKind,
    conditions,
    conditions_for,
    date_range,
    matches,
    parse_filter,
    validate,
)
from workhooks.domain.filters import Constant, parse, render_constant
from workhooks.errors import InvalidFilterError

# --- specs and validation ------------------------------------------------------------------


def spec_error(text: str, spec: FilterSpec) -> InvalidFilterError:
    """Parse and validate ``text`` expecting InvalidFilterError and return it."""
    with pytest.raises(InvalidFilterError) as caught:
        parse_filter(text, spec)
    return caught.value


def test_valid_work_interruptions_filter_is_returned_unchanged() -> None:
    """A filter that follows the work-interruptions rules comes back as the same tree."""
    text = "date ge '2024-01-01' and date le '2024-01-05' and person in (115, 256)"
    assert parse_filter(text, WORK_INTERRUPTIONS_FILTER) == parse(text)
    assert WORK_INTERRUPTIONS_FILTER.parse(text) == parse(text)


def test_valid_webhooks_filter_may_use_or() -> None:
    """The webhooks spec accepts ``or`` and both of its fields."""
    text = "status eq 'Enabled' or collection-name in ('work-interruptions')"
    assert WEBHOOKS_FILTER.validate(parse(text)) == parse(text)


def test_unknown_field_lists_allowed_fields() -> None:
    """An undeclared field is named along with the fields that are allowed."""
    error = spec_error("date eq '2024-01-01' and colour eq 'red'", WORK_INTERRUPTIONS_FILTER)
    assert error.reasons == ("Unknown filter field 'colour'; allowed fields: date, person",)


def test_operator_not_allowed_for_field() -> None:
    """Using an operator the field does not allow names the operator and the allowed ones."""
    error = spec_error("status ge 'Enabled'", WEBHOOKS_FILTER)
    assert error.reasons == (
        "Operator 'ge' is not allowed for filter field 'status'; allowed operators: eq, in",
    )
    error = spec_error("date in ('2024-01-01')", WORK_INTERRUPTIONS_FILTER)
    assert "Operator 'in' is not allowed for filter field 'date'" in error.reasons[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "date eq '2024-01-01' and person eq 'abc'",
            "Filter field 'person' expects an integer, got 'abc'",
        ),
        (
            "date eq '2024-01-01' and person in (1, true)",
            "Filter field 'person' expects an integer, got true",
        ),
        ("date eq '2024-13-01'", "Filter field 'date' expects a valid date as 'YYYY-MM-DD'"),
        ("date eq '20240101'", "Filter field 'date' expects a valid date as 'YYYY-MM-DD'"),
        ("date eq 20240101", "Filter field 'date' expects a valid date as 'YYYY-MM-DD'"),
    ],
)
def test_wrong_constant_type_is_rejected(text: str, reason: str) -> None:
    """A constant of the wrong kind for its field is named in the reasons."""
    assert reason in spec_error(text, WORK_INTERRUPTIONS_FILTER).reasons[0]


def test_enum_values_must_be_one_of_the_choices() -> None:
    """An enum field lists its choices when given something else."""
    error = spec_error("status in ('Enabled', 'Paused')", WEBHOOKS_FILTER)
    assert error.reasons == (
        "Filter field 'status' expects one of 'Enabled', 'Disabled', got 'Paused'",
    )


def test_or_is_rejected_where_not_allowed() -> None:
    """``or`` in a delivery-history filter is refused once, however often it appears."""
    text = "status eq 'Failed' or status eq 'Succeeded' or (status eq 'Failed' or status eq 'x')"
    error = spec_error(text, DELIVERIES_FILTER)
    assert error.reasons[0] == (
        "Filters for deliveries cannot use 'or'; combine conditions with 'and'"
    )
    assert len(error.reasons) == 2


def test_a_range_field_is_refused_inside_or_once() -> None:
    """A Range field (``date``) inside ``or`` is refused once, however often it appears,
    while ``or`` between Multiple conditions (``person``) passes."""
    text = (
        "date eq '2024-01-01' or date eq '2024-01-02' "
        "or (date eq '2024-01-03' or date eq '2024-01-04')"
    )
    error = spec_error(text, WORK_INTERRUPTIONS_FILTER)
    assert error.reasons == (
        "Filter field 'date' is a Range field and cannot be used inside 'or'; "
        "'or' combines conditions on 'person'",
    )
    validate(
        parse("date eq '2024-01-01' and (person eq 1 or person in circle(2))"),
        WORK_INTERRUPTIONS_FILTER,
    )


def test_list_names_are_checked_against_the_field() -> None:
    """A named list is accepted only where the field declares the name; a field without
    named lists says it takes a plain list."""
    error = spec_error("status in archive('Enabled')", WEBHOOKS_FILTER)
    assert error.reasons == ("Filter field 'status' takes a plain list (...), not archive(...)",)
    error = spec_error("date eq '2024-01-01' and person in team(1)", WORK_INTERRUPTIONS_FILTER)
    assert "Unknown list team(...) for filter field 'person'" in error.reasons[0]


def test_required_field_missing() -> None:
    """A work-interruptions filter without ``date`` is refused."""
    error = spec_error("person eq 5", WORK_INTERRUPTIONS_FILTER)
    assert error.reasons == ("Required filter field 'date' is missing",)


def test_required_field_must_be_in_every_alternative() -> None:
    """With ``or`` allowed, a required field must be constrained in each alternative."""
    spec = FilterSpec(
        name="things",
        fields=(
            FilterField(name="day", kind=ValueKind.DATE, operators=(EQ,)),
            FilterField(name="ok", kind=ValueKind.BOOL, operators=(EQ,)),
        ),
        required=frozenset({"day"}),
    )
    validate(parse("day eq '2024-02-29' and (ok eq true or ok eq false)"), spec)
    error = spec_error("day eq '2024-02-29' or ok eq true", spec)
    assert error.reasons == ("Required filter field 'day' is missing",)


def test_all_problems_are_reported_together() -> None:
    """Validation lists every broken rule in ``reasons`` and summarises them in the message."""
    error = spec_error("person ge 'x' or size eq 1 or date eq 1", WORK_INTERRUPTIONS_FILTER)
    assert len(error.reasons) == 6
    assert error.message.startswith("Invalid filter for work-interruptions: ")
    assert all(reason in error.message for reason in error.reasons)


def test_field_convert_turns_dates_into_date_objects() -> None:
    """``FilterField.convert`` gives a ``date`` for date fields and refuses wrong kinds."""
    date_field = WORK_INTERRUPTIONS_FILTER.field("date")
    assert date_field is not None
    assert date_field.convert("2024-02-29") == date(2024, 2, 29)
    with pytest.raises(InvalidFilterError, match="valid date"):
        date_field.convert("2023-02-29")
    person = WORK_INTERRUPTIONS_FILTER.field("person")
    assert person is not None
    assert person.convert(7) == 7


def test_declarations_are_checked() -> None:
    """Inconsistent field and spec declarations are refused at definition time."""
    with pytest.raises(ValueError, match="choices"):
        FilterField(name="s", kind=ValueKind.ENUM, operators=(EQ,))
    with pytest.raises(ValueError, match="operator"):
        FilterField(name="s", kind=ValueKind.STR, operators=())
    with pytest.raises(ValueError, match="undeclared"):
        FilterSpec(name="x", fields=(), required=frozenset({"date"}))
    with pytest.raises(ValueError, match="not a valid identifier"):
        FilterField(name="2nd", kind=ValueKind.STR, operators=(EQ,))
    twice = FilterField(name="s", kind=ValueKind.STR, operators=(EQ,))
    with pytest.raises(ValueError, match="declares a field twice"):
        FilterSpec(name="x", fields=(twice, twice))


def test_an_integer_field_holds_64_bits() -> None:
    """Ids are stored in 64-bit columns: a larger integer is refused with the limit named."""
    person = WORK_INTERRUPTIONS_FILTER.field("person")
    assert person is not None
    assert person.problem(2**63 - 1) is None
    assert person.problem(-(2**63)) is None
    assert person.problem(2**63) == (
        f"Filter field 'person' expects an integer of 64 bits, got {2**63}"
    )


def test_a_time_field_takes_iso_8601_instants_with_an_offset() -> None:
    """``lastAttemptAt`` converts to an aware instant; ``Z`` and offsets name the same time."""
    at = DELIVERIES_FILTER.field("lastAttemptAt")
    assert at is not None
    utc = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert at.convert("2026-01-05T09:00:00Z") == utc
    assert at.convert("2026-01-05T10:00+01:00") == utc
    assert at.convert("2026-01-05T09:00:00.5z") == utc + timedelta(milliseconds=500)
    assert parse_filter("lastAttemptAt ge '2026-01-05T09:00:00Z'", DELIVERIES_FILTER)


@pytest.mark.parametrize(
    "value",
    [
        5,
        True,
        "2026-01-05",
        "2026-01-05T09:00:00",
        "2026-13-05T09:00:00Z",
        "2026-01-05T25:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:00-01:00",
    ],
)
def test_a_time_field_refuses_anything_but_a_storable_instant(value: Constant) -> None:
    """No offset, an impossible time, or an instant outside years 1 to 9999 in UTC is refused."""
    at = DELIVERIES_FILTER.field("lastAttemptAt")
    assert at is not None
    assert at.problem(value) == (
        "Filter field 'lastAttemptAt' expects an ISO 8601 time with offset, "
        f"e.g. '2026-01-05T09:00:00Z', got {render_constant(value)}"
    )


# --- helpers for implementations ------------------------------------------------------------


def test_conditions_for_returns_the_conditions_on_one_field() -> None:
    """``conditions_for`` picks the conditions on a field out of nested ``and`` groups."""
    tree = parse("date ge '2024-01-01' and (person eq 1 and date le '2024-01-05')")
    assert conditions_for(tree, "date") == [
        cmp("date", GE, "2024-01-01"),
        cmp("date", LE, "2024-01-05"),
    ]
    assert conditions_for(tree, "status") == []
    assert len(conditions(tree)) == 3


def test_conditions_refuse_or() -> None:
    """A filter with ``or`` cannot be read as a list of conditions."""
    with pytest.raises(InvalidFilterError, match="'or'"):
        conditions_for(parse("a eq 1 or a eq 2"), "a")
    with pytest.raises(InvalidFilterError, match="cannot use 'or'"):
        conditions(parse("a eq 1 and (b eq 1 or b eq 2)"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date ge '2024-01-01' and date le '2024-01-05'", (date(2024, 1, 1), date(2024, 1, 5))),
        ("date eq '2024-03-01'", (date(2024, 3, 1), date(2024, 3, 1))),
        (
            "date ge '2024-01-01' and date ge '2024-01-03' and date le '2024-02-01' "
            "and date le '2024-01-20'",
            (date(2024, 1, 3), date(2024, 1, 20)),
        ),
        (
            "date in ('2024-05-02', '2024-05-01', '2024-05-09')",
            (date(2024, 5, 1), date(2024, 5, 9)),
        ),
        ("person eq 3", None),
    ],
)
def test_date_range_reads_bounds(text: str, expected: tuple[date, date] | None) -> None:
    """``date_range`` narrows ge/le/eq/in bounds to an inclusive range, or None without any."""
    assert date_range(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("date ge '2024-01-01'", "needs a last date"),
        ("date le '2024-01-01'", "needs a first date"),
        ("date ge '2024-01-05' and date le '2024-01-01'", "selects no dates"),
        ("date eq '2024-02-30'", "is not a valid date"),
        ("date eq 5", "is not a valid date"),
        ("date eq '2024-01-01' or date eq '2024-01-02'", "'or'"),
    ],
)
def test_date_range_errors(text: str, fragment: str) -> None:
    """Open, empty, invalid or ``or`` date filters raise InvalidFilterError with a reason."""
    with pytest.raises(InvalidFilterError) as caught:
        date_range(parse(text))
    assert fragment in caught.value.reasons[0]


def test_date_range_max_span() -> None:
    """A range longer than ``max_span`` is refused; one exactly as long is accepted."""
    text = "date ge '2024-01-01' and date le '2024-12-31'"
    assert date_range(parse(text), max_span=timedelta(days=365)) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    with pytest.raises(InvalidFilterError, match="spans 365 days"):
        date_range(parse(text), max_span=timedelta(days=364))


def test_date_range_on_another_field() -> None:
    """``date_range`` reads whichever field it is asked for."""
    tree = parse("day ge '2024-01-01' and day le '2024-01-02'")
    assert date_range(tree, "day") == (date(2024, 1, 1), date(2024, 1, 2))
    assert date_range(tree) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status eq 'Enabled'", True),
        ("status eq 'Disabled' or collection-name eq 'work-interruptions'", True),
        ("status in ('Disabled') and collection-name eq 'work-interruptions'", False),
        ("date ge '2024-01-01' and date le '2024-01-31'", True),
        ("date ge '2024-01-16'", False),
        ("count ge 3 and count le 3", True),
        ("count eq true", False),
        ("active eq 1", False),
        ("missing eq 1", False),
        ("count ge 'a'", False),
    ],
)
def test_matches_evaluates_filters(text: str, expected: bool) -> None:
    """``matches`` evaluates and/or, orders ints and ISO dates, and never mixes types."""
    record: dict[str, Constant] = {
        "status": "Enabled",
        "collection-name": "work-interruptions",
        "date": "2024-01-15",
        "count": 3,
        "active": True,
    }
    assert matches(parse(text), record) is expected
