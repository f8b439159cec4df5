"""Helpers of the console and portal tests: sign in over HTTP, read tokens out of pages."""

from __future__ import annotations

import re

import httpx

from tests.conftest import API, Api, work_interruption

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(page.text)
    assert found is not None, page.text[:500]
    return found[1]


async def sign_in_operator(api: Api, name: str = "ada") -> str:
    """Create an operator and sign the test client in; return the session's CSRF token."""
    await api.rt.services.sessions.create_operator(name, PASSWORD)
    form = await api.http.get("/console/sign-in")
    answer = await api.http.post(
        "/console/sign-in",
        data={"csrf": csrf_of(form), "name": name, "password": PASSWORD},
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(await api.http.get("/console"))


async def failing_webhook(api: Api, tenant: str = "acme") -> tuple[str, dict[str, str]]:
    """A webhook of ``tenant`` whose destination answers 503 to record 2; return id, headers."""
    headers = await api.headers(tenant)
    await api.put_person(headers, 1)
    hook = await api.http.post(
        f"{API}/webhooks",
        json={
            "destinationUrl": f"https://{tenant}.example.com/hook",
            "collectionName": "work-interruptions",
        },
        headers=headers,
    )
    assert hook.status_code == 201, hook.text
    for record_id in (1, 2):
        put = await api.http.put(
            f"{API}/work-interruptions/{record_id}", json=work_interruption(), headers=headers
        )
        assert put.status_code == 201, put.text
    api.sender.status_for = lambda _url, body: 503 if b'"id":2' in body else 200
    await api.rt.worker.run_once()
    webhook_id: str = hook.json()["id"]
    return webhook_id, headers
