"""``workhooks demo``: the whole webhook loop, live, in one process on SQLite.

It starts the server (development mode), creates a demo client, runs a receiver that
verifies every signature, subscribes it with a webhook, then simulates changes to work
interruptions through the real HTTP API so each event can be watched arriving.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
from aiohttp import web
from rich.console import Console
from rich.progress import Progress

from workhooks.bootstrap import Runtime, running_worker, runtime, uvicorn_server
from workhooks.client.signatures import SignatureError, verify
from workhooks.config import Settings
from workhooks.domain.scopes import KNOWN_SCOPES

__all__ = ["TOUR", "receiver_base", "run_demo", "tour"]

TENANT = "demo"
DEMO_AGENT = "WorkhooksDemo/1.0 (Demo)"
API = "/connector/protimeapi/api/v1"


class _Receiver:
    """A tiny webhook consumer that verifies signatures and prints events."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.key: str | None = None
        self.received = 0

    async def handle_yours(self, request: web.Request) -> web.Response:
        """Webhooks made in the tour end here: their key is yours, so this only shows them."""
        event = msgspec.json.decode(await request.read())
        self.console.print(
            f"[cyan]receiver: your webhook got[/cyan] {event['changeType']} "
            f"id={event['data']['id']} (webhook-id {request.headers.get('webhook-id')})"
        )
        return web.Response(status=204)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.key is None:
            return web.Response(status=503)
        try:
            verify(self.key, headers=request.headers, body=body, now=dt.datetime.now(dt.UTC))
        except SignatureError as exc:
            self.console.print(f"[red]receiver: rejected a delivery: {exc}[/red]")
            return web.Response(status=401)
        event = msgspec.json.decode(body)
        data = event["data"]
        self.received += 1
        if event["changeType"] == "Delete":
            line = f"id={data['id']} deleted"
        else:
            line = (
                f"id={data['id']} person={data['person']['id']} {data['date']} "
                f"{data['startTimeInMinutes']}-{data['endTimeInMinutes']} "
                f"({data['durationInMinutes']} min)"
            )
        self.console.print(
            f"[green]receiver ✔ signature ok[/green] {event['changeType']:<14} {line} "
            f"[dim]v{data['changeVersion']}[/dim]"
        )
        return web.Response(status=204)


def receiver_base(port: int) -> str:
    """The demo receiver's origin: on this machine, so no event leaves it."""
    return f"http://127.0.0.1:{port}"


@asynccontextmanager
async def _serve_receiver(receiver: _Receiver, port: int) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hooks/work-interruptions", receiver.handle)
    app.router.add_post("/hooks/yours", receiver.handle_yours)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"{receiver_base(port)}/hooks/work-interruptions"
    finally:
        await runner.cleanup()


TOUR = """\
CLIENT_ID={client_id} CLIENT_SECRET={client_secret}
TOKEN=$(curl -s -X POST {base}/tenants/demo/connect/token \\
  -d grant_type=client_credentials -d client_id=$CLIENT_ID -d client_secret=$CLIENT_SECRET \\
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
API={base}/connector/protimeapi/api/v1
AUTH=(-H "Authorization: Bearer $TOKEN" -A "MyService/1.0 (MyCompany)")

curl -s "${{AUTH[@]}}" $API/webhooks                       # the demo's webhook
curl -s "${{AUTH[@]}}" -X POST $API/webhooks -H 'Content-Type: application/json' \\
  -d '{{"destinationUrl": "{receiver}/hooks/yours", "collectionName": "work-interruptions"}}'
curl -s "${{AUTH[@]}}" -X PUT $API/work-interruptions/1 -H 'Content-Type: application/json' \\
  -d '{{"person": {{"id": 1}}, "date": "2026-11-26", "durationInMinutes": 15,
       "startTimeInMinutes": 600, "endTimeInMinutes": 615}}'
curl -s "${{AUTH[@]}}" $API/work-interruptions/1

# the initial sync a consumer does before subscribing: page through, then keep the deltaLink
curl -s "${{AUTH[@]}}" -G $API/work-interruptions --data-urlencode \\
  "filter=date ge '2026-01-01' and date le '2026-12-31'" --data-urlencode delta=
"""
"""The README's tour, printed by the demo with its real credentials and addresses."""


def tour(*, base: str, receiver: str, client_id: str, client_secret: str) -> str:
    """The tour's bash lines for this server, receiver and client."""
    return TOUR.format(
        base=base, receiver=receiver, client_id=client_id, client_secret=client_secret
    )


def _print_tour(console: Console, text: str) -> None:
    console.rule("[bold]workhooks demo[/bold]")
    console.print("While it runs, try the API yourself (paste into bash):\n")
    # Verbatim: no markup, highlighting or wrapping, so it pastes exactly as printed.
    console.out(text, highlight=False)


def _random_record(rng: random.Random, record_id: int) -> dict[str, Any]:
    start = rng.randrange(6 * 60, 18 * 60)
    duration = rng.randrange(5, 60)
    day = dt.date(2026, 11, 1) + dt.timedelta(days=rng.randrange(30))
    return {
        "person": {"id": rng.randrange(1, 6)},
        "date": day.isoformat(),
        "durationInMinutes": duration,
        "startTimeInMinutes": start,
        "endTimeInMinutes": start + duration,
    }


async def _simulate(http: httpx.AsyncClient, console: Console, changes: int) -> None:
    rng = random.Random(7)
    live: set[int] = set()
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task("simulating changes", total=changes)
        for _ in range(changes):
            if live and rng.random() < 0.2:
                record_id = rng.choice(sorted(live))
                (await http.delete(f"{API}/work-interruptions/{record_id}")).raise_for_status()
                live.discard(record_id)
            else:
                record_id = rng.randrange(1, 16)
                body = _random_record(rng, record_id)
                answer = await http.put(f"{API}/work-interruptions/{record_id}", json=body)
                answer.raise_for_status()
                live.add(record_id)
            progress.advance(task)
            await asyncio.sleep(0.4)


async def _authenticate(
    rt: Runtime, http: httpx.AsyncClient, console: Console, *, receiver: str
) -> None:
    new = await rt.services.clients.create(TENANT, frozenset(KNOWN_SCOPES))
    text = tour(
        base=str(http.base_url).rstrip("/"),
        receiver=receiver,
        client_id=new.client.id,
        client_secret=new.secret,
    )
    _print_tour(console, text)
    answer = await http.post(
        f"/tenants/{TENANT}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": new.client.id,
            "client_secret": new.secret,
        },
    )
    answer.raise_for_status()
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"


async def _wait_until_started(server: Any) -> None:
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.05)


async def run_demo(settings: Settings, *, receiver_port: int, changes: int) -> None:
    """Run server, receiver and simulation; keep serving until Ctrl-C."""
    console = Console()
    receiver = _Receiver(console)
    settings = settings.replace(log_level="warning")
    async with (
        runtime(settings) as rt,
        _serve_receiver(receiver, receiver_port) as url,
        running_worker(rt),
    ):
        server = uvicorn_server(rt)
        serving = asyncio.create_task(server.serve())
        await _wait_until_started(server)
        async with httpx.AsyncClient(
            base_url=settings.server.base_url, headers={"User-Agent": DEMO_AGENT}, timeout=10
        ) as http:
            await _authenticate(rt, http, console, receiver=receiver_base(receiver_port))
            for old in await rt.services.webhooks.list(TENANT):
                # A previous demo run's webhook would reach this receiver with another key;
                # webhooks the user made (the tour's among them) are left alone.
                if old.destination_url == url:
                    await rt.services.webhooks.delete(TENANT, old.id)
            answer = await http.post(
                f"{API}/webhooks",
                json={"destinationUrl": url, "collectionName": "work-interruptions"},
            )
            answer.raise_for_status()
            created = answer.json()
            receiver.key = created["key"]
            console.print(
                f"webhook {created['id']} -> {url} (valid until {created['validUntil']})\n"
            )
            for person_id in range(1, 6):
                person = {"badgeNumber": f"B-{person_id:03}", "employeeNumber": f"E-{person_id}"}
                (await http.put(f"{API}/people/{person_id}", json=person)).raise_for_status()
            await _simulate(http, console, changes)
        await asyncio.sleep(1)
        console.print(
            f"\n[bold]{receiver.received} signed deliveries received.[/bold] "
            "The server keeps running; press Ctrl-C to stop."
        )
        await serving
