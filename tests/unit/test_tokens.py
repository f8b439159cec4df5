"""Opaque tokens: only this server's, untouched, for the same purpose and tenant, decode."""

from __future__ import annotations

import base64
import hashlib
import hmac

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


@pytest.mark.parametrize(
    "text", ["", "nodot", "a.b.c", "é.x", "x" * 2049 + ".x", "a.AAAA", "AAAA.a", "A$A.AAAA"]
)
def test_text_of_the_wrong_shape_is_refused(text: str) -> None:
    """Too long, not one dot, not ASCII or not base64 on either side: refused as malformed."""
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


def test_a_signed_body_that_is_not_an_object_is_refused() -> None:
    """Only a JSON object is a payload, even under a valid MAC (a key reused elsewhere)."""
    codec = TokenCodec(b"k" * 32)
    body = b"[1,2]"
    mac = hmac.new(b"k" * 32, b"\x00".join((b"p", b"acme", body)), hashlib.sha256).digest()
    token = f"{_b64(body)}.{_b64(mac)}"
    with pytest.raises(InvalidContinuationTokenError):
        codec.decode(token, purpose="p", tenant="acme")


def test_a_token_spelled_with_other_unused_base64_bits_is_refused() -> None:
    """Bits past the end of the MAC may not vary: each token has one spelling only."""
    codec = TokenCodec(b"k" * 32)
    token = codec.encode({"v": 1}, purpose="p", tenant="acme")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # A 32-byte MAC leaves the last of its 43 characters two unused low bits.
    respelled = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert base64.urlsafe_b64decode(respelled.split(".")[1] + "=") == base64.urlsafe_b64decode(
        token.split(".")[1] + "="
    )
    with pytest.raises(InvalidContinuationTokenError):
        codec.decode(respelled, purpose="p", tenant="acme")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
