"""Opaque tokens: only this server's, untouched, for the same purpose and tenant, decode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.tokens import TokenCodec
from workhooks.errors import InvalidContinuationTokenError

CODEC = TokenCodec(b"k" * 32)
payloads = st.dictionaries(
    st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=20), st.booleans()), max_size=4
)


@given(payloads)
def test_round_trip(payload: dict[str, object]) -> None:
    """A token decodes to the payload it was made with."""
    token = CODEC.encode(payload, purpose="p", tenant="acme")
    assert CODEC.decode(token, purpose="p", tenant="acme") == payload


@given(payloads, st.data())
def test_any_changed_character_is_refused(payload: dict[str, object], data: st.DataObject) -> None:
    """Changing any one character of a token makes it invalid."""
    token = CODEC.encode(payload, purpose="p", tenant="acme")
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("AQgw_-.x0").filter(lambda c: c != token[index]))
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(InvalidContinuationTokenError):
        CODEC.decode(tampered, purpose="p", tenant="acme")


@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_cleanly(text: str) -> None:
    """Any string that is not a token raises the token error and nothing else."""
    with pytest.raises(InvalidContinuationTokenError):
        CODEC.decode(text, purpose="p", tenant="acme")


def test_foreign_tenant_purpose_or_key_is_refused() -> None:
    """A token of another tenant, purpose or server key is refused."""
    token = CODEC.encode({"a": 1}, purpose="p", tenant="acme")
    for purpose, tenant, codec in (
        ("p", "globex", CODEC),
        ("q", "acme", CODEC),
        ("p", "acme", TokenCodec(b"z" * 32)),
    ):
        with pytest.raises(InvalidContinuationTokenError):
            codec.decode(token, purpose=purpose, tenant=tenant)


def test_short_keys_are_rejected() -> None:
    """A codec refuses a key too short to be a secret."""
    with pytest.raises(ValueError, match="16 bytes"):
        TokenCodec(b"short")
