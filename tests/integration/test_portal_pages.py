"""The delivery portal: one tenant's pages, signed in by client credentials or a portal link.

The tenant isolation is the point: a tenant never sees another tenant's data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import Api, ApiFactory
from tests.integration.console_helpers import csrf_of, failing_webhook
from tests.postgres import reset_database
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.testing import TEST_MASTER_KEY


@pytest.fixture(params=["sqlite", "postgres"])
async def site(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """The app on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
        return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))


async def _sign_in(site: Api, tenant: str, client_id: str, secret: str) -> str:
    form = await site.http.get(f"/portal/{tenant}/sign-in")
    answer = await site.http.post(
        f"/portal/{tenant}/sign-in",
        data={"csrf": csrf_of(form), "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(await site.http.get(f"/portal/{tenant}"))


async def test_portal_shows_only_its_tenants_webhooks_and_deliveries(site: Api) -> None:
    """Signed in to acme's portal, nothing of globex shows, whatever the query asks."""
    acme_id, _ = await failing_webhook(site, "acme")
    globex_id, _ = await failing_webhook(site, "globex")
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    await _sign_in(site, "acme", client_id, secret)
    webhooks = await site.http.get("/portal/acme", params={"tenant": "globex", "q": "globex"})
    assert globex_id not in webhooks.text
    listed = await site.http.get("/portal/acme")
    assert acme_id in listed.text
    assert globex_id not in listed.text
    deliveries = await site.http.get(
        "/portal/acme/deliveries", params={"tenant": "globex", "webhook": globex_id}
    )
    assert "No deliveries match." in deliveries.text
    foreign = await site.http.get(f"/portal/acme/webhooks/{globex_id}")
    assert foreign.status_code == 404
    detail = await site.http.get(f"/portal/acme/webhooks/{globex_id}/deliveries/msg_x")
    assert detail.status_code == 404


async def test_one_tenants_session_is_not_valid_at_another_tenants_portal(site: Api) -> None:
    """The acme session cookie does not open globex's portal (it asks for a sign-in)."""
    await failing_webhook(site, "globex")
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    await _sign_in(site, "acme", client_id, secret)
    cookie = site.http.cookies.get("workhooks_portal", path="/portal/acme")
    assert cookie is not None
    answer = await site.http.get("/portal/globex", headers={"Cookie": f"workhooks_portal={cookie}"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/globex/sign-in"


async def test_another_tenants_client_cannot_sign_in(site: Api) -> None:
    """Client credentials of acme are refused at globex's portal."""
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    form = await site.http.get("/portal/globex/sign-in")
    answer = await site.http.post(
        "/portal/globex/sign-in",
        data={"csrf": csrf_of(form), "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 401


async def test_portal_may_retry_and_recover_but_not_disable(site: Api) -> None:
    """The portal runs retry now and recover on its own webhook (audited); disable is absent."""
    webhook_id, _ = await failing_webhook(site, "acme")
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    csrf = await _sign_in(site, "acme", client_id, secret)
    page = f"/portal/acme/webhooks/{webhook_id}"
    assert (await site.http.post(f"{page}/retry", data={"csrf": csrf})).status_code == 303
    recovered = await site.http.post(
        f"{page}/recover", data={"csrf": csrf, "since": "2000-01-01T00:00:00Z"}
    )
    assert recovered.status_code == 303
    assert (await site.http.post(f"{page}/disable", data={"csrf": csrf})).status_code == 404
    audit = await site.http.get("/portal/acme/audit")
    assert f"client:{client_id}" in audit.text
    assert "<td>retry-now</td>" in audit.text
    assert "<td>recover</td>" in audit.text


async def test_portal_link_signs_in_to_its_tenant_until_it_expires(site: Api) -> None:
    """A link from the API signs in to its tenant's portal; after its lifetime it is refused."""
    headers = await site.headers("acme", [Scope.WEBHOOKS_WRITE])
    made = await site.http.post("/connector/protimeapi/api/v1/portal-links", headers=headers)
    assert made.status_code == 201, made.text
    parts = urlsplit(made.json()["url"])
    link = f"{parts.path}?{parts.query}"
    assert parts.path == "/portal/acme/link"
    assert (await site.http.get(link.replace("/acme/", "/globex/"))).status_code == 401
    answer = await site.http.get(link)
    assert answer.status_code == 303
    assert (await site.http.get("/portal/acme")).status_code == 200
    site.http.cookies.clear()
    site.clock.advance(dt.timedelta(minutes=16))
    assert (await site.http.get(link)).status_code == 401


async def test_portal_sends_a_test_event_and_shows_its_outcome(site: Api) -> None:
    """The portal's test event reaches the destination and its page shows status and answer."""
    webhook_id, _ = await failing_webhook(site, "acme")
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    csrf = await _sign_in(site, "acme", client_id, secret)
    page = f"/portal/acme/webhooks/{webhook_id}"
    assert 'data-testid="action-test-event"' in (await site.http.get(page)).text
    before = len(site.sender.requests)
    assert (await site.http.post(f"{page}/test-event", data={})).status_code == 400
    assert len(site.sender.requests) == before  # no CSRF token: nothing sent
    site.sender.status_for = lambda _url, _body: 202
    sent = await site.http.post(f"{page}/test-event", data={"csrf": csrf})
    assert sent.status_code == 303
    assert b'"changeType":"Test"' in site.sender.requests[-1].body
    shown = await site.http.get(sent.headers["location"])
    assert shown.status_code == 200
    assert "Test event sent." in shown.text
    assert 'data-testid="attempt-status">202<' in shown.text
    assert "none: a test event" in shown.text
    listed = await site.http.get("/portal/acme/deliveries", params={"webhook": webhook_id})
    assert '<span class="badge">test</span>' in listed.text
    assert "<td>test-event</td>" in (await site.http.get("/portal/acme/audit")).text


async def test_portal_cannot_resend_or_test_another_tenants_webhook(site: Api) -> None:
    """Resend and test events on another tenant's webhook answer 404 and send nothing."""
    globex_id, _ = await failing_webhook(site, "globex")
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    csrf = await _sign_in(site, "acme", client_id, secret)
    sent = len(site.sender.requests)
    for action, data in (("test-event", {}), ("resend", {"record": "1"})):
        page = f"/portal/acme/webhooks/{globex_id}/{action}"
        assert (await site.http.get(page)).status_code == 404
        answer = await site.http.post(page, data={"csrf": csrf, **data})
        assert answer.status_code == 404
    assert len(site.sender.requests) == sent
    assert await site.rt.services.console.audit(tenant="globex") == []


async def test_revoking_a_client_or_its_new_secret_ends_its_portal_sessions(site: Api) -> None:
    """A portal session signed in with a client ends when the client gets a new secret."""
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    await _sign_in(site, "acme", client_id, secret)
    assert (await site.http.get("/portal/acme")).status_code == 200
    new = await site.rt.services.clients.rotate_secret(client_id)
    assert (await site.http.get("/portal/acme")).status_code == 303
    await _sign_in(site, "acme", client_id, new.secret)
    await site.rt.services.clients.revoke(client_id)
    assert (await site.http.get("/portal/acme")).status_code == 303


async def test_portal_sign_out_ends_the_session_on_the_server(site: Api) -> None:
    """A copy of a signed-out portal cookie opens nothing."""
    client_id, secret = await site.credentials("acme", [Scope.WEBHOOKS_READ])
    csrf = await _sign_in(site, "acme", client_id, secret)
    stolen = site.http.cookies.get("workhooks_portal", path="/portal/acme")
    assert stolen is not None
    assert (await site.http.post("/portal/acme/sign-out", data={"csrf": csrf})).status_code == 303
    replay = await site.http.get("/portal/acme", headers={"Cookie": f"workhooks_portal={stolen}"})
    assert replay.status_code == 303
