"""``/metrics``: delivery counters, latency, backlog per webhook, and who may read it."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import API, Api, ApiFactory, work_interruption
from tests.integration.errors_helpers import assert_error
from workhooks.config import Settings


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _one_success_one_failure(api: Api) -> str:
    headers = await api.headers()
    await api.put_person(headers, 1)
    hook = await api.http.post(
        f"{API}/webhooks",
        json={"destinationUrl": "https://example.com/h", "collectionName": "work-interruptions"},
        headers=headers,
    )
    for record_id in (1, 2):
        await api.http.put(
            f"{API}/work-interruptions/{record_id}", json=work_interruption(), headers=headers
        )
    api.sender.status_for = lambda _url, body: 503 if b'"id":2' in body else 200
    await api.rt.worker.run_once()
    webhook_id: str = hook.json()["id"]
    return webhook_id


async def test_metrics_count_outcomes_latency_and_backlog(api: Api) -> None:
    """Outcomes, attempt latencies, changes behind, lag and webhooks by status are exported."""
    webhook_id = await _one_success_one_failure(api)
    api.clock.advance(42)
    answer = await api.http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    labels = (("tenant", "acme"), ("webhook_id", webhook_id))
    assert samples[("workhooks_deliveries_total", (("outcome", "succeeded"),))] == 1
    assert samples[("workhooks_deliveries_total", (("outcome", "unavailable"),))] == 1
    assert samples[("workhooks_delivery_attempt_seconds_count", ())] == 2
    assert samples[("workhooks_webhook_changes_behind", labels)] == 1
    assert samples[("workhooks_webhook_lag_seconds", labels)] >= 42
    assert samples[("workhooks_webhook_failures", labels)] == 1
    assert samples[("workhooks_webhooks_behind", ())] == 1
    assert samples[("workhooks_webhooks_failing", ())] == 1
    assert samples[("workhooks_webhooks", (("status", "Enabled"),))] == 1
    assert samples[("workhooks_webhooks", (("status", "Disabled"),))] == 0


async def test_caught_up_webhooks_have_no_series_of_their_own(api: Api) -> None:
    """Once everything is delivered, the webhook leaves the per-webhook series and the counts."""
    webhook_id = await _one_success_one_failure(api)
    api.sender.status_for = lambda _url, _body: 204
    api.clock.advance(10)
    await api.rt.worker.run_once()
    api.clock.advance(100)
    samples = _samples((await api.http.get("/metrics")).text)
    assert not [key for key in samples if ("webhook_id", webhook_id) in key[1]]
    assert samples[("workhooks_webhooks_behind", ())] == 0
    assert samples[("workhooks_webhooks_failing", ())] == 0
    assert samples[("workhooks_webhooks", (("status", "Enabled"),))] == 1


async def test_per_webhook_series_are_bounded_by_the_setting(api_factory: ApiFactory) -> None:
    """With many webhooks behind, only the configured number get series; counts cover all."""
    api = await api_factory(Settings.of(database_url="memory://", metrics_webhook_series=2))
    headers = await api.headers()
    await api.put_person(headers, 1)
    for n in range(5):
        await api.http.post(
            f"{API}/webhooks",
            json={
                "destinationUrl": f"https://example.com/{n}",
                "collectionName": "work-interruptions",
            },
            headers=headers,
        )
    await api.http.put(f"{API}/work-interruptions/1", json=work_interruption(), headers=headers)
    samples = _samples((await api.http.get("/metrics")).text)
    series = [key for key in samples if key[0] == "workhooks_webhook_changes_behind"]
    assert len(series) == 2
    assert samples[("workhooks_webhooks_behind", ())] == 5


async def _get_from(api: Api, client: tuple[str, int], **kwargs: Any) -> httpx.Response:
    app: Any = api.rt.app
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get("/metrics", **kwargs)


async def test_metrics_answer_only_loopback_without_a_token(api: Api) -> None:
    """Without a metrics token, a client that is not on loopback gets 401."""
    assert (await _get_from(api, ("127.0.0.1", 5000))).status_code == 200
    assert_error(await _get_from(api, ("203.0.113.9", 5000)), 401)


async def test_metrics_token_is_required_when_set(api_factory: ApiFactory) -> None:
    """With a metrics token, every client must send it, loopback included."""
    api = await api_factory(Settings.of(database_url="memory://", metrics_token="s3cret-scrape"))
    assert_error(await _get_from(api, ("127.0.0.1", 5000)), 401)
    wrong = {"Authorization": "Bearer nope"}
    assert_error(await _get_from(api, ("203.0.113.9", 5000), headers=wrong), 401)
    right = {"Authorization": "Bearer s3cret-scrape"}
    assert (await _get_from(api, ("203.0.113.9", 5000), headers=right)).status_code == 200
