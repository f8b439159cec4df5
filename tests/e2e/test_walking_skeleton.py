"""The whole webhook loop through the real CLI processes and a real receiver on loopback."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.e2e.conftest import AGENT, ServerProcess
from workhooks.testing import Receiver

API = "/connector/protimeapi/api/v1"
SCOPES = (
    "connector-protimeapi-webhooks.read connector-protimeapi-webhooks.write "
    "connector-protimeapi-work-interruptions.read connector-protimeapi-work-interruptions.write "
    "connector-protimeapi-people.write"
)

pytestmark = pytest.mark.e2e


async def _create_webhook(http: httpx.AsyncClient, url: str) -> dict[str, str]:
    answer = await http.post(
        f"{API}/webhooks", json={"destinationUrl": url, "collectionName": "work-interruptions"}
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, str] = answer.json()
    return created


async def test_change_reaches_receiver_signed_then_delete_then_silence(
    server: ServerProcess,
) -> None:
    """A PUT and a DELETE reach the receiver as signed events; a deleted webhook gets nothing."""
    token = server.token("acme", SCOPES)
    receiver, control = Receiver(), Receiver()
    await receiver.start()
    await control.start()
    headers = {"Authorization": f"Bearer {token}", "User-Agent": AGENT}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            hook = await _create_webhook(http, receiver.url)
            assert hook["key"].startswith("whsec_")
            assert (
                await http.put(f"{API}/people/7", json={"badgeNumber": "B7"})
            ).status_code == 201
            record = {
                "person": {"id": 7},
                "date": "2026-03-02",
                "durationInMinutes": 15,
                "startTimeInMinutes": 600,
                "endTimeInMinutes": 615,
            }
            put = await http.put(f"{API}/work-interruptions/42", json=record)
            assert put.status_code == 201, put.text

            (delivery,) = await receiver.wait_for(1)
            verifier = StandardWebhook(hook["key"])
            event = verifier.verify(delivery.body, dict(delivery.headers))
            assert event == {"changeType": "InsertOrUpdate", "data": put.json()}
            assert json.loads(delivery.body)["data"] == {
                "changeVersion": put.json()["changeVersion"],
                "id": 42,
                "person": {"id": 7},
                **{k: v for k, v in record.items() if k != "person"},
            }

            assert (await http.delete(f"{API}/work-interruptions/42")).status_code == 204
            deliveries = await receiver.wait_for(2)
            deleted = verifier.verify(deliveries[1].body, dict(deliveries[1].headers))
            assert deleted["changeType"] == "Delete"
            assert deleted["data"]["id"] == 42
            assert set(deleted["data"]) == {"changeVersion", "id"}
            assert deleted["data"]["changeVersion"] > put.json()["changeVersion"]

            assert (await http.delete(f"{API}/webhooks/{hook['id']}")).status_code == 204
            await _create_webhook(http, control.url)
            record["durationInMinutes"] = 10
            assert (await http.put(f"{API}/work-interruptions/43", json=record)).status_code == 201
            # The control webhook proves the change was delivered; the deleted one got nothing.
            await control.wait_for(1)
            assert len(receiver.requests) == 2
    finally:
        await receiver.stop()
        await control.stop()


async def test_destinations_need_dev_mode_and_errors_are_protime_bodies(
    server: ServerProcess,
) -> None:
    """The running server refuses a missing User-Agent and bad tokens with Protime error bodies."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        no_agent = await http.get(f"{API}/webhooks", headers={"User-Agent": ""})
        assert no_agent.status_code == 400
        assert no_agent.json()["error"]["code"] == "InvalidRequest"
        bad_token = await http.get(
            f"{API}/webhooks", headers={"User-Agent": AGENT, "Authorization": "Bearer x.y.z"}
        )
        assert bad_token.status_code == 401
        assert "error" in bad_token.json()
        assert bad_token.headers["www-authenticate"].startswith("Bearer")
