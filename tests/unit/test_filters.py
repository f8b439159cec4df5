"""Tests for the Protime filter grammar (``filters``) and filter declarations (``filter_specs``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workhooks.domain.filter_specs import (
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
from workhooks.domain.filters import (
    MAX_LENGTH,
    MAX_NESTING,
    And,
    Comparison,
    Constant,
    InList,
    Node,
    Operator,
    Or,
    is_identifier,
    parse,
    render,
)
from workhooks.errors import InvalidFilterError

EQ, GE, LE = Operator.EQ, Operator.GE, Operator.LE


def cmp(field: str, op: Operator, value: Constant) -> Comparison:
    """Build a ``Comparison`` tersely."""
    return Comparison(field=field, op=op, value=value)


def parse_error(text: str) -> InvalidFilterError:
    """Parse ``text`` expecting ``InvalidFilterError`` and return it."""
    with pytest.raises(InvalidFilterError) as caught:
        parse(text)
    return caught.value


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        (
            "date ge '2024-01-01' and date le '2024-01-05'",
            And(items=(cmp("date", GE, "2024-01-01"), cmp("date", LE, "2024-01-05"))),
        ),
        ("person in (115, 256)", InList(field="person", values=(115, 256))),
        ("status eq 'Disabled'", cmp("status", EQ, "Disabled")),
        (
            "collection-name eq 'work-interruptions'",
            cmp("collection-name", EQ, "work-interruptions"),
        ),
        ("person.id eq 7", cmp("person.id", EQ, 7)),
        ("user@x_y eq 'a'", cmp("user@x_y", EQ, "a")),
    ],
)
def test_documented_examples_parse_to_expected_trees(text: str, tree: Node) -> None:
    """The examples from the Protime docs parse to the expected typed trees."""
    assert parse(text) == tree


def test_and_binds_tighter_than_or() -> None:
    """``a or b and c`` groups as ``Or(a, And(b, c))``."""
    assert parse("a eq 1 or b eq 2 and c eq 3") == Or(
        items=(cmp("a", EQ, 1), And(items=(cmp("b", EQ, 2), cmp("c", EQ, 3))))
    )


def test_parentheses_override_precedence() -> None:
    """``(a or b) and c`` groups as ``And(Or(a, b), c)``."""
    assert parse("(a eq 1 or b eq 2) and c eq 3") == And(
        items=(Or(items=(cmp("a", EQ, 1), cmp("b", EQ, 2))), cmp("c", EQ, 3))
    )


def test_redundant_parentheses_around_a_condition_disappear() -> None:
    """Parentheses around a single condition only group and leave no trace in the tree."""
    assert parse("((a eq 1))") == cmp("a", EQ, 1)


def test_chains_flatten_but_grouped_chains_nest() -> None:
    """``a and b and c`` is one ``And`` of three, while ``(a and b) and c`` keeps the group."""
    a, b, c = cmp("a", EQ, 1), cmp("b", EQ, 2), cmp("c", EQ, 3)
    assert parse("a eq 1 and b eq 2 and c eq 3") == And(items=(a, b, c))
    assert parse("(a eq 1 and b eq 2) and c eq 3") == And(items=(And(items=(a, b)), c))


def test_doubled_quote_inside_string_is_one_quote() -> None:
    """``'O''Brien'`` is the string ``O'Brien`` and renders back with the doubled quote."""
    tree = parse("name eq 'O''Brien'")
    assert tree == cmp("name", EQ, "O'Brien")
    assert render(tree) == "name eq 'O''Brien'"


def test_empty_string_and_quote_only_string() -> None:
    """``''`` is the empty string and ``''''`` a single quote."""
    assert parse("a eq ''") == cmp("a", EQ, "")
    assert parse("a eq ''''") == cmp("a", EQ, "'")


def test_negative_integers() -> None:
    """A leading minus makes a negative integer, also inside lists."""
    assert parse("a ge -5") == cmp("a", GE, -5)
    assert parse("a in (-1, 2)") == InList(field="a", values=(-1, 2))


def test_booleans_are_bool_constants_not_ints() -> None:
    """``true``/``false`` parse to bools and do not compare equal to ``1``/``0`` trees."""
    assert parse("active eq true") == cmp("active", EQ, True)
    assert parse("active eq FALSE") == cmp("active", EQ, False)
    assert parse("active eq true") != parse("active eq 1")
    assert parse("a in (true)") != parse("a in (1)")


def test_keywords_are_case_insensitive() -> None:
    """Operators, connectives and booleans parse in any letter case."""
    assert parse("a EQ 1 And b Ge 2 OR c iN (True)") == parse("a eq 1 and b ge 2 or c in (true)")


def test_identifiers_are_case_sensitive() -> None:
    """Field names keep their case."""
    assert parse("Status eq 'x'") == cmp("Status", EQ, "x")


def test_named_list_keeps_its_name() -> None:
    """``person in people(1, 2)`` keeps ``people`` as the list name and renders it back."""
    tree = parse("person in people(1, 2)")
    assert tree == InList(field="person", values=(1, 2), list_name="people")
    assert render(tree) == "person in people(1, 2)"


def test_whitespace_is_flexible() -> None:
    """Extra, missing or unusual whitespace between tokens does not change the tree."""
    assert parse("  a\teq 1\nand(b in(1,2))  ") == parse("a eq 1 and b in (1, 2)")


def test_nesting_up_to_the_limit_is_accepted() -> None:
    """Exactly ``MAX_NESTING`` levels of parentheses still parse."""
    text = "(" * MAX_NESTING + "a eq 1" + ")" * MAX_NESTING
    assert parse(text) == cmp("a", EQ, 1)


# --- parse errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "end of input at position 0; expected a field name"),
        ("status xyz 'a'", "token 'xyz' at position 7; expected a comparison operator"),
        ("a eq", "end of input at position 4; expected a constant"),
        ("a eq 1 b", "token 'b' at position 7; expected 'and', 'or' or end of input"),
        ("(a eq 1", "end of input at position 7; expected 'and', 'or' or ')'"),
        ("a eq 1)", "token ')' at position 6; expected 'and', 'or' or end of input"),
        ("a eq (1, 2)", "token '(' at position 5; expected a constant"),
        ("a in 5", "token '5' at position 5; expected a list after 'in'"),
        ("a in l 5", "token '5' at position 7; expected '(' to start the list"),
        ("a in ()", "token ')' at position 6; expected a constant"),
        ("a in (1 2)", "token '2' at position 8; expected ',' or ')'"),
        ("a in (1,)", "token ')' at position 8; expected a constant"),
        ("a eq b", "token 'b' at position 5; expected a constant"),
        ("and eq 1", "token 'and' at position 0; expected a field name"),
        ("a eq 1 and", "end of input at position 10; expected a field name"),
        ("a eq 'x", "Unterminated string starting at position 5"),
        ("a eq 1 # b", "Unexpected character '#' at position 7"),
        ('a eq "x"', "Unexpected character '\"' at position 5; strings use single quotes"),
        ("5x eq 1", "Invalid token '5x' at position 0"),
        ("a eq 1-2", "Invalid token '1-2' at position 5"),
    ],
)
def test_parse_errors_name_position_and_token(text: str, fragment: str) -> None:
    """Each malformed input raises InvalidFilterError naming the position and token."""
    error = parse_error(text)
    assert fragment in error.message
    assert error.reasons == (error.message,)


def test_error_quotes_the_documented_message() -> None:
    """An unknown operator gives exactly the message style from the brief."""
    error = parse_error("date ge '2024' xyz")
    assert error.message == (
        "Unexpected token 'xyz' at position 15; expected 'and', 'or' or end of input"
    )
    error = parse_error("collection xyz 1")
    assert error.message == (
        "Unexpected token 'xyz' at position 11; expected a comparison operator (eq, ge, le, in)"
    )


def test_long_tokens_are_clipped_in_messages() -> None:
    """A huge offending token is shortened so the message stays readable."""
    error = parse_error("a eq 1 " + "b" * 1000)
    assert len(error.message) < 200
    assert "position 7" in error.message


def test_deep_nesting_is_rejected_cleanly() -> None:
    """One level past ``MAX_NESTING`` raises InvalidFilterError naming the position."""
    text = "(" * (MAX_NESTING + 1) + "a eq 1" + ")" * (MAX_NESTING + 1)
    error = parse_error(text)
    assert f"'(' at position {MAX_NESTING}" in error.message
    assert "Too deeply nested" in error.message


def test_very_deep_nesting_does_not_recurse_away() -> None:
    """Thousands of parentheses give InvalidFilterError, never RecursionError."""
    assert "Too deeply nested" in parse_error("(" * (MAX_LENGTH - 10)).message


def test_too_long_input_is_rejected() -> None:
    """Text longer than ``MAX_LENGTH`` is refused, naming the limit and the position."""
    error = parse_error("a eq 1 and " * 1000)
    assert f"position {MAX_LENGTH}" in error.message
    assert "too long" in error.message


# --- rendering and properties ----------------------------------------------------------------

_identifiers = st.from_regex(r"[A-Za-z_@][A-Za-z0-9_.@-]{0,8}", fullmatch=True).filter(
    is_identifier
)
_constants: st.SearchStrategy[Constant] = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=12)
)
_leaves: st.SearchStrategy[Node] = st.one_of(
    st.builds(
        Comparison,
        field=_identifiers,
        op=st.sampled_from([EQ, GE, LE]),
        value=_constants,
    ),
    st.builds(
        InList,
        field=_identifiers,
        values=st.lists(_constants, min_size=1, max_size=4).map(tuple),
        list_name=st.none() | _identifiers,
    ),
)


def _branches(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    items = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(st.builds(And, items=items), st.builds(Or, items=items))


_trees = st.recursive(_leaves, _branches, max_leaves=12)

_token_soup = st.lists(
    st.sampled_from(
        [
            "a",
            "b.c",
            "eq",
            "GE",
            "le",
            "in",
            "and",
            "OR",
            "(",
            ")",
            ",",
            "1",
            "-2",
            "'x'",
            "'O''B'",
            "'",
            "true",
            "False",
            "l(",
            "",
            " ",
            "\t",
            "#",
            "--",
            "1a",
        ]
    ),
    max_size=30,
).map(" ".join)


@given(_trees)
def test_render_then_parse_gives_the_same_tree(tree: Node) -> None:
    """For any tree, parsing its canonical rendering gives the tree back."""
    assert parse(render(tree)) == tree


@given(_trees)
def test_rendering_is_canonical(tree: Node) -> None:
    """Rendering a parsed rendering reproduces the exact same text."""
    text = render(tree)
    assert render(parse(text)) == text


def _parse_or_error(text: str) -> Node | InvalidFilterError:
    """Parse ``text``, returning the InvalidFilterError instead of raising it."""
    try:
        return parse(text)
    except InvalidFilterError as error:
        return error


@settings(max_examples=300)
@given(st.one_of(st.text(), _token_soup))
def test_arbitrary_text_only_raises_invalid_filter_error(text: str) -> None:
    """Any text either parses (and round-trips) or raises InvalidFilterError with a position."""
    outcome = _parse_or_error(text)
    if isinstance(outcome, InvalidFilterError):
        assert "position" in outcome.message
        assert outcome.reasons == (outcome.message,)
    else:
        assert parse(render(outcome)) == outcome


def test_invalid_hand_built_trees_are_refused() -> None:
    """Trees that could not be rendered and parsed back cannot be constructed."""
    with pytest.raises(ValueError, match="InList"):
        Comparison(field="a", op=Operator.IN, value=1)
    with pytest.raises(ValueError, match="identifier"):
        Comparison(field="and", op=EQ, value=1)
    with pytest.raises(ValueError, match="identifier"):
        InList(field="a", values=(1,), list_name="bad name")
    with pytest.raises(ValueError, match="non-empty"):
        InList(field="a", values=())
    with pytest.raises(ValueError, match="at least two"):
        And(items=(cmp("a", EQ, 1),))
    with pytest.raises(ValueError, match="at least two"):
        Or(items=())
    with pytest.raises(TypeError, match="constant"):
        Comparison(field="a", op=EQ, value=1.5)  # type: ignore[arg-type]


def test_render_parenthesises_only_where_needed() -> None:
    """Or inside And and nested groups of the same kind get parentheses; And inside Or does not."""
    a, b, c = cmp("a", EQ, 1), cmp("b", EQ, 2), cmp("c", EQ, 3)
    assert render(Or(items=(a, And(items=(b, c))))) == "a eq 1 or b eq 2 and c eq 3"
    assert render(And(items=(Or(items=(a, b)), c))) == "(a eq 1 or b eq 2) and c eq 3"
    assert render(Or(items=(Or(items=(a, b)), c))) == "(a eq 1 or b eq 2) or c eq 3"


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
    """``or`` in a work-interruptions filter is refused once, however often it appears."""
    text = (
        "date eq '2024-01-01' or date eq '2024-01-02' "
        "or (date eq '2024-01-03' or date eq '2024-01-04')"
    )
    error = spec_error(text, WORK_INTERRUPTIONS_FILTER)
    assert error.reasons == (
        "Filters for work-interruptions cannot use 'or'; combine conditions with 'and'",
    )


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
    error = spec_error("person ge 'x' or size eq 1", WORK_INTERRUPTIONS_FILTER)
    assert len(error.reasons) == 5
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
