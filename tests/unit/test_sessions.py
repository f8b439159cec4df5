"""Sessions, CSRF tokens and portal links, on the in-memory store with a fake clock."""

from __future__ import annotations

import datetime as dt

import pytest

from workhooks.domain.operators import ScryptCost
from workhooks.errors import AuthenticationError, InvalidRequestError
from workhooks.services.sessions import SessionService
from workhooks.storage.memory import InMemoryStore
from workhooks.testing import FakeClock

HOUR = dt.timedelta(hours=1)


def _service(clock: FakeClock) -> SessionService:
    return SessionService(
        InMemoryStore(),
        clock,
        key=b"k" * 32,
        ttl=HOUR,
        link_ttl=dt.timedelta(minutes=15),
        cost=ScryptCost(n=2**4, r=1, p=1),
    )


async def test_an_operator_session_reads_back_until_it_expires() -> None:
    """A signed-in operator's cookie is a session for an hour, then nothing."""
    clock = FakeClock()
    sessions = _service(clock)
    await sessions.create_operator("ada", "a long enough password")
    session, cookie = await sessions.sign_in_operator("ada", "a long enough password")
    assert await sessions.read(cookie, tenant=None) == session
    assert session.is_operator
    clock.advance(HOUR)
    assert await sessions.read(cookie, tenant=None) is None


async def test_tampered_or_foreign_cookies_are_not_sessions() -> None:
    """An altered cookie, or an operator's cookie at a tenant's portal, is no session."""
    sessions = _service(FakeClock())
    await sessions.create_operator("ada", "a long enough password")
    _, cookie = await sessions.sign_in_operator("ada", "a long enough password")
    body, _, mac = cookie.partition(".")
    assert await sessions.read(f"{body}x.{mac}", tenant=None) is None
    assert await sessions.read(cookie, tenant="acme") is None
    assert await sessions.read("", tenant=None) is None


async def test_csrf_token_belongs_to_its_session() -> None:
    """A session's CSRF token is refused for another session of the same operator."""
    sessions = _service(FakeClock())
    await sessions.create_operator("ada", "a long enough password")
    first, _ = await sessions.sign_in_operator("ada", "a long enough password")
    second, _ = await sessions.sign_in_operator("ada", "a long enough password")
    assert sessions.csrf_matches(first, sessions.csrf_token(first))
    assert not sessions.csrf_matches(second, sessions.csrf_token(first))
    assert not sessions.csrf_matches(first, None)


async def test_portal_link_signs_in_to_its_tenant_only_and_expires() -> None:
    """A link opens its tenant's portal for 15 minutes and never another tenant's."""
    clock = FakeClock()
    sessions = _service(clock)
    token, expires_at = sessions.portal_link("acme", "operator:ada")
    assert expires_at == clock.now() + dt.timedelta(minutes=15)
    session, cookie = await sessions.sign_in_link("acme", token)
    assert session.tenant == "acme"
    assert session.actor == "link:operator:ada"
    assert await sessions.read(cookie, tenant="acme") is not None
    assert await sessions.read(cookie, tenant="globex") is None
    with pytest.raises(AuthenticationError):
        await sessions.sign_in_link("globex", token)
    clock.advance(dt.timedelta(minutes=15))
    with pytest.raises(AuthenticationError):
        await sessions.sign_in_link("acme", token)


async def test_operator_names_and_passwords_follow_the_rules() -> None:
    """Short passwords, taken names and unprintable names are refused with the reason."""
    sessions = _service(FakeClock())
    await sessions.create_operator("ada", "a long enough password")
    for name, password, reason in (
        ("bob", "short", "password: at least 12 characters"),
        ("ada", "a long enough password", "name: choose another name"),
        (" ada", "a long enough password", "name: 1 to 64 printable characters"),
    ):
        with pytest.raises(InvalidRequestError) as caught:
            await sessions.create_operator(name, password)
        assert caught.value.reasons[0].startswith(reason)
    with pytest.raises(AuthenticationError):
        await sessions.sign_in_operator("ada", "the wrong password")
    await sessions.set_password("ada", "another long password")
    assert await sessions.sign_in_operator("ada", "another long password")


async def test_sign_out_ends_the_session_on_the_server() -> None:
    """After signing out, the same cookie is no session anywhere (a stolen copy included)."""
    sessions = _service(FakeClock())
    await sessions.create_operator("ada", "a long enough password")
    session, cookie = await sessions.sign_in_operator("ada", "a long enough password")
    _, other = await sessions.sign_in_operator("ada", "a long enough password")
    await sessions.sign_out(session)
    assert await sessions.read(cookie, tenant=None) is None
    assert await sessions.read(other, tenant=None) is not None


async def test_an_operator_ends_its_other_sessions_and_keeps_this_one() -> None:
    """Ending the other sessions leaves only the current one live."""
    clock = FakeClock()
    sessions = _service(clock)
    await sessions.create_operator("ada", "a long enough password")
    current, cookie = await sessions.sign_in_operator("ada", "a long enough password")
    clock.advance(1)
    _, elsewhere = await sessions.sign_in_operator("ada", "a long enough password")
    assert [s.id for s in await sessions.live_sessions(current)][1] == current.id
    assert await sessions.end_other_sessions(current) == 1
    assert await sessions.read(elsewhere, tenant=None) is None
    assert await sessions.read(cookie, tenant=None) == current
    assert [s.id for s in await sessions.live_sessions(current)] == [current.id]


async def test_a_new_password_or_disabling_ends_the_operators_sessions() -> None:
    """A password change ends every session; a disabled operator cannot sign in again."""
    sessions = _service(FakeClock())
    await sessions.create_operator("ada", "a long enough password")
    _, cookie = await sessions.sign_in_operator("ada", "a long enough password")
    await sessions.set_password("ada", "another long password")
    assert await sessions.read(cookie, tenant=None) is None
    _, cookie = await sessions.sign_in_operator("ada", "another long password")
    await sessions.disable_operator("ada")
    assert await sessions.read(cookie, tenant=None) is None
    with pytest.raises(AuthenticationError):
        await sessions.sign_in_operator("ada", "another long password")
    with pytest.raises(InvalidRequestError):
        await sessions.disable_operator("bob")
