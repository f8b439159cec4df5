"""The benchmarks' webhook receiver: a minimal keep-alive aiohttp server in its own process.

Run by the benchmarks as ``python -m benchmarks.receiver --port N``; it prints ``PORT <n>``
and the time it began to listen
once it does (on 127.0.0.1 only). ``POST /hook/<name>`` takes a delivery: it decodes the
event's version and record id, notes the arrival time (``time.monotonic()``, the same clock
in every process of the machine) and answers 204; it verifies no signature.
``/control/...`` lets the benchmark reset the counters, wait for a count or for a final
state, and fetch the arrival times (by version, or the first by hook and version); the
benchmark stops the process to make it "down".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from workhooks.domain.change_version import parse_version

__all__ = ["Event", "ReceiverState", "main", "make_app"]


class _EventData(msgspec.Struct):
    changeVersion: str
    id: int


class Event(msgspec.Struct):
    """The part of a change event the receiver reads."""

    data: _EventData


class _Expect(msgspec.Struct):
    ids: list[int]
    versions: list[int]


@dataclass
class ReceiverState:
    """Everything the receiver has seen since the last reset."""

    count: int = 0
    first_at: float | None = None
    last_at: float | None = None
    track_arrivals: bool = False
    arrivals: dict[int, float] = field(default_factory=dict)
    hook_arrivals: dict[tuple[str, int], float] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    expected: dict[int, int] = field(default_factory=dict)
    missing: int = -1
    final_at: float | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, event: Event, now: float, hook: str = "") -> None:
        """Apply one delivery: newer versions replace older ones (what a consumer does).

        With arrival tracking, notes the time of each version and the first arrival of each
        (hook, version): versions are per tenant, so several tenants need the hook's name.
        """
        self.count += 1
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        version = parse_version(event.data.changeVersion)
        if self.track_arrivals:
            self.arrivals[version] = now
            self.hook_arrivals.setdefault((hook, version), now)
        record_id = event.data.id
        held = self.versions.get(record_id, 0)
        if version > held:
            self.versions[record_id] = version
            want = self.expected.get(record_id)
            if want is not None and held < want <= version:
                self.missing -= 1
                if self.missing == 0:
                    self.final_at = now
        self.changed.set()

    def expect(self, final: dict[int, int], now: float) -> None:
        """Note the final version of each record; the final state may be held already."""
        self.expected = final
        self.missing = sum(1 for i, v in final.items() if self.versions.get(i, 0) < v)
        self.final_at = now if self.missing == 0 else None

    async def wait(self, *, count: int, final: bool, deadline: float) -> None:
        """Return once ``count`` deliveries arrived (or the final state is held), or at deadline."""
        while (self.final_at is None) if final else (self.count < count):
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=min(left, 1.0))

    def hook_rows(self, *, since: float) -> list[tuple[str, int, float]]:
        """``[hook, version, first arrival]`` of each arrival after ``since``."""
        return [(h, v, t) for (h, v), t in self.hook_arrivals.items() if t > since]


def make_app(state: ReceiverState) -> web.Application:
    """The receiver's routes over ``state``."""
    decode = msgspec.json.Decoder(Event).decode
    decode_expect = msgspec.json.Decoder(_Expect).decode
    encode = msgspec.json.Encoder().encode

    async def hook(request: web.Request) -> web.Response:
        state.take(decode(await request.read()), time.monotonic(), request.match_info["name"])
        return web.Response(status=204)

    async def reset(request: web.Request) -> web.Response:
        fresh = ReceiverState(track_arrivals=request.query.get("arrivals") == "1")
        names = ("count", "first_at", "last_at", "track_arrivals", "arrivals", "versions")
        for name in (*names, "hook_arrivals"):
            setattr(state, name, getattr(fresh, name))
        state.expected, state.missing, state.final_at = {}, -1, None
        return web.Response(status=204)

    async def expect(request: web.Request) -> web.Response:
        body = decode_expect(await request.read())
        state.expect(dict(zip(body.ids, body.versions, strict=True)), time.monotonic())
        return web.Response(status=204)

    async def wait(request: web.Request) -> web.Response:
        """Answer once ``count`` deliveries arrived (or the final state is held) or at timeout."""
        await state.wait(
            count=int(request.query.get("count", "0")),
            final=request.query.get("final") == "1",
            deadline=time.monotonic() + float(request.query.get("timeout", "60")),
        )
        return web.Response(body=encode(_stats(state)), content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        return web.Response(body=encode(_stats(state)), content_type="application/json")

    async def arrivals(request: web.Request) -> web.Response:
        pairs = [[v, t] for v, t in state.arrivals.items()]
        return web.Response(body=encode(pairs), content_type="application/json")

    async def hook_arrivals(request: web.Request) -> web.Response:
        rows = state.hook_rows(since=float(request.query.get("since", "0")))
        return web.Response(body=encode(rows), content_type="application/json")

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/hook/{name}", hook)
    app.router.add_post("/control/reset", reset)
    app.router.add_post("/control/expect", expect)
    app.router.add_get("/control/wait", wait)
    app.router.add_get("/control/stats", stats)
    app.router.add_get("/control/arrivals", arrivals)
    app.router.add_get("/control/hook-arrivals", hook_arrivals)
    return app


def _stats(state: ReceiverState) -> dict[str, float | int | None]:
    return {
        "count": state.count,
        "first_at": state.first_at,
        "last_at": state.last_at,
        "final_at": state.final_at,
        "missing": state.missing,
        "records": len(state.versions),
    }


async def _serve(port: int) -> None:
    runner = web.AppRunner(make_app(ReceiverState()), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    sys.stdout.write(f"PORT {bound} {time.monotonic()}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Parse ``--port`` and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description="benchmark webhook receiver (loopback only)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(args.port))


if __name__ == "__main__":
    main()
