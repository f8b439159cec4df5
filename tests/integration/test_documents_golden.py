"""The wire documents byte for byte: every API answer and every webhook body against a golden file.

One scenario drives the app on the in-memory store with a fake clock: tokens and discovery,
people, work interruptions (with references, pages, delta), org-groups and circles, webhooks,
their deliveries (one failing), the operator's clients and console routes, and error bodies.
Each answer's raw bytes, and each signed body the worker sent, are compared with
``golden/documents.json``; only values drawn at random (ids, keys, secrets, tokens, signing
keys) are replaced by stable placeholders first, so field names and order, nulls against
absent fields and the format of every date are pinned exactly.
Set ``WORKHOOKS_WRITE_GOLDEN=1`` to write the file again after a deliberate change.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from tests.conftest import API, USER_AGENT, Api, work_interruption
from workhooks.bootstrap import runtime
from workhooks.config import Settings
from workhooks.domain.scopes import Scope
from workhooks.services import webhooks
from workhooks.testing import FakeClock, ScriptedSender

GOLDEN = Path(__file__).parent / "golden" / "documents.json"
OPERATOR = "/operator/v1"
# Values drawn at random, found by their place in a document or a link.
_DRAWN = (
    re.compile(r'"(?:kid|x|access_token|secret|key)":"([^"]+)"'),
    re.compile(r"(?:continuationToken|deltaToken|token)=([^\"&]+)"),
)


class Transcript:
    """Raw answers by name, with random values replaced by placeholders in order of sighting."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def know(self, value: str, kind: str) -> None:
        """Name a random value (an id, a secret) wherever it appears: ``<kind-n>``."""
        if value not in self._names:
            self._counts[kind] += 1
            self._names[value] = f"<{kind}-{self._counts[kind]}>"

    def _stable(self, text: str) -> str:
        for pattern in _DRAWN:
            for found in pattern.finditer(text):
                self.know(found[1], "drawn")
        for value in sorted(self._names, key=len, reverse=True):
            text = text.replace(value, self._names[value])
        return text

    def add(self, name: str, answer: httpx.Response | bytes, *, status: int | None = None) -> None:
        """Keep an answer (status, content type and raw body) or a delivered body."""
        if isinstance(answer, bytes):
            self.entries[name] = self._stable(answer.decode())
            return
        if status is not None:
            assert answer.status_code == status, answer.text
        kind = answer.headers.get("content-type", "")
        self.entries[name] = self._stable(f"{answer.status_code} {kind}\n{answer.text}")


async def _auth(api: Api, t: Transcript) -> dict[str, str]:
    """Token answers, discovery and keys; return the headers of a token with every scope."""
    client_id, secret = await api.credentials("acme", tuple(Scope))
    t.know(client_id, "client")
    t.know(secret, "secret")
    token = await api.token_response("acme", client_id, secret)
    t.add("token", token, status=200)
    t.add("token error", await api.token_response("acme", client_id, "wrong"), status=401)
    t.add("discovery", await api.http.get("/tenants/acme/.well-known/openid-configuration"))
    t.add("jwks", await api.http.get("/tenants/acme/.well-known/openid-configuration/jwks"))
    return {"User-Agent": USER_AGENT, "Authorization": f"Bearer {token.json()['access_token']}"}


async def _people(http: httpx.AsyncClient, t: Transcript, headers: dict[str, str]) -> None:
    """People, a custom reference, org-groups and circles."""
    t.add("put person", await http.put(f"{API}/people/1", json={}, headers=headers), status=201)
    t.add(
        "put person again",
        await http.put(
            f"{API}/people/1",
            json={"badgeNumber": "B-1", "employeeNumber": "E-0001"},
            headers=headers,
        ),
        status=200,
    )
    people = {"value": [{"id": 2, "employeeNumber": "E-0002"}, {"id": 3}]}
    t.add("people batch", await http.post(f"{API}/people/batch", json=people, headers=headers))
    t.add("get person", await http.get(f"{API}/people/1", headers=headers), status=200)
    t.add(
        "set reference",
        await http.put(
            f"{API}/people/1/external-references/HRMID", json={"value": "HR-1"}, headers=headers
        ),
        status=204,
    )
    t.add("references", await http.get(f"{API}/people/1/external-references", headers=headers))

    org = {"name": "Company", "people": [{"id": 1}]}
    t.add("put org-group", await http.put(f"{API}/org-groups/100", json=org, headers=headers))
    sub = {"name": "Sales", "parent": {"id": 100}, "people": [{"id": 3}, {"id": 2}]}
    t.add("put org-group below", await http.put(f"{API}/org-groups/121", json=sub, headers=headers))
    t.add("get org-group", await http.get(f"{API}/org-groups/100", headers=headers))
    circle = {"name": "Night shift", "people": [{"id": 2}]}
    t.add("put circle", await http.put(f"{API}/circles/2", json=circle, headers=headers))
    t.add("get circle", await http.get(f"{API}/circles/2", headers=headers))


async def _webhooks(http: httpx.AsyncClient, t: Transcript, headers: dict[str, str]) -> list[str]:
    """Two webhooks (one with references); return their ids."""
    hooks = []
    for host, asked in (("one", "(people,@employee-number)(people,HRMID)"), ("two", None)):
        params = {"externalReferences": asked} if asked else {}
        body = {
            "destinationUrl": f"https://{host}.example.com/hook",
            "collectionName": "work-interruptions",
        }
        created = await http.post(f"{API}/webhooks", json=body, params=params, headers=headers)
        t.add(f"create webhook {host}", created, status=201)
        hooks.append(created.json()["id"])
    t.add("list webhooks", await http.get(f"{API}/webhooks", headers=headers))
    t.add("get webhook", await http.get(f"{API}/webhooks/{hooks[0]}", headers=headers))
    return hooks


async def _records(http: httpx.AsyncClient, t: Transcript, headers: dict[str, str]) -> None:
    """Writes of work interruptions, reads, pages and delta (with a ``Delete`` item)."""
    delta_start = await http.get(
        f"{API}/work-interruptions",
        params={"filter": "date ge '2026-01-01' and date le '2026-01-31'", "delta": ""},
        headers=headers,
    )
    t.add("delta start", delta_start, status=200)
    for record_id, person_id, day in ((1, 1, 5), (2, 2, 6), (3, 3, 7)):
        body = work_interruption(person_id, date=f"2026-01-{day:02}")
        answer = await http.put(f"{API}/work-interruptions/{record_id}", json=body, headers=headers)
        t.add(f"put work interruption {record_id}", answer, status=201)
    replaced = work_interruption(1, date="2026-01-05", durationInMinutes=45, endTimeInMinutes=645)
    t.add(
        "replace work interruption",
        await http.put(f"{API}/work-interruptions/1", json=replaced, headers=headers),
        status=200,
    )
    batch = {"value": [{**work_interruption(2, date="2026-01-08"), "id": 4}]}
    t.add(
        "work interruption batch",
        await http.post(f"{API}/work-interruptions/batch", json=batch, headers=headers),
    )
    t.add(
        "delete work interruption",
        await http.delete(f"{API}/work-interruptions/3", headers=headers),
        status=204,
    )
    t.add("get work interruption", await http.get(f"{API}/work-interruptions/1", headers=headers))
    refs = {"externalReferences": "(people,@employee-number)(people,HRMID)"}
    t.add(
        "get work interruption with references",
        await http.get(f"{API}/work-interruptions/1", params=refs, headers=headers),
    )
    listed = await http.get(
        f"{API}/work-interruptions",
        params={"filter": "date ge '2026-01-01' and date le '2026-01-31'", **refs},
        headers=headers,
    )
    t.add("list first page", listed, status=200)
    t.add("list next page", await http.get(listed.json()["nextLink"], headers=headers))
    changes = await http.get(delta_start.json()["deltaLink"], headers=headers)
    t.add("delta changes", changes, status=200)
    more_link = changes.json()["nextLink"] + "&externalReferences=(people,HRMID)"
    more = await http.get(more_link, headers=headers)
    t.add("delta changes next", more, status=200)


async def _deliveries(api: Api, t: Transcript, headers: dict[str, str], hook: str) -> None:
    """The worker's bodies (``hook`` fails on record 2), its history, recover and portal link."""
    http = api.http
    api.sender.status_for = lambda url, body: 503 if "two" in url and b'"id":2' in body else 204
    await api.rt.worker.run_once()
    sent = sorted(api.sender.requests, key=lambda r: (r.url, r.body))
    for number, request in enumerate(sent, start=1):
        t.add(f"delivered body {number} to {request.url}", request.body)
    deliveries = await http.get(f"{API}/webhooks/{hook}/deliveries", headers=headers)
    t.add("deliveries", deliveries, status=200)
    failed = next(d for d in deliveries.json()["value"] if d["status"] == "Failed")
    t.add(
        "delivery detail",
        await http.get(f"{API}/webhooks/{hook}/deliveries/{failed['id']}", headers=headers),
    )
    t.add(
        "recover",
        await http.post(
            f"{API}/webhooks/{hook}/recover",
            json={"since": "2000-01-01T00:00:00Z"},
            headers=headers,
        ),
    )
    t.add("portal link", await http.post(f"{API}/portal-links", headers=headers), status=201)


async def _operator(api: Api, t: Transcript) -> None:
    """The operator's clients and console searches."""
    http = api.http
    ops_id, ops_secret = await api.credentials("ops", [Scope.OPERATOR])
    t.know(ops_id, "client")
    ops_token = (await api.token_response("ops", ops_id, ops_secret)).json()["access_token"]
    ops = {"User-Agent": USER_AGENT, "Authorization": f"Bearer {ops_token}"}
    t.add(
        "operator webhooks",
        await http.get(f"{OPERATOR}/webhooks", params={"limit": "1"}, headers=ops),
    )
    t.add(
        "operator deliveries",
        await http.get(f"{OPERATOR}/deliveries", params={"limit": "1"}, headers=ops),
    )
    t.add("operator audit", await http.get(f"{OPERATOR}/audit", headers=ops))
    new = await http.post(
        f"{OPERATOR}/clients",
        json={"tenant": "globex", "scopes": ["connector-protimeapi-webhooks.read"]},
        headers=ops,
    )
    t.know(new.json()["id"], "client")
    t.add("create client", new, status=201)
    t.add("get client", await http.get(f"{OPERATOR}/clients/{new.json()['id']}", headers=ops))
    t.add(
        "revoke client",
        await http.post(f"{OPERATOR}/clients/{new.json()['id']}/revoke", headers=ops),
    )
    t.add(
        "list clients",
        await http.get(f"{OPERATOR}/clients", params={"tenant": "globex"}, headers=ops),
    )


async def _errors(http: httpx.AsyncClient, t: Transcript, headers: dict[str, str]) -> None:
    """Error bodies: without and with reasons, a body model failure, a missing token."""
    t.add("not found", await http.get(f"{API}/webhooks/nope", headers=headers), status=404)
    bad_filter = await http.get(
        f"{API}/work-interruptions", params={"filter": "date eq"}, headers=headers
    )
    t.add("bad filter", bad_filter, status=400)
    bad_body = await http.put(f"{API}/people/5", json={"badgeNumber": 5}, headers=headers)
    t.add("bad body", bad_body, status=400)
    t.add(
        "no token",
        await http.get(f"{API}/webhooks", headers={"User-Agent": USER_AGENT}),
        status=401,
    )


async def _scenario(api: Api, t: Transcript) -> None:
    """One tenant's story through every document, in order."""
    headers = await _auth(api, t)
    await _people(api.http, t, headers)
    hooks = await _webhooks(api.http, t, headers)
    await _records(api.http, t, headers)
    await _deliveries(api, t, headers, hooks[1])
    await _operator(api, t)
    await _errors(api.http, t, headers)


@contextlib.asynccontextmanager
async def _seeded_api() -> AsyncIterator[Api]:
    """The app on the in-memory store, two records a page, with a seeded retry jitter."""
    clock, sender = FakeClock(), ScriptedSender()
    settings = Settings.of(database_url="memory://", page_size=2)
    async with runtime(settings, clock=clock, sender=sender, rng=random.Random(15)) as rt:
        app: Any = rt.app
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(rt=rt, http=http, clock=clock, sender=sender)


async def test_documents_are_the_golden_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer and every delivered body is, byte for byte, the one recorded."""
    # Webhook ids in creation order, so lists (by id) keep one order from run to run.
    numbers = itertools.count(1)
    drawn = SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(numbers)))
    monkeypatch.setattr(webhooks, "uuid", drawn)
    transcript = Transcript()
    async with _seeded_api() as api:
        await _scenario(api, transcript)
    if os.environ.get("WORKHOOKS_WRITE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(transcript.entries, indent=1, ensure_ascii=False) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert list(transcript.entries) == list(golden)
    for name, text in transcript.entries.items():
        assert text == golden[name], name
