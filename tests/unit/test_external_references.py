"""Tests for ``workhooks.domain.external_references``: the query form and the value rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.external_references import (
    BADGE_NUMBER,
    EMPLOYEE_NUMBER,
    MAX_REFERENCE_VALUE_LENGTH,
    PREDEFINED,
    ExternalReference,
    custom_keys,
    parse_external_references,
    reference_values,
    references_by_collection,
    render_external_references,
    validate_custom_key,
    validate_value,
)
from workhooks.errors import InvalidRequestError

MAX_REFERENCES = 16  # the documented limit of references in one query


def people(key: str) -> ExternalReference:
    """A reference of the ``people`` collection."""
    return ExternalReference(collection="people", key=key)


def refusal(text: str) -> InvalidRequestError:
    """Parse ``text`` expecting a refusal and return the error."""
    with pytest.raises(InvalidRequestError) as caught:
        parse_external_references(text)
    return caught.value


def only_reason(error: InvalidRequestError) -> str:
    """The single reason of an ``externalReferences`` error, checked for its prefix."""
    (reason,) = error.reasons
    assert reason.startswith("externalReferences: ")
    return reason


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\t\n"])
def test_absent_or_blank_text_asks_for_no_references(text: str | None) -> None:
    """No text, or only whitespace, asks for no references at all."""
    assert parse_external_references(text) == ()


def test_one_predefined_reference() -> None:
    """``(people,@employee-number)`` asks for the employee number of people."""
    assert parse_external_references("(people,@employee-number)") == (people(EMPLOYEE_NUMBER),)


def test_several_references_keep_their_order() -> None:
    """Several references come back in the order they were asked for."""
    text = "(people,HRMID)(people,@badge-number)(people,@employee-number)"
    assert parse_external_references(text) == (
        people("HRMID"),
        people(BADGE_NUMBER),
        people(EMPLOYEE_NUMBER),
    )


def test_whitespace_around_and_inside_items_is_ignored() -> None:
    """Blanks around the text, between items and around the parts of an item are ignored."""
    text = "  ( people , @badge-number )\t(people,HRMID)\n "
    assert parse_external_references(text) == (people(BADGE_NUMBER), people("HRMID"))


def test_duplicates_are_kept_once_at_their_first_position() -> None:
    """A reference asked for twice appears once, where it was first asked for."""
    text = "(people,HRMID)(people,@badge-number) (people, HRMID)(people,@badge-number)"
    assert parse_external_references(text) == (people("HRMID"), people(BADGE_NUMBER))


def test_predefined_property_tells_at_references_apart() -> None:
    """Only keys starting with ``@`` are predefined."""
    assert people(BADGE_NUMBER).predefined
    assert people(EMPLOYEE_NUMBER).predefined
    assert not people("HRMID").predefined
    assert frozenset({BADGE_NUMBER, EMPLOYEE_NUMBER}) == PREDEFINED


def test_exactly_the_maximum_of_distinct_references_is_accepted() -> None:
    """Sixteen distinct references are allowed, and duplicates beyond them do not count."""
    keys = [f"K{i}" for i in range(MAX_REFERENCES)]
    text = "".join(f"(people,{k})" for k in keys * 3)
    assert parse_external_references(text) == tuple(people(k) for k in keys)


# --- round trip ----------------------------------------------------------------------------

CUSTOM_KEYS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
KEYS = st.one_of(st.sampled_from(sorted(PREDEFINED)), CUSTOM_KEYS)
REFERENCE_LISTS = st.lists(KEYS, unique=True, max_size=MAX_REFERENCES).map(
    lambda keys: tuple(people(k) for k in keys)
)


@given(references=REFERENCE_LISTS)
def test_render_then_parse_gives_back_the_references(
    references: tuple[ExternalReference, ...],
) -> None:
    """Rendering distinct valid references and parsing the text gives back the same tuple."""
    text = render_external_references(references)
    assert parse_external_references(text) == references
    assert text.count("(") == len(references)


@given(references=REFERENCE_LISTS, blanks=st.sampled_from(["", " ", "  ", "\t"]))
def test_parse_tolerates_blanks_between_rendered_items(
    references: tuple[ExternalReference, ...], blanks: str
) -> None:
    """Blanks between and around rendered items do not change what is parsed."""
    text = blanks + blanks.join(render_external_references((r,)) for r in references) + blanks
    assert parse_external_references(text) == references


def test_render_of_known_references() -> None:
    """The query form is ``(collection,key)`` items without separators."""
    rendered = render_external_references((people(BADGE_NUMBER), people("HRMID")))
    assert rendered == "(people,@badge-number)(people,HRMID)"
    assert render_external_references(()) == ""


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["things", "People", "work-interruptions", ""])
def test_unknown_collection_is_refused(collection: str) -> None:
    """Only the ``people`` collection (case-sensitive) has references."""
    error = refusal(f"(people,HRMID)({collection},HRMID)")
    reason = only_reason(error)
    assert f"unknown collection {collection!r}" in reason
    assert "people" in reason
    assert error.code == "InvalidRequest"


@pytest.mark.parametrize("key", ["@nope", "@", "@Badge-Number", "@employee_number"])
def test_unknown_predefined_reference_is_refused(key: str) -> None:
    """An ``@`` key that is not a predefined reference is refused, naming the known ones."""
    reason = only_reason(refusal(f"(people,{key})"))
    assert f"unknown predefined reference {key!r}" in reason
    assert "@badge-number, @employee-number" in reason


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("people,HRMID", 0),
        ("(people,HRMID", 0),
        ("(people HRMID)", 0),
        ("(people,a b)", 0),
        ("(people,HRMID,x)", 0),
        ("((people,HRMID))", 0),
        ("(people,HRMID)junk", 14),
        ("(people,HRMID),(people,@badge-number)", 14),
        ("(people,HRMID)(people", 14),
    ],
)
def test_malformed_text_is_refused_with_the_position(text: str, position: int) -> None:
    """Text that is not a sequence of ``(collection,key)`` items names where it goes wrong."""
    reason = only_reason(refusal(text))
    assert reason == f"externalReferences: expected '(collection,key)' at position {position}"


@pytest.mark.parametrize("key", ["", "_HRMID", "-x", ".x", "a" * 65, "HR/MID", "HRMÏD"])
def test_invalid_custom_key_in_the_query_is_refused(key: str) -> None:
    """A custom key that breaks the key rules is refused when asked for."""
    reason = only_reason(refusal(f"(people,{key})"))
    assert reason == f"externalReferences: {key!r} is not a valid custom reference key"


def test_reported_position_counts_leading_blanks() -> None:
    """The position in the reason points at the offending character of the text as sent."""
    text = "  (people,HRMID)junk"
    reason = only_reason(refusal(text))
    assert (
        reason == f"externalReferences: expected '(collection,key)' at position {text.index('j')}"
    )


def test_too_many_distinct_references_are_refused() -> None:
    """Seventeen distinct references are one too many."""
    text = "".join(f"(people,K{i})" for i in range(MAX_REFERENCES + 1))
    error = refusal(text)
    assert only_reason(error) == f"externalReferences: at most {MAX_REFERENCES} references"


def test_error_message_clips_long_text() -> None:
    """The error message quotes at most the first 200 characters of the text."""
    text = "(people,HRMID)" + "x" * 1000
    error = refusal(text)
    assert len(error.message) < 260
    assert "x" * 201 not in error.message


# --- custom keys and values ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["HRMID", "a", "9", "hr.mid-2_x", "A" * 64])
def test_valid_custom_key_is_returned(key: str) -> None:
    """A key of 1 to 64 letters, digits, ``_ . -`` starting alphanumeric is accepted."""
    assert validate_custom_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "@badge-number", "_x", "-x", ".x", "A" * 65, "a b", "a/b", "é", "x\n", "x\x00"],
)
def test_invalid_custom_key_is_refused(key: str) -> None:
    """Other keys (including the ``@`` ones, which are not custom) are refused with a reason."""
    with pytest.raises(InvalidRequestError) as caught:
        validate_custom_key(key)
    (reason,) = caught.value.reasons
    assert reason.startswith("key: 1 to 64 letters")


@given(key=CUSTOM_KEYS)
def test_every_key_of_the_key_grammar_is_valid(key: str) -> None:
    """Every key matching the documented grammar passes ``validate_custom_key``."""
    assert validate_custom_key(key) == key


@pytest.mark.parametrize(
    "value", ["", "E-0042", "with space", "ünïcödé", "v" * MAX_REFERENCE_VALUE_LENGTH]
)
def test_acceptable_value_is_returned(value: str) -> None:
    """Values up to 256 characters without control characters are accepted, empty included."""
    assert validate_value(value) == value


@pytest.mark.parametrize(
    "value", ["v" * (MAX_REFERENCE_VALUE_LENGTH + 1), "a\nb", "tab\t", "\x00", "\x1f"]
)
def test_unacceptable_value_is_refused(value: str) -> None:
    """A value that is too long or holds a control character is refused with a reason."""
    with pytest.raises(InvalidRequestError) as caught:
        validate_value(value)
    (reason,) = caught.value.reasons
    assert reason == (
        f"value: at most {MAX_REFERENCE_VALUE_LENGTH} characters, no control characters"
    )


@pytest.mark.parametrize("value", ["a\x7fb", "a\x85b", "a\u2028b", "a\u2029b", "tab\there"])
def test_values_with_control_characters_or_line_separators_are_refused(value: str) -> None:
    """DEL, C1 controls and Unicode line/paragraph separators are refused like C0 controls."""
    with pytest.raises(InvalidRequestError):
        validate_value(value)


def test_values_with_ordinary_unicode_are_accepted() -> None:
    """Letters of any script, spaces and punctuation are fine."""
    assert validate_value("Ünïcode – 名前 #42") == "Ünïcode – 名前 #42"


def test_references_group_by_collection_in_order() -> None:
    """A webhook's references show as an object keyed by collection, keys in the order asked."""
    refs = parse_external_references("(people,HRMID)(people,@badge-number)")
    assert references_by_collection(refs) == {"people": ["HRMID", "@badge-number"]}
    assert references_by_collection(()) == {}


def test_custom_keys_are_the_keys_without_an_at_sign_in_order() -> None:
    """The predefined keys are left to the person's own fields."""
    assert custom_keys([BADGE_NUMBER, "HRMID", EMPLOYEE_NUMBER, "CARD"]) == ["HRMID", "CARD"]


def test_reference_values_follow_the_requested_keys() -> None:
    """``@`` keys map to the person's numbers, others to custom values, in the keys' order."""
    values = reference_values(
        ["HRMID", EMPLOYEE_NUMBER, BADGE_NUMBER],
        badge_number="B1",
        employee_number="E1",
        custom={"HRMID": "h-1", "OTHER": "o"},
    )
    assert list(values.items()) == [("HRMID", "h-1"), (EMPLOYEE_NUMBER, "E1"), (BADGE_NUMBER, "B1")]


def test_reference_values_leave_out_absent_and_empty_values() -> None:
    """A missing number, an empty value or an unknown custom key gives no entry."""
    values = reference_values(
        [BADGE_NUMBER, EMPLOYEE_NUMBER, "HRMID", "CARD"],
        badge_number=None,
        employee_number="",
        custom={"HRMID": ""},
    )
    assert values == {}
