"""The operator console's pages over HTTP: sign-in, CSRF, searches, detail and audited actions.

Runs on SQLite and PostgreSQL with the real app in-process, a fake clock and a scripted sender.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.conftest import Api, ApiFactory
from tests.integration.console_helpers import (
    PASSWORD,
    csrf_of,
    failing_webhook,
    sign_in_operator,
)
from tests.postgres import reset_database
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.domain.webhooks import WebhookStatus
from workhooks.testing import TEST_MASTER_KEY


@pytest.fixture(params=["sqlite", "postgres"])
async def site(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """The app on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
        return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))


async def test_pages_need_a_signed_in_operator(site: Api) -> None:
    """Without a session every console page sends the browser to the sign-in form."""
    for path in ("/console", "/console/webhooks", "/console/deliveries", "/console/audit"):
        answer = await site.http.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/sign-in"


async def test_sign_in_sets_a_strict_http_only_cookie_and_is_audited(site: Api) -> None:
    """A right password starts a session in an HttpOnly SameSite=Strict cookie; it is audited."""
    await site.rt.services.sessions.create_operator("ada", PASSWORD)
    form = await site.http.get("/console/sign-in")
    answer = await site.http.post(
        "/console/sign-in", data={"csrf": csrf_of(form), "name": "ada", "password": PASSWORD}
    )
    assert answer.status_code == 303
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("workhooks_console=")
    )
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Path=/console" in cookie
    audit = await site.http.get("/console/audit")
    assert "operator:ada" in audit.text
    assert "sign-in" in audit.text


async def test_wrong_password_and_unknown_operator_are_refused(site: Api) -> None:
    """A wrong password or an unknown name gets the form again with 401 and no session."""
    await site.rt.services.sessions.create_operator("ada", PASSWORD)
    for name, password in (("ada", "wrong password!"), ("bob", PASSWORD)):
        form = await site.http.get("/console/sign-in")
        answer = await site.http.post(
            "/console/sign-in", data={"csrf": csrf_of(form), "name": name, "password": password}
        )
        assert answer.status_code == 401
        assert "Unknown operator or wrong password" in answer.text
    assert (await site.http.get("/console")).status_code == 303


async def test_sign_in_form_without_its_token_is_refused(site: Api) -> None:
    """A sign-in posted without the form's double-submit token (login CSRF) is refused."""
    await site.rt.services.sessions.create_operator("ada", PASSWORD)
    await site.http.get("/console/sign-in")
    answer = await site.http.post(
        "/console/sign-in", data={"csrf": "forged", "name": "ada", "password": PASSWORD}
    )
    assert answer.status_code == 400
    assert (await site.http.get("/console")).status_code == 303


async def test_actions_without_the_session_csrf_token_change_nothing(site: Api) -> None:
    """A form posted without (or with another) CSRF token is refused and the webhook unchanged."""
    webhook_id, _ = await failing_webhook(site)
    await sign_in_operator(site)
    for data in ({}, {"csrf": "0" * 64}):
        answer = await site.http.post(
            f"/console/tenants/acme/webhooks/{webhook_id}/disable", data=data
        )
        assert answer.status_code == 400
        assert "security token" in answer.text
    webhook = await site.rt.services.webhooks.get("acme", webhook_id)
    assert webhook.status is WebhookStatus.ENABLED


async def test_failing_webhook_is_found_and_its_failed_attempt_opened(site: Api) -> None:
    """The webhooks page shows the failing webhook; a record id finds its failed attempt."""
    webhook_id, _ = await failing_webhook(site)
    await failing_webhook(site, "globex")
    await sign_in_operator(site)
    listed = await site.http.get("/console/webhooks", params={"failing": "1", "q": "acme"})
    assert listed.status_code == 200
    assert f"/console/tenants/acme/webhooks/{webhook_id}" in listed.text
    assert "globex.example.com" not in listed.text
    found = await site.http.get(
        "/console/deliveries", params={"tenant": "acme", "record": "2", "status": "Failed"}
    )
    link = re.search(r'href="(/console/tenants/acme/webhooks/[^"]+/deliveries/[^"]+)"', found.text)
    assert link is not None
    detail = await site.http.get(link[1])
    assert detail.status_code == 200
    assert 'data-testid="attempt-status">503<' in detail.text
    assert "work interruption 2" in detail.text


async def test_bad_search_values_say_what_is_wrong(site: Api) -> None:
    """A search with a malformed value answers 400 naming the field."""
    await sign_in_operator(site)
    answer = await site.http.get("/console/deliveries", params={"code": "abc"})
    assert answer.status_code == 400
    assert "code: a whole number from 100 to 599" in answer.text


async def test_retry_recover_and_disable_are_confirmed_run_and_audited(site: Api) -> None:
    """Each action has a confirmation page, runs on post, and lands in the audit log."""
    webhook_id, _ = await failing_webhook(site)
    csrf = await sign_in_operator(site)
    page = f"/console/tenants/acme/webhooks/{webhook_id}"
    confirm = await site.http.get(f"{page}/retry")
    assert confirm.status_code == 200
    assert 'data-testid="confirm"' in confirm.text
    site.sender.status_for = lambda _url, _body: 204
    retried = await site.http.post(f"{page}/retry", data={"csrf": csrf})
    assert retried.status_code == 303
    await site.rt.worker.run_once()
    assert (await site.rt.services.webhooks.get("acme", webhook_id)).failures == 0
    sent = len(site.sender.requests)
    recovered = await site.http.post(
        f"{page}/recover", data={"csrf": csrf, "since": "2000-01-01T00:00"}
    )
    assert recovered.status_code == 303
    assert "2+change+versions" in recovered.headers["location"]
    await site.rt.worker.run_once()
    assert len(site.sender.requests) > sent
    disabled = await site.http.post(f"{page}/disable", data={"csrf": csrf, "reason": "noisy"})
    assert disabled.status_code == 303
    webhook = await site.rt.services.webhooks.get("acme", webhook_id)
    assert webhook.status is WebhookStatus.DISABLED
    assert webhook.disabled_reason == "noisy"
    audit = (await site.http.get("/console/audit")).text
    for action in ("retry-now", "recover", "disable"):
        assert f"<td>{action}</td>" in audit


async def test_recover_leaves_a_disabled_webhook_disabled(site: Api) -> None:
    """Recovering a Disabled webhook is refused with 409 and it stays disabled."""
    webhook_id, _ = await failing_webhook(site)
    csrf = await sign_in_operator(site)
    page = f"/console/tenants/acme/webhooks/{webhook_id}"
    await site.http.post(f"{page}/disable", data={"csrf": csrf})
    answer = await site.http.post(f"{page}/recover", data={"csrf": csrf, "since": "2000-01-01"})
    assert answer.status_code == 409
    assert "never enabled again" in answer.text
    webhook = await site.rt.services.webhooks.get("acme", webhook_id)
    assert webhook.status is WebhookStatus.DISABLED


async def test_overview_shows_counts_most_behind_and_failing_destinations(site: Api) -> None:
    """The overview counts webhooks by status and lists the failing destination."""
    webhook_id, _ = await failing_webhook(site)
    await sign_in_operator(site)
    page = await site.http.get("/console")
    assert page.status_code == 200
    assert webhook_id in page.text
    assert "https://acme.example.com:443" in page.text
    assert 'src="/console/rates.svg"' in page.text
    plot = await site.http.get("/console/rates.svg")
    assert plot.headers["content-type"].startswith("image/svg+xml")
    # Two attempts in the current minute, one of them failed.
    assert "deliveries/s: now 0.03, peak 0.03" in plot.text
    assert "failures/s: now 0.02, peak 0.02" in plot.text


async def test_sign_out_ends_the_session(site: Api) -> None:
    """After signing out, the console asks for a sign-in again."""
    csrf = await sign_in_operator(site)
    answer = await site.http.post("/console/sign-out", data={"csrf": csrf})
    assert answer.status_code == 303
    assert (await site.http.get("/console")).status_code == 303


async def test_resend_is_offered_on_a_delivery_confirmed_with_its_cost_and_audited(
    site: Api,
) -> None:
    """A delivery's page links to resend its record; the confirmation tells how much is sent."""
    webhook_id, _ = await failing_webhook(site)
    csrf = await sign_in_operator(site)
    found = await site.http.get("/console/deliveries", params={"tenant": "acme", "record": "1"})
    link = re.search(r'href="(/console/tenants/acme/webhooks/[^"]+/deliveries/[^"]+)"', found.text)
    assert link is not None
    detail = await site.http.get(link[1])
    resend = re.search(r'data-testid="resend" href="([^"]+)"', detail.text)
    assert resend is not None
    confirm = await site.http.get(resend[1].replace("&amp;", "&"))
    assert confirm.status_code == 200
    assert 'data-testid="preview">This sends <strong>1</strong> change versions again' in (
        confirm.text
    )
    page = f"/console/tenants/acme/webhooks/{webhook_id}"
    forged = await site.http.post(f"{page}/resend", data={"csrf": "0" * 64, "record": "1"})
    assert forged.status_code == 400
    assert "<td>resend</td>" not in (await site.http.get("/console/audit")).text
    done = await site.http.post(f"{page}/resend", data={"csrf": csrf, "record": "1"})
    assert done.status_code == 303
    assert "Resending+record+1%3A+1+change+versions" in done.headers["location"]
    site.clock.advance(10)
    site.sender.requests.clear()
    await site.rt.worker.run_once()
    assert b'"id":1' in site.sender.requests[0].body
    assert "<td>resend</td>" in (await site.http.get("/console/audit")).text
    unknown = await site.http.post(f"{page}/resend", data={"csrf": csrf, "record": "99"})
    assert unknown.status_code == 404
    assert "Work interruption 99 does not exist" in unknown.text


async def test_tenants_page_lists_tenants_with_their_clients_and_no_secret(site: Api) -> None:
    """Tenants show with their clients and scopes, paged by name; no secret hash is shown."""
    new = await site.rt.services.clients.create("acme", frozenset({Scope.WEBHOOKS_READ}))
    await site.rt.services.clients.create("globex", frozenset({Scope.WEBHOOKS_READ}))
    await sign_in_operator(site)
    page = await site.http.get("/console/tenants")
    assert page.status_code == 200
    assert new.client.id in page.text
    assert "globex" in page.text
    assert new.client.secret_hash not in page.text
    assert new.secret not in page.text
    one = await site.http.get("/console/tenants", params={"tenant": "globex"})
    assert new.client.id not in one.text
    later = await site.http.get("/console/tenants", params={"after": "acme"})
    assert new.client.id not in later.text
    assert "globex" in later.text


async def test_clients_are_created_rotated_and_revoked_from_confirmed_forms(site: Api) -> None:
    """Create and new secret show the secret once; revoke stops the client; all are audited."""
    csrf = await sign_in_operator(site)
    assert (
        await site.http.get("/console/clients/new", params={"tenant": "acme"})
    ).status_code == 200
    forged = await site.http.post(
        "/console/clients", data={"csrf": "0" * 64, "tenant": "acme", "scope": "all"}
    )
    assert forged.status_code == 400
    assert await site.rt.services.clients.list(tenant="acme") == []
    created = await site.http.post(
        "/console/clients",
        data={"csrf": csrf, "tenant": "acme", "scope": [Scope.WEBHOOKS_READ.value]},
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    client_id = re.search(r'data-testid="client-id">([^<]+)<', created.text)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', created.text)
    assert client_id is not None
    assert secret is not None
    assert (await site.token_response("acme", client_id[1], secret[1])).status_code == 200
    confirm = await site.http.get(f"/console/clients/{client_id[1]}/secret")
    assert 'data-testid="confirm"' in confirm.text
    rotated = await site.http.post(f"/console/clients/{client_id[1]}/secret", data={"csrf": csrf})
    fresh = re.search(r'data-testid="client-secret">([^<]+)<', rotated.text)
    assert fresh is not None
    assert fresh[1] != secret[1]
    assert (await site.token_response("acme", client_id[1], secret[1])).status_code == 401
    assert (await site.token_response("acme", client_id[1], fresh[1])).status_code == 200
    revoked = await site.http.post(f"/console/clients/{client_id[1]}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303
    assert (await site.token_response("acme", client_id[1], fresh[1])).status_code == 401
    audit = await site.rt.services.console.audit(tenant="acme")
    assert [(e.action.value, e.actor, e.detail) for e in audit] == [
        (action, "operator:ada", f"client {client_id[1]}")
        for action in ("client-revoke", "client-rotate", "client-create")
    ]


async def test_overview_plots_the_lag_the_worker_samples_each_minute(site: Api) -> None:
    """The worker samples the lag each minute; the plot adds the current minute, measured."""
    await failing_webhook(site)
    await sign_in_operator(site)
    assert 'src="/console/lag.svg"' in (await site.http.get("/console")).text
    site.clock.advance(dt.timedelta(minutes=5))
    await site.rt.worker.run_once()
    plot = await site.http.get("/console/lag.svg")
    assert plot.headers["content-type"].startswith("image/svg+xml")
    assert "lag of the webhook furthest behind: now 300 s, peak 300 s" in plot.text
    assert "webhooks behind now: 1" in plot.text
    site.clock.advance(dt.timedelta(minutes=2))  # the current minute is measured at once
    assert "now 420 s, peak 420 s" in (await site.http.get("/console/lag.svg")).text


async def test_a_signed_out_cookie_stops_working_even_when_copied(site: Api) -> None:
    """Sign-out ends the session on the server: a copy of its cookie opens nothing after."""
    csrf = await sign_in_operator(site)
    stolen = site.http.cookies.get("workhooks_console", path="/console")
    assert stolen is not None
    assert (await site.http.post("/console/sign-out", data={"csrf": csrf})).status_code == 303
    replay = await site.http.get("/console", headers={"Cookie": f"workhooks_console={stolen}"})
    assert replay.status_code == 303
    audit = await site.rt.services.console.audit()
    assert (audit[0].action.value, audit[0].actor) == ("sign-out", "operator:ada")


async def test_an_operator_ends_its_other_sessions_from_the_sessions_page(site: Api) -> None:
    """The sessions page lists the live sessions and ends all but this one (audited)."""
    csrf = await sign_in_operator(site)
    mine = site.http.cookies.get("workhooks_console", path="/console")
    site.http.cookies.clear()
    form = await site.http.get("/console/sign-in")
    await site.http.post(
        "/console/sign-in", data={"csrf": csrf_of(form), "name": "ada", "password": PASSWORD}
    )
    other = site.http.cookies.get("workhooks_console", path="/console")
    site.http.cookies.clear()
    headers = {"Cookie": f"workhooks_console={mine}"}
    page = await site.http.get("/console/sessions", headers=headers)
    assert page.text.count("<tr><td") == 2
    assert "this session" in page.text
    forged = await site.http.post(
        "/console/sessions/end-others", data={"csrf": "0" * 64}, headers=headers
    )
    assert forged.status_code == 400
    ended = await site.http.post(
        "/console/sessions/end-others", data={"csrf": csrf}, headers=headers
    )
    assert ended.status_code == 303
    assert "1+other+sessions+ended" in ended.headers["location"]
    gone = await site.http.get("/console", headers={"Cookie": f"workhooks_console={other}"})
    assert gone.status_code == 303
    assert (await site.http.get("/console", headers=headers)).status_code == 200
    audit = await site.rt.services.console.audit()
    assert (audit[0].action.value, audit[0].detail) == ("end-sessions", "1 ended")


async def test_a_new_password_or_a_disabled_operator_ends_its_sessions(site: Api) -> None:
    """Setting a password ends the operator's sessions; a disabled one cannot sign in again."""
    await sign_in_operator(site)
    await site.rt.services.sessions.set_password("ada", "a brand new password")
    assert (await site.http.get("/console")).status_code == 303
    form = await site.http.get("/console/sign-in")
    signed = await site.http.post(
        "/console/sign-in",
        data={"csrf": csrf_of(form), "name": "ada", "password": "a brand new password"},
    )
    assert signed.status_code == 303
    assert (await site.http.get("/console")).status_code == 200
    await site.rt.services.sessions.disable_operator("ada")
    assert (await site.http.get("/console")).status_code == 303
    form = await site.http.get("/console/sign-in")
    refused = await site.http.post(
        "/console/sign-in",
        data={"csrf": csrf_of(form), "name": "ada", "password": "a brand new password"},
    )
    assert refused.status_code == 401
