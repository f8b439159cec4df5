"""Typed token payloads: the same tokens as the dictionaries they replace, in both directions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.token_payloads import (
    DeltaCursor,
    HistoryCursor,
    ListCursor,
    PortalLinkClaims,
    SessionClaims,
)
from workhooks.domain.tokens import TokenCodec, TokenPayload
from workhooks.errors import InvalidContinuationTokenError

CODEC = TokenCodec(b"k" * 32)
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 4)

# Each payload beside the dictionary the release before put into the same token.
PREVIOUS_SHAPES: list[tuple[TokenPayload, str, dict[str, Any]]] = [
    (
        ListCursor(scope="ab" * 16, after_date=DAY, after_id=7, start_version=41, issued_at=T0),
        "list",
        {"s": "ab" * 16, "d": "2026-03-04", "i": 7, "v": 41, "t": int(T0.timestamp())},
    ),
    (
        ListCursor(scope="cd", after_date=DAY, after_id=8, start_version=None, issued_at=T0),
        "list",
        {"s": "cd", "d": "2026-03-04", "i": 8, "v": None, "t": int(T0.timestamp())},
    ),
    (
        DeltaCursor(
            version=12,
            date_from=DAY,
            date_to=dt.date(2026, 4, 1),
            references="payroll",
            issued_at=T0,
        ),
        "delta",
        {"v": 12, "f": "2026-03-04", "u": "2026-04-01", "r": "payroll", "t": int(T0.timestamp())},
    ),
    (
        HistoryCursor(scope="ef", last_attempt_at=T0, delivery_id="msg_wh_3"),
        "deliveries",
        {"scope": "ef", "at": T0.isoformat(), "id": "msg_wh_3"},
    ),
    (
        SessionClaims(actor="operator:ada", nonce="n" * 32, expires_at=T0),
        "console-session",
        {"actor": "operator:ada", "nonce": "n" * 32, "exp": T0.isoformat()},
    ),
    (
        PortalLinkClaims(actor="operator:ada", expires_at=T0),
        "portal-link",
        {"actor": "operator:ada", "exp": T0.isoformat()},
    ),
]


@pytest.mark.parametrize(("payload", "purpose", "previous"), PREVIOUS_SHAPES)
def test_a_typed_payload_makes_the_token_the_previous_release_made(
    payload: TokenPayload, purpose: str, previous: dict[str, Any]
) -> None:
    """Sealing a payload gives the very token its dictionary gave, and that token opens to it."""
    token = CODEC.encode(previous, purpose=purpose, tenant="acme")
    assert CODEC.seal(payload, tenant="acme") == token
    assert CODEC.open(type(payload), token, tenant="acme") == payload


@pytest.mark.parametrize(
    ("kind", "wire"),
    [
        (ListCursor, {"s": "ab", "d": "yesterday", "i": 1, "v": None, "t": 0}),
        (ListCursor, {"s": "ab", "d": "2026-03-04", "v": None, "t": 0}),
        (DeltaCursor, {"v": 1, "f": "2026-03-04", "u": "2026-03-05", "r": "", "t": "soon"}),
        (HistoryCursor, {"scope": "ab", "at": "then", "id": "x"}),
        (SessionClaims, {"actor": "a", "nonce": "n", "exp": "2026-01-05T09:00:00"}),
        (PortalLinkClaims, {"actor": "a"}),
    ],
)
def test_a_signed_token_of_the_wrong_shape_is_malformed(
    kind: type[TokenPayload], wire: dict[str, Any]
) -> None:
    """A token whose MAC holds but whose content does not fit its kind is refused as invalid."""
    token = CODEC.encode(wire, purpose=kind.PURPOSE, tenant="acme")
    with pytest.raises(InvalidContinuationTokenError):
        CODEC.open(kind, token, tenant="acme")


def test_a_payload_opens_only_as_its_own_kind() -> None:
    """The purpose comes from the kind, so a session cookie is no portal link."""
    token = CODEC.seal(SessionClaims(actor="a", nonce="n", expires_at=T0), tenant="acme")
    with pytest.raises(InvalidContinuationTokenError):
        CODEC.open(PortalLinkClaims, token, tenant="acme")


instants = st.integers(min_value=0, max_value=4_000_000_000).map(
    lambda s: dt.datetime.fromtimestamp(s, dt.UTC)
)


@given(
    scope=st.text(max_size=32),
    day=st.dates(),
    record=st.integers(min_value=1, max_value=2**53),
    version=st.none() | st.integers(min_value=0, max_value=2**53),
    at=instants,
)
def test_list_cursors_round_trip(
    scope: str, day: dt.date, record: int, version: int | None, at: dt.datetime
) -> None:
    """Any list cursor opens to itself."""
    cursor = ListCursor(
        scope=scope, after_date=day, after_id=record, start_version=version, issued_at=at
    )
    assert CODEC.open(ListCursor, CODEC.seal(cursor, tenant="t"), tenant="t") == cursor


@given(
    version=st.integers(min_value=0, max_value=2**53),
    days=st.tuples(st.dates(), st.dates()),
    references=st.text(max_size=40),
    at=instants,
)
def test_delta_cursors_round_trip(
    version: int, days: tuple[dt.date, dt.date], references: str, at: dt.datetime
) -> None:
    """Any delta cursor opens to itself."""
    cursor = DeltaCursor(
        version=version, date_from=days[0], date_to=days[1], references=references, issued_at=at
    )
    assert CODEC.open(DeltaCursor, CODEC.seal(cursor, tenant="t"), tenant="t") == cursor


@given(scope=st.text(max_size=32), at=st.datetimes(timezones=st.just(dt.UTC)), key=st.text())
def test_history_cursors_round_trip(scope: str, at: dt.datetime, key: str) -> None:
    """Any history cursor opens to itself."""
    cursor = HistoryCursor(scope=scope, last_attempt_at=at, delivery_id=key)
    assert CODEC.open(HistoryCursor, CODEC.seal(cursor, tenant="t"), tenant="t") == cursor


@given(actor=st.text(max_size=40), nonce=st.text(max_size=32), at=instants)
def test_session_and_link_claims_round_trip(actor: str, nonce: str, at: dt.datetime) -> None:
    """Any session or portal link opens to itself."""
    session = SessionClaims(actor=actor, nonce=nonce, expires_at=at)
    link = PortalLinkClaims(actor=actor, expires_at=at)
    assert CODEC.open(SessionClaims, CODEC.seal(session, tenant="t"), tenant="t") == session
    assert CODEC.open(PortalLinkClaims, CODEC.seal(link, tenant="t"), tenant="t") == link
