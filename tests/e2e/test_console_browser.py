"""The console and the portal in a real headless Chromium against a real ``workhooks serve``.

A real receiver on loopback first fails; the operator signs in, finds the failing webhook
and a failed delivery by record id, opens its attempt, retries and recovers it, resends
one record from its delivery page and sees the receiver get each, and the actions
audited; forged forms are refused; a portal link opens one tenant's portal and nothing
of another tenant, and its test event reaches the receiver with a valid signature.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from standardwebhooks.webhooks import Webhook

from tests.e2e.browser_helpers import by_test_id, chromium, fill, follow, snapshot, submit
from tests.e2e.conftest import AGENT, ServerProcess, start_server, stop_server, workhooks_env
from workhooks.testing import Receiver

__all__ = ["chromium"]

pytestmark = pytest.mark.e2e

API = "/connector/protimeapi/api/v1"
PASSWORD = "correct horse battery staple"
SCOPES = "connector-protimeapi-webhooks.read connector-protimeapi-webhooks.write " + (
    "connector-protimeapi-work-interruptions.write connector-protimeapi-people.write"
)


@pytest.fixture
def slow_retry_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``workhooks serve --dev`` whose first retry waits an hour (only actions send again)."""
    running = start_server(tmp_path, env=workhooks_env(WORKHOOKS_RETRY_SCHEDULE="3600"))
    try:
        yield running
    finally:
        stop_server(running)


def _create_operator(server: ServerProcess) -> None:
    subprocess.run(
        [
            *(sys.executable, "-m", "workhooks", "operators", "create", "--name", "ada"),
            *("--password-stdin", "--database-url", server.database_url),
        ],
        input=f"{PASSWORD}\n".encode(),
        env=workhooks_env(),
        check=True,
        capture_output=True,
        timeout=60,
    )


async def _tenant_with_webhook(server: ServerProcess, tenant: str, url: str) -> tuple[str, str]:
    """A tenant with a webhook to ``url`` and two records; return the webhook's id and key."""
    headers = {"Authorization": f"Bearer {server.token(tenant, SCOPES)}", "User-Agent": AGENT}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
        hook = await http.post(
            f"{API}/webhooks", json={"destinationUrl": url, "collectionName": "work-interruptions"}
        )
        assert hook.status_code == 201, hook.text
        assert (await http.put(f"{API}/people/1", json={})).status_code == 201
        for record_id in (1, 2):
            record = {
                "person": {"id": 1},
                "date": "2026-03-02",
                "durationInMinutes": 15,
                "startTimeInMinutes": 600,
                "endTimeInMinutes": 615,
            }
            put = await http.put(f"{API}/work-interruptions/{record_id}", json=record)
            assert put.status_code == 201, put.text
        webhook_id: str = hook.json()["id"]
        await _until_failed(http, webhook_id)
        return webhook_id, hook.json()["key"]


async def _until_failed(http: httpx.AsyncClient, webhook_id: str) -> None:
    """Wait (bounded) until the worker has recorded a failed delivery of the webhook."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = await http.get(f"{API}/webhooks/{webhook_id}/deliveries")
        if any(d["status"] == "Failed" for d in listed.json()["value"]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no failed delivery was recorded")


def _sign_in_and_find_the_failure(driver: WebDriver, base: str, webhook_id: str) -> str:
    """Sign in, find the failing webhook and record 1's failed attempt; return its page."""
    driver.get(f"{base}/console")
    assert driver.current_url.endswith("/console/sign-in")
    snapshot(driver, "sign-in")
    fill(driver, {"name": "ada", "password": PASSWORD})
    submit(driver)
    assert by_test_id(driver, "who").text == "operator:ada"
    snapshot(driver, "overview")
    follow(driver, driver.find_element(By.LINK_TEXT, "Webhooks"))
    fill(driver, {"q": "acme"})
    driver.find_element(By.NAME, "failing").click()
    submit(driver)
    table = by_test_id(driver, "webhooks")
    assert webhook_id[:8] in table.text
    assert "globex" not in table.text
    snapshot(driver, "webhooks")
    follow(driver, driver.find_element(By.LINK_TEXT, "Deliveries"))
    fill(driver, {"record": "1", "tenant": "acme"})
    submit(driver)
    snapshot(driver, "deliveries")
    follow(driver, by_test_id(driver, "deliveries").find_element(By.PARTIAL_LINK_TEXT, "msg_"))
    assert by_test_id(driver, "attempt-status").text == "503"
    snapshot(driver, "delivery")
    return str(driver.current_url)


def _act(driver: WebDriver, base: str, tenant: str, webhook_id: str, action: str) -> str:
    """Open the webhook, choose the action, confirm it; return the notice shown."""
    driver.get(f"{base}/console/tenants/{tenant}/webhooks/{webhook_id}")
    follow(driver, by_test_id(driver, f"action-{action}"))
    if action == "recover":
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        # A datetime-local input takes the digits in the browser's locale order: set it by script.
        driver.execute_script(
            "arguments[0].value = arguments[1]",
            by_test_id(driver, "since"),
            since.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        snapshot(driver, "confirm-recover")
    follow(driver, by_test_id(driver, "confirm"))
    notice: str = by_test_id(driver, "notice").text
    snapshot(driver, "webhook")
    return notice


def _resend(driver: WebDriver, delivery_page: str) -> tuple[str, str]:
    """From a delivery's page, resend its record; return the cost shown and the notice."""
    driver.get(delivery_page)
    follow(driver, by_test_id(driver, "resend"))
    preview: str = by_test_id(driver, "preview").text
    snapshot(driver, "confirm-resend")
    follow(driver, by_test_id(driver, "confirm"))
    notice: str = by_test_id(driver, "notice").text
    return preview, notice


def _portal(driver: WebDriver, base: str, webhook_id: str, foreign_id: str) -> str:
    """Open a portal link for acme, send a test event, fail to reach globex; return its status."""
    driver.get(f"{base}/console")
    fill(driver, {"tenant": "acme"})
    follow(
        driver, driver.find_element(By.CSS_SELECTOR, 'form[action="/console/portal-links"] button')
    )
    link = by_test_id(driver, "portal-link").text
    driver.delete_all_cookies()
    driver.get(link)
    assert driver.current_url == f"{base}/portal/acme"
    assert "acme" in by_test_id(driver, "who").text
    snapshot(driver, "portal")
    assert foreign_id[:8] not in by_test_id(driver, "webhooks").text
    driver.get(f"{base}/portal/acme/webhooks/{webhook_id}")
    follow(driver, by_test_id(driver, "action-test-event"))
    follow(driver, by_test_id(driver, "confirm"))
    assert by_test_id(driver, "notice").text == "Test event sent."
    status: str = by_test_id(driver, "attempt-status").text
    snapshot(driver, "test-event")
    driver.get(f"{base}/portal/acme/webhooks/{foreign_id}")
    assert "does not exist" in by_test_id(driver, "error").text
    driver.get(f"{base}/portal/acme/deliveries?tenant=globex&webhook={foreign_id}")
    assert "No deliveries match." in by_test_id(driver, "deliveries").text
    driver.get(f"{base}/portal/globex")
    assert driver.current_url == f"{base}/portal/globex/sign-in"
    return status


async def test_operator_finds_a_failure_recovers_it_and_the_portal_stays_in_its_tenant(
    slow_retry_server: ServerProcess, chromium: WebDriver
) -> None:
    """The whole console story in a real browser, with real deliveries to a real receiver."""
    server, driver = slow_retry_server, chromium
    acme, globex = Receiver(), Receiver()
    await acme.start()
    await globex.start()
    acme.status = globex.status = 503
    try:
        _create_operator(server)
        webhook_id, key = await _tenant_with_webhook(server, "acme", acme.url)
        foreign_id, _ = await _tenant_with_webhook(server, "globex", globex.url)
        base = server.base_url
        failed_page = await asyncio.to_thread(
            _sign_in_and_find_the_failure, driver, base, webhook_id
        )

        acme.status = 204
        notice = await asyncio.to_thread(_act, driver, base, "acme", webhook_id, "retry")
        assert notice == "Retrying now."
        delivered = await acme.wait_for(2)
        assert sorted(json.loads(r.body)["data"]["id"] for r in delivered) == [1, 2]

        notice = await asyncio.to_thread(_act, driver, base, "acme", webhook_id, "recover")
        assert notice == "Recovering: 2 change versions will be sent again."
        again = await acme.wait_for(4)
        assert sorted(json.loads(r.body)["data"]["id"] for r in again[2:]) == [1, 2]

        preview, notice = await asyncio.to_thread(_resend, driver, failed_page)
        assert preview == "This sends 2 change versions again."
        assert notice == "Resending record 1: 2 change versions will be sent again."
        resent = await acme.wait_for(6)
        assert [json.loads(r.body)["data"]["id"] for r in resent[4:]] == [1, 2]

        def audited() -> str:
            driver.get(f"{base}/console/tenants")
            assert "acme" in by_test_id(driver, "tenants").text
            snapshot(driver, "tenants")
            driver.get(f"{base}/console/sessions")
            assert "this session" in by_test_id(driver, "sessions").text
            snapshot(driver, "sessions")
            driver.get(f"{base}/console/audit")
            snapshot(driver, "audit")
            return str(by_test_id(driver, "audit").text)

        audit = await asyncio.to_thread(audited)
        assert "operator:ada retry-now acme" in audit
        assert "operator:ada recover acme" in audit
        assert "operator:ada resend acme" in audit

        cookie = await asyncio.to_thread(driver.get_cookie, "workhooks_console")
        assert cookie is not None
        assert cookie["httpOnly"] is True
        async with httpx.AsyncClient(base_url=base) as http:
            forged = await http.post(
                f"/console/tenants/acme/webhooks/{webhook_id}/disable",
                data={"csrf": "forged"},
                headers={"Cookie": f"workhooks_console={cookie['value']}"},
            )
        assert forged.status_code == 400

        status = await asyncio.to_thread(_portal, driver, base, webhook_id, foreign_id)
        assert status == "204"
        tested = acme.requests[-1]
        event = Webhook(key).verify(tested.body, dict(tested.headers))
        assert event["changeType"] == "Test"
        assert "_test_" in tested.headers["webhook-id"]
        assert globex.requests == []
    finally:
        await acme.stop()
        await globex.stop()
