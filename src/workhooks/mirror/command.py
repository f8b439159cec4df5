"""The ``workhooks mirror`` command line: ``mirror`` (run) and ``mirror check``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

__all__ = ["add_mirror_parser", "run_mirror_command"]


def add_mirror_parser(commands: Any) -> None:
    """Add ``mirror [run|check]`` with its options to the CLI's subcommands."""
    mirror = commands.add_parser(
        "mirror",
        help="keep a local SQLite copy of a tenant's work interruptions current",
        description=(
            "run: receive webhook events and keep the copy current (until SIGINT/SIGTERM). "
            "check: compare the copy with the server (exit 1 when they differ). "
            "Every option may also come from WORKHOOKS_MIRROR_<NAME> (FROM and TO for dates)."
        ),
    )
    mirror.add_argument("action", nargs="?", choices=("run", "check"), default="run")
    mirror.add_argument("--server-url", help="base URL of a workhooks server")
    mirror.add_argument(
        "--environment",
        help="a Protime environment instead: myprotime.eu (production) or myprotimesandbox.eu "
        "(sandbox); the API at https://<tenant>.<environment>",
    )
    mirror.add_argument("--token-url", help="the token endpoint, when it is elsewhere")
    mirror.add_argument(
        "--oidc-issuer", help="read the token endpoint from this issuer's OIDC discovery"
    )
    mirror.add_argument(
        "--verifier",
        help="module:function checking deliveries instead of Standard Webhooks v1 "
        "(see workhooks.client.Verifier)",
    )
    mirror.add_argument("--tenant", help="the tenant to mirror")
    mirror.add_argument("--client-id", help="client id (client credentials)")
    mirror.add_argument("--client-secret", help="client secret (prefer the environment)")
    mirror.add_argument("--db", help="SQLite file of the copy (default workhooks-mirror.db)")
    mirror.add_argument("--host", help="receiver interface (default 127.0.0.1)")
    mirror.add_argument("--port", type=int, help="receiver port (default 8010)")
    mirror.add_argument(
        "--public-url", help="URL the server POSTs events to (default http://HOST:PORT/hook)"
    )
    mirror.add_argument("--from", dest="date_from", type=dt.date.fromisoformat, help="first date")
    mirror.add_argument("--to", dest="date_to", type=dt.date.fromisoformat, help="last date")
    mirror.add_argument(
        "--external-references", help="e.g. '(people,@employee-number)' to render on records"
    )
    mirror.add_argument(
        "--poll-seconds", type=float, help="seconds between delta catch-ups (default 60)"
    )
    mirror.add_argument(
        "--renew-before-hours", type=float, help="renew the webhook this long before it expires"
    )
    mirror.add_argument("--user-agent", help="Name/Version (Company) sent to the server")


def run_mirror_command(args: argparse.Namespace) -> int:
    """Run ``mirror`` or ``mirror check`` with the parsed options; return the exit code.

    0: done (or the copy equals the server); 1: the copy differs; 2: the server refused us
    (credentials, scopes, destination) or could not be reached.
    """
    import httpx

    from workhooks.client.errors import ProtimeError

    try:
        return _run(args)
    except (ProtimeError, httpx.TransportError) as exc:
        print(f"workhooks mirror: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from workhooks.mirror.settings import MirrorSettings

    settings = MirrorSettings.from_env(
        server_url=args.server_url,
        environment=args.environment,
        token_url=args.token_url,
        oidc_issuer=args.oidc_issuer,
        verifier=args.verifier,
        tenant=args.tenant,
        client_id=args.client_id,
        client_secret=args.client_secret,
        db=args.db,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        date_from=args.date_from,
        date_to=args.date_to,
        external_references=args.external_references,
        poll_seconds=args.poll_seconds,
        renew_before_hours=args.renew_before_hours,
        user_agent=args.user_agent,
    )
    if args.action == "check":
        from workhooks.mirror.check import run_check

        return run_check(settings)
    import asyncio

    from workhooks.mirror.run import run_mirror

    asyncio.run(run_mirror(settings))
    return 0
