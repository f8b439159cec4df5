"""The delivery history endpoints (contract B11) over the in-process app."""

from __future__ import annotations

from typing import Any

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import assert_error
from workhooks.config import Settings
from workhooks.domain.scopes import Scope


async def _setup(api: Api, headers: dict[str, str]) -> str:
    """A webhook, one person, and two changes sent once with a failure for record 2."""
    await api.put_person(headers, 1)
    hook = await api.http.post(
        f"{API}/webhooks",
        json={"destinationUrl": "https://example.com/h", "collectionName": "work-interruptions"},
        headers=headers,
    )
    assert hook.status_code == 201, hook.text
    for record_id in (1, 2):
        put = await api.http.put(
            f"{API}/work-interruptions/{record_id}", json=work_interruption(), headers=headers
        )
        assert put.status_code == 201
    api.sender.status_for = lambda _url, body: 503 if b'"id":2' in body else 200
    await api.rt.worker.run_once()
    webhook_id: str = hook.json()["id"]
    return webhook_id


async def _get(api: Api, headers: dict[str, str], path: str) -> dict[str, Any]:
    answer = await api.http.get(f"{API}{path}", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_history_shows_each_delivery_and_every_attempt(api: Api) -> None:
    """A failed delivery shows its status, next retry and response; a retry adds an attempt."""
    headers = await api.headers()
    webhook_id = await _setup(api, headers)
    listed = await _get(api, headers, f"/webhooks/{webhook_id}/deliveries")
    # Both were tried at the same instant: newest first, then by id (record 2 has the newer one).
    assert [(d["recordId"], d["status"]) for d in listed["value"]] == [
        (2, "Failed"),
        (1, "Succeeded"),
    ]
    failed = next(d for d in listed["value"] if d["status"] == "Failed")
    assert failed["lastStatusCode"] == 503
    assert failed["lastErrorClass"] == "unavailable"
    assert failed["nextAttemptAt"] is not None
    assert "nextLink" not in listed

    api.sender.status_for = lambda _url, _body: 204
    api.clock.advance(10)  # past the first retry step (5 s +/- 20 %)
    await api.rt.worker.run_once()
    detail = await _get(api, headers, f"/webhooks/{webhook_id}/deliveries/{failed['id']}")
    assert detail["status"] == "Succeeded"
    assert detail["attempts"] == 2
    history = detail["attemptHistory"]
    assert [(a["succeeded"], a["statusCode"]) for a in history] == [(False, 503), (True, 204)]
    assert history[0]["nextAttemptAt"] == failed["nextAttemptAt"]
    assert history[1]["nextAttemptAt"] is None


async def test_history_filters_on_status_and_time(api: Api) -> None:
    """``status eq 'Failed'`` and a ``lastAttemptAt`` range select the matching deliveries."""
    headers = await api.headers()
    webhook_id = await _setup(api, headers)
    path = f"/webhooks/{webhook_id}/deliveries"
    failed = await api.http.get(
        f"{API}{path}", params={"filter": "status eq 'Failed'"}, headers=headers
    )
    assert [d["recordId"] for d in failed.json()["value"]] == [2]
    now = api.clock.now()
    future = (now.replace(year=now.year + 1)).isoformat()
    later = await api.http.get(
        f"{API}{path}", params={"filter": f"lastAttemptAt ge '{future}'"}, headers=headers
    )
    assert later.json()["value"] == []
    bad = await api.http.get(f"{API}{path}", params={"filter": "status eq 'Lost'"}, headers=headers)
    assert_error(bad, 400, reasons=True)


async def test_history_pages_follow_next_links_and_refuse_tampered_tokens(
    api_factory: ApiFactory,
) -> None:
    """Pages link to the next one; a tampered or foreign continuation token answers 409."""
    api = await api_factory(Settings.of(database_url="memory://", history_page_size=1))
    headers = await api.headers()
    webhook_id = await _setup(api, headers)
    first = await _get(api, headers, f"/webhooks/{webhook_id}/deliveries")
    assert len(first["value"]) == 1
    link = first["nextLink"]
    assert link.startswith(f"{API}/webhooks/{webhook_id}/deliveries?continuationToken=")
    second = await api.http.get(link, headers=headers)
    assert second.status_code == 200
    seen = {first["value"][0]["id"], second.json()["value"][0]["id"]}
    assert len(seen) == 2
    tampered = await api.http.get(
        link[:-2] + ("A" if link[-2] != "A" else "B") + link[-1:], headers=headers
    )
    assert_error(tampered, 409)
    other = await api.headers("globex")
    foreign = await api.http.get(link, headers=other)
    assert_error(foreign, 404)


async def test_history_answers_for_deleted_webhooks_but_not_other_tenants(api: Api) -> None:
    """A soft-deleted webhook's history stays readable; another tenant sees 404."""
    headers = await api.headers()
    webhook_id = await _setup(api, headers)
    assert (
        await api.http.delete(f"{API}/webhooks/{webhook_id}", headers=headers)
    ).status_code == 204
    listed = await _get(api, headers, f"/webhooks/{webhook_id}/deliveries")
    assert len(listed["value"]) == 2
    other = await api.headers("globex")
    answer = await api.http.get(f"{API}/webhooks/{webhook_id}/deliveries", headers=other)
    assert_error(answer, 404)
    unknown = await api.http.get(
        f"{API}/webhooks/{webhook_id}/deliveries/msg_nothing", headers=headers
    )
    assert_error(unknown, 404)


async def test_history_needs_the_webhooks_read_scope(api: Api) -> None:
    """Without ``connector-protimeapi-webhooks.read`` the history answers 401."""
    headers = await api.headers(scopes=[Scope.WEBHOOKS_WRITE])
    answer = await api.http.get(f"{API}/webhooks/anything/deliveries", headers=headers)
    assert_error(answer, 401)
    assert "insufficient_scope" in answer.headers["www-authenticate"]
