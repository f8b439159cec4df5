"""Tests for the Protime filter grammar (``filters``): parsing, parse errors and rendering."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.filter_helpers import EQ, GE, LE, cmp
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


def test_conditions_equal_by_field_operator_and_typed_value() -> None:
    """Equal conditions hash alike; ``true`` is not ``1``, and a condition is no other node."""
    assert parse("a eq 1") == cmp("a", EQ, 1)
    assert len({parse("a eq 1"), parse("a  eq  1"), cmp("a", EQ, True)}) == 2
    assert cmp("a", EQ, True) != cmp("a", EQ, 1)
    assert cmp("a", EQ, 1) != InList(field="a", values=(1,))
    assert InList(field="a", values=(1,)) != cmp("a", EQ, 1)
    assert InList(field="a", values=(1,)) != "a in (1)"


def test_an_integer_the_interpreter_cannot_convert_is_refused_with_its_position() -> None:
    """Under a lower digit limit for int conversion, a long integer is an error, not a crash."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        with pytest.raises(InvalidFilterError, match="Integer too long at position 5"):
            parse("a eq " + "9" * 700)
    finally:
        sys.set_int_max_str_digits(limit)
