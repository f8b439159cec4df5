"""Reliability probes with figures: the SSRF bypass list, and cross-tenant access attempts."""

from __future__ import annotations

import pytest

from tests.conftest import API, Api, work_interruption
from tests.reliability import report
from tests.unit.test_addresses import FORBIDDEN_ADDRESSES, FORBIDDEN_HOSTS
from workhooks.domain.webhooks import validate_destination
from workhooks.errors import InvalidDestinationError

pytestmark = pytest.mark.reliability


def test_every_ssrf_bypass_form_is_refused_at_creation() -> None:
    """Each forbidden address and host spelling, as an https destination, is refused with 400."""
    hosts = [f"[{h}]" if ":" in h and not h.startswith("[") else h for h in FORBIDDEN_HOSTS]
    hosts += [f"[{a}]" if ":" in a else a for a in FORBIDDEN_ADDRESSES]
    accepted = []
    for host in hosts:
        try:
            validate_destination(f"https://{host}/hook", allow_http=False, allow_loopback=False)
        except InvalidDestinationError:
            continue
        accepted.append(host)
    report("SSRF bypass list at creation", attempts=len(hosts), refused=len(hosts) - len(accepted))
    assert accepted == []


async def test_cross_tenant_requests_never_reach_another_tenants_data(api: Api) -> None:
    """Every read and write of tenant A's resources with tenant B's token is refused."""
    a = await api.headers("tenant-a")
    await api.put_person(a, 1)
    assert (
        await api.http.put(f"{API}/work-interruptions/7", json=work_interruption(), headers=a)
    ).status_code == 201
    hook = await api.http.post(
        f"{API}/webhooks",
        json={"destinationUrl": "https://example.com/h", "collectionName": "work-interruptions"},
        headers=a,
    )
    webhook_id = hook.json()["id"]
    b = await api.headers("tenant-b")
    attempts = [
        ("GET", f"{API}/webhooks/{webhook_id}"),
        ("DELETE", f"{API}/webhooks/{webhook_id}"),
        ("GET", f"{API}/webhooks/{webhook_id}/deliveries"),
        ("GET", f"{API}/webhooks/{webhook_id}/deliveries/msg_{webhook_id}_00000000000000000002"),
        ("GET", f"{API}/work-interruptions/7"),
        ("DELETE", f"{API}/work-interruptions/7"),
        ("GET", f"{API}/people/1"),
        ("DELETE", f"{API}/people/1"),
        ("GET", f"{API}/people/1/external-references"),
        ("DELETE", f"{API}/people/1/external-references/HRMID"),
    ]
    leaked = []
    for method, url in attempts:
        answer = await api.http.request(method, url, headers=b)
        if answer.status_code < 400:
            leaked.append(f"{method} {url}: {answer.status_code}")
    listing = await api.http.get(
        f"{API}/work-interruptions",
        params={"filter": "date ge '2024-01-01' and date le '2024-12-31'"},
        headers=b,
    )
    webhooks = await api.http.get(f"{API}/webhooks", headers=b)
    if listing.json()["value"] or webhooks.json()["value"]:
        leaked.append("a list showed tenant A's records")
    database = api.rt.settings.storage.database_url.split(":", 1)[0]
    report(
        f"cross-tenant access [{database}]",
        attempts=len(attempts) + 2,
        refused_or_empty=len(attempts) + 2 - len(leaked),
        leaked=len(leaked),
    )
    assert leaked == []
    assert (await api.http.get(f"{API}/work-interruptions/7", headers=a)).status_code == 200
