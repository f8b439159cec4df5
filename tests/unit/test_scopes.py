"""The scope vocabulary: parsing a requested scope string and naming scopes for a new client."""

from __future__ import annotations

import pytest

from workhooks.domain.scopes import KNOWN_SCOPES, Scope, parse_scopes, require_scopes
from workhooks.errors import InvalidRequestError


def test_a_scope_string_splits_into_known_scopes_and_unknown_words() -> None:
    """Known scopes (the operator scope too) are kept once; unknown words keep their order."""
    known, unknown = parse_scopes(
        "connector-protimeapi-webhooks.read  nonsense workhooks-operator "
        "connector-protimeapi-webhooks.read all"
    )
    assert known == {Scope.WEBHOOKS_READ, Scope.OPERATOR}
    assert unknown == ("nonsense", "all")


def test_an_empty_scope_string_names_nothing() -> None:
    """Blank text is no scope and no unknown word."""
    assert parse_scopes("  ") == (frozenset(), ())


def test_all_grants_every_protime_scope_but_never_the_operator_scope() -> None:
    """``all`` is the Protime scopes; the operator scope is granted only by its name."""
    assert require_scopes(["all"]) == KNOWN_SCOPES
    assert Scope.OPERATOR not in require_scopes(["all"])
    assert require_scopes(["all workhooks-operator"]) == KNOWN_SCOPES | {Scope.OPERATOR}


def test_named_scopes_are_granted_as_named() -> None:
    """Words may come as separate arguments or space-separated in one."""
    assert require_scopes(
        ["connector-protimeapi-people.read connector-protimeapi-people.write"]
    ) == {Scope.PEOPLE_READ, Scope.PEOPLE_WRITE}


@pytest.mark.parametrize(
    ("words", "reasons"),
    [
        ([], ("scopes: name at least one scope, or 'all'",)),
        (["  "], ("scopes: name at least one scope, or 'all'",)),
        (
            ["all", "people.read", "x"],
            ("scopes: 'people.read' is not a scope", "scopes: 'x' is not a scope"),
        ),
    ],
)
def test_missing_or_unknown_scopes_are_refused_with_each_word(
    words: list[str], reasons: tuple[str, ...]
) -> None:
    """No scope at all, or any word that is not a scope, is refused and named."""
    with pytest.raises(InvalidRequestError) as caught:
        require_scopes(words)
    assert caught.value.reasons == reasons
