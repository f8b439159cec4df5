"""The console API routes: a tenant's own retry and recover, the operator's cross-tenant routes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import API, Api, ApiFactory
from tests.integration.console_helpers import failing_webhook
from tests.integration.errors_helpers import assert_error
from tests.postgres import reset_database
from workhooks.config import Settings
from workhooks.domain.scopes import KNOWN_SCOPES, Scope
from workhooks.domain.signing import decode_key, signature_matches
from workhooks.testing import TEST_MASTER_KEY

OPERATOR = "/operator/v1"


@pytest.fixture(params=["sqlite", "postgres"])
async def site(request: pytest.FixtureRequest, api_factory: ApiFactory, tmp_path: Path) -> Api:
    """The app on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'api.db'}"
        return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))
    url = request.getfixturevalue("postgres_database")
    await reset_database(url)
    return await api_factory(Settings.of(database_url=url, master_key=TEST_MASTER_KEY))


async def test_tenant_retries_and_recovers_its_own_webhook(site: Api) -> None:
    """Retry now answers 204, recover tells how much is sent again; both are audited."""
    webhook_id, headers = await failing_webhook(site)
    retried = await site.http.post(f"{API}/webhooks/{webhook_id}/retry", headers=headers)
    assert retried.status_code == 204, retried.text
    recovered = await site.http.post(
        f"{API}/webhooks/{webhook_id}/recover",
        json={"since": "2000-01-01T00:00:00Z"},
        headers=headers,
    )
    assert recovered.status_code == 200, recovered.text
    assert recovered.json() == {"changesSentAgain": 1}
    audit = await site.rt.services.console.audit(tenant="acme")
    assert [e.action.value for e in audit] == ["recover", "retry-now"]


async def test_tenant_cannot_act_on_another_tenants_webhook(site: Api) -> None:
    """Another tenant's webhook id answers 404 to retry and recover."""
    webhook_id, _ = await failing_webhook(site, "globex")
    headers = await site.headers("acme", KNOWN_SCOPES)
    for action, body in (("retry", None), ("recover", {"since": "2000-01-01T00:00:00Z"})):
        answer = await site.http.post(
            f"{API}/webhooks/{webhook_id}/{action}", json=body, headers=headers
        )
        assert_error(answer, 404, code="NotFound")


async def test_recover_of_a_disabled_webhook_is_a_conflict(site: Api) -> None:
    """A Disabled webhook stays disabled: recover answers 409 with the reason."""
    webhook_id, headers = await failing_webhook(site)
    operator = await site.headers("ops", [Scope.OPERATOR])
    disabled = await site.http.post(
        f"{OPERATOR}/tenants/acme/webhooks/{webhook_id}/disable",
        json={"reason": "abuse"},
        headers=operator,
    )
    assert disabled.status_code == 204, disabled.text
    answer = await site.http.post(
        f"{API}/webhooks/{webhook_id}/recover",
        json={"since": "2000-01-01T00:00:00Z"},
        headers=headers,
    )
    assert_error(answer, 409, code="Conflict")
    webhook = await site.http.get(f"{API}/webhooks/{webhook_id}", headers=headers)
    assert webhook.json()["status"] == "Disabled"


async def test_operator_routes_need_the_operator_scope(site: Api) -> None:
    """A tenant's token with every tenant scope is refused by the cross-tenant routes."""
    headers = await site.headers("acme", KNOWN_SCOPES)
    for path in ("/webhooks", "/deliveries", "/audit"):
        answer = await site.http.get(f"{OPERATOR}{path}", headers=headers)
        assert_error(answer, 401, code="InsufficientScope")


async def test_operator_searches_across_tenants_and_pages(site: Api) -> None:
    """The operator's searches span tenants, filter like the console and give next links."""
    acme_id, _ = await failing_webhook(site, "acme")
    globex_id, _ = await failing_webhook(site, "globex")
    headers = await site.headers("ops", [Scope.OPERATOR])
    first = await site.http.get(f"{OPERATOR}/webhooks", params={"limit": "1"}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [w["tenant"] for w in page["value"]] == ["acme"]
    assert page["value"][0]["failures"] == 1
    second = await site.http.get(page["nextLink"], headers=headers)
    assert [w["id"] for w in second.json()["value"]] == [globex_id]
    failed = await site.http.get(
        f"{OPERATOR}/deliveries",
        params={"record": "2", "status": "Failed", "tenant": "acme"},
        headers=headers,
    )
    assert [(d["tenant"], d["webhookId"], d["lastStatusCode"]) for d in failed.json()["value"]] == [
        ("acme", acme_id, 503)
    ]
    bad = await site.http.get(
        f"{OPERATOR}/deliveries", params={"since": "yesterday"}, headers=headers
    )
    assert_error(bad, 400, code="InvalidRequest")


async def test_operator_actions_are_audited_with_the_client(site: Api) -> None:
    """Disable, retry and portal links by an operator's client land in the audit log."""
    webhook_id, _ = await failing_webhook(site)
    client_id, secret = await site.credentials("ops", [Scope.OPERATOR])
    token = (await site.token_response("ops", client_id, secret)).json()["access_token"]
    headers = {"User-Agent": "Ops/1.0 (Acme)", "Authorization": f"Bearer {token}"}
    base = f"{OPERATOR}/tenants/acme/webhooks/{webhook_id}"
    assert (await site.http.post(f"{base}/retry", headers=headers)).status_code == 204
    link = await site.http.post(f"{OPERATOR}/tenants/acme/portal-links", headers=headers)
    assert link.status_code == 201
    assert "/portal/acme/link?token=" in link.json()["url"]
    assert (await site.http.post(f"{base}/disable", json={}, headers=headers)).status_code == 204
    again = await site.http.post(f"{base}/disable", json={}, headers=headers)
    assert_error(again, 409, code="Conflict")
    audit = await site.http.get(f"{OPERATOR}/audit", params={"tenant": "acme"}, headers=headers)
    entries = audit.json()["value"]
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("disable", f"client:{client_id}"),
        ("portal-link", f"client:{client_id}"),
        ("retry-now", f"client:{client_id}"),
    ]
    assert entries[0]["detail"] == f"Disabled by client:{client_id}"


async def test_tenant_resends_one_record_through_the_delivery_engine(site: Api) -> None:
    """Resend moves the cursor before the record's version: the worker sends it again, signed."""
    webhook_id, headers = await failing_webhook(site)
    site.sender.status_for = lambda _url, _body: 200
    site.clock.advance(10)
    await site.rt.worker.run_once()  # record 2 gets through: everything is delivered
    site.sender.requests.clear()
    answer = await site.http.post(
        f"{API}/webhooks/{webhook_id}/resend", json={"recordId": 1}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"changesSentAgain": 2}  # record 1 and record 2 after it
    await site.rt.worker.run_once()
    bodies = [json.loads(r.body) for r in site.sender.requests]
    assert [(b["changeType"], b["data"]["id"]) for b in bodies] == [
        ("InsertOrUpdate", 1),
        ("InsertOrUpdate", 2),
    ]
    assert site.sender.requests[0].headers["webhook-id"] == f"msg_{webhook_id}_{'2'.zfill(20)}"
    audit = await site.rt.services.console.audit(tenant="acme")
    assert (audit[0].action.value, audit[0].detail) == ("resend", "record 1")


async def test_resend_of_a_deleted_record_sends_its_tombstone(site: Api) -> None:
    """A record deleted since its delivery is resent as the Delete event the engine would send."""
    webhook_id, headers = await failing_webhook(site)
    site.sender.status_for = lambda _url, _body: 200
    deleted = await site.http.delete(f"{API}/work-interruptions/2", headers=headers)
    assert deleted.status_code == 204
    site.clock.advance(10)
    await site.rt.worker.run_once()
    site.sender.requests.clear()
    answer = await site.http.post(
        f"{API}/webhooks/{webhook_id}/resend", json={"recordId": 2}, headers=headers
    )
    assert answer.json() == {"changesSentAgain": 1}
    await site.rt.worker.run_once()
    assert [json.loads(r.body) for r in site.sender.requests] == [
        {"changeType": "Delete", "data": {"changeVersion": "0000000000000000000" + "4", "id": 2}}
    ]


async def test_resend_refuses_unknown_records_foreign_and_disabled_webhooks(site: Api) -> None:
    """An unknown record or webhook answers 404, another tenant's webhook too, Disabled 409."""
    webhook_id, headers = await failing_webhook(site)
    unknown = await site.http.post(
        f"{API}/webhooks/{webhook_id}/resend", json={"recordId": 99}, headers=headers
    )
    assert_error(unknown, 404, code="NotFound")
    foreign = await site.headers("globex", KNOWN_SCOPES)
    other = await site.http.post(
        f"{API}/webhooks/{webhook_id}/resend", json={"recordId": 1}, headers=foreign
    )
    assert_error(other, 404, code="NotFound")
    operator = await site.headers("ops", [Scope.OPERATOR])
    base = f"{OPERATOR}/tenants/acme/webhooks/{webhook_id}"
    assert (await site.http.post(f"{base}/disable", json={}, headers=operator)).status_code == 204
    disabled = await site.http.post(f"{base}/resend", json={"recordId": 1}, headers=operator)
    assert_error(disabled, 409, code="Conflict")
    read_only = await site.headers("acme", [Scope.WEBHOOKS_READ])
    scoped = await site.http.post(
        f"{API}/webhooks/{webhook_id}/resend", json={"recordId": 1}, headers=read_only
    )
    assert_error(scoped, 401, code="InsufficientScope")


async def test_test_event_is_signed_kept_as_a_test_and_moves_nothing(site: Api) -> None:
    """A test event is POSTed signed like a delivery, kept in the history, cursor untouched."""
    headers = await site.headers("acme")
    created = await site.http.post(
        f"{API}/webhooks",
        json={
            "destinationUrl": "https://acme.example.com/hook",
            "collectionName": "work-interruptions",
        },
        headers=headers,
    )
    webhook_id, key = created.json()["id"], created.json()["key"]
    site.sender.status_for = lambda _url, _body: 401
    answer = await site.http.post(f"{API}/webhooks/{webhook_id}/test-events", headers=headers)
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert (result["succeeded"], result["statusCode"], result["errorClass"]) == (
        False,
        401,
        "client_error",
    )
    (sent,) = site.sender.requests
    assert sent.headers["webhook-id"] == result["id"]
    assert signature_matches(
        decode_key(key),
        msg_id=result["id"],
        timestamp=int(sent.headers["webhook-timestamp"]),
        body=sent.body,
        header=sent.headers["webhook-signature"],
    )
    assert json.loads(sent.body)["changeType"] == "Test"
    detail = await site.http.get(answer.headers["location"], headers=headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["recordId"] == 0
    webhook = (await site.http.get(f"{API}/webhooks/{webhook_id}", headers=headers)).json()
    assert webhook["status"] == "Enabled"
    state = await site.rt.services.console.webhook("acme", webhook_id)
    assert (state.webhook.failures, state.webhook.next_attempt_at) == (0, None)
    audit = await site.rt.services.console.audit(tenant="acme")
    assert (audit[0].action.value, audit[0].detail) == ("test-event", "401 in 0 ms")


async def test_test_events_are_limited_per_webhook_and_refused_across_tenants(site: Api) -> None:
    """Five test events a minute per webhook, then 429; another tenant's webhook is 404."""
    webhook_id, headers = await failing_webhook(site)
    foreign = await site.headers("globex", KNOWN_SCOPES)
    other = await site.http.post(f"{API}/webhooks/{webhook_id}/test-events", headers=foreign)
    assert_error(other, 404, code="NotFound")
    for _ in range(5):
        sent = await site.http.post(f"{API}/webhooks/{webhook_id}/test-events", headers=headers)
        assert sent.status_code == 201, sent.text
    limited = await site.http.post(f"{API}/webhooks/{webhook_id}/test-events", headers=headers)
    assert_error(limited, 429, code="TooManyRequests")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    site.clock.advance(61)
    again = await site.http.post(f"{API}/webhooks/{webhook_id}/test-events", headers=headers)
    assert again.status_code == 201, again.text


async def test_operator_client_changes_are_audited_with_the_calling_client(site: Api) -> None:
    """Creating, rotating and revoking a client over the operator API land in the audit log."""
    ops_id, ops_secret = await site.credentials("ops", [Scope.OPERATOR])
    token = (await site.token_response("ops", ops_id, ops_secret)).json()["access_token"]
    headers = {"User-Agent": "Ops/1.0 (Acme)", "Authorization": f"Bearer {token}"}
    created = await site.http.post(
        f"{OPERATOR}/clients", json={"tenant": "acme", "scopes": ["all"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    assert (
        await site.http.post(f"{OPERATOR}/clients/{client_id}/secret", headers=headers)
    ).status_code == 200
    assert (
        await site.http.post(f"{OPERATOR}/clients/{client_id}/revoke", headers=headers)
    ).status_code == 200
    audit = await site.rt.services.console.audit(tenant="acme")
    assert [(e.action.value, e.actor, e.detail) for e in audit] == [
        (action, f"client:{ops_id}", f"client {client_id}")
        for action in ("client-revoke", "client-rotate", "client-create")
    ]
