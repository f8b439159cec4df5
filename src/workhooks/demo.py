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
from workhooks.domain.scopes import TENANT_SCOPES

__all__ = ["run_demo"]

TENANT = "demo"
DEMO_AGENT = "WorkhooksDemo/1.0 (Demo)"
API = "/connector/protimeapi/api/v1"


class _Receiver:
    """A tiny webhook consumer that verifies signatures and prints events."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.key: str | None = None
        self.received = 0

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


@asynccontextmanager
async def _serve_receiver(receiver: _Receiver, port: int) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hooks/work-interruptions", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/hooks/work-interruptions"
    finally:
        await runner.cleanup()


def _print_tour(console: Console, base: str, client_id: str, secret: str) -> None:
    console.rule("[bold]workhooks demo[/bold]")
    console.print(f"API:           {base}{API}")
    console.print(f"tenant:        {TENANT}")
    console.print(f"client_id:     {client_id}")
    console.print(f"client_secret: {secret}")
    console.print("\nTry it yourself (copy-paste):\n")
    console.print(
        f"TOKEN=$(curl -s -X POST {base}/tenants/{TENANT}/connect/token "
        f"-d grant_type=client_credentials -d client_id={client_id} "
        f"-d client_secret={secret} | python3 -c 'import sys,json;"
        f'print(json.load(sys.stdin)["access_token"])\')',
        soft_wrap=True,
        highlight=False,
    )
    auth = f'-H "Authorization: Bearer $TOKEN" -A "{DEMO_AGENT}"'
    for line in (
        f"curl -s {auth} {base}{API}/webhooks",
        f"curl -s {auth} {base}{API}/work-interruptions/1",
        f"curl -s {auth} -X PUT {base}{API}/work-interruptions/1 -H 'Content-Type: "
        'application/json\' -d \'{"person":{"id":1},"date":"2026-11-26",'
        '"durationInMinutes":15,"startTimeInMinutes":600,"endTimeInMinutes":615}\'',
    ):
        console.print(line, soft_wrap=True, highlight=False)
    console.print()


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


async def _authenticate(rt: Runtime, http: httpx.AsyncClient, console: Console) -> None:
    new = await rt.services.auth.create_client(TENANT, TENANT_SCOPES)
    _print_tour(console, str(http.base_url).rstrip("/"), new.client.id, new.secret)
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
    settings = Settings(**{**_as_dict(settings), "log_level": "warning"})
    async with (
        runtime(settings) as rt,
        _serve_receiver(receiver, receiver_port) as url,
        running_worker(rt),
    ):
        server = uvicorn_server(rt)
        serving = asyncio.create_task(server.serve())
        await _wait_until_started(server)
        async with httpx.AsyncClient(
            base_url=settings.base_url, headers={"User-Agent": DEMO_AGENT}, timeout=10
        ) as http:
            await _authenticate(rt, http, console)
            for old in await rt.services.webhooks.list(TENANT):
                # A previous demo run's webhook would reach this receiver with another key.
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


def _as_dict(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}
