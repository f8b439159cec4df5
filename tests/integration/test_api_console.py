"""The console API routes: a tenant's own retry and recover, the operator's cross-tenant routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import API, Api, ApiFactory
from tests.integration.console_helpers import failing_webhook
from tests.integration.errors_helpers import assert_error
from tests.postgres import reset_database
from workhooks.config import Settings
from workhooks.domain.scopes import KNOWN_SCOPES, Scope
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
