"""The ``workhooks`` command line: serve, worker, clients, keys, demo, mirror."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from workhooks import __version__
from workhooks.cli_admin import add_admin_parsers, run_admin_command
from workhooks.config import ConfigError, Settings
from workhooks.errors import DeliveryHeldError
from workhooks.mirror.command import add_mirror_parser, run_mirror_command
from workhooks.storage.sealing import MasterKeyError

__all__ = ["main"]


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="sqlite:///<path> or postgresql://... (default sqlite:///workhooks.db; "
        "env WORKHOOKS_DATABASE_URL)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workhooks", description="Protime-compatible change webhooks for work interruptions."
    )
    parser.add_argument("--version", action="version", version=f"workhooks {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API and the delivery worker")
    _add_common(serve)
    serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--public-url", help="URL clients use to reach this server")
    serve.add_argument(
        "--dev",
        action="store_true",
        default=None,
        help="development mode: accept http and loopback destinations (never in production)",
    )
    serve.add_argument(
        "--no-worker", dest="run_worker", action="store_false", default=None, help="API only"
    )

    worker = commands.add_parser(
        "worker", help="run the delivery worker only (scale out on PostgreSQL)"
    )
    _add_common(worker)

    add_admin_parsers(commands)

    demo = commands.add_parser("demo", help="run the server with a live demo on SQLite")
    demo.add_argument("--port", type=int, default=None, help="API port (default 8000)")
    demo.add_argument("--receiver-port", type=int, default=8001, help="demo receiver port")
    demo.add_argument("--changes", type=int, default=40, help="simulated changes (default 40)")
    demo.add_argument("--database-url", default=None, help="default: sqlite:///workhooks-demo.db")

    add_mirror_parser(commands)
    return parser


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on uvloop when available."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not available on Windows
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workhooks`` command."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.command == "serve":
            from workhooks.bootstrap import serve

            settings = Settings.from_env(
                database_url=args.database_url,
                host=args.host,
                port=args.port,
                public_url=args.public_url,
                dev=args.dev,
                run_worker=args.run_worker,
            )
            _run(serve(settings))
        elif args.command == "worker":
            from workhooks.bootstrap import work

            _run(work(Settings.from_env(database_url=args.database_url)))
        elif args.command in ("clients", "signing-keys", "master-key"):
            return run_admin_command(args, _run)
        elif args.command == "demo":
            from workhooks.demo import run_demo

            settings = Settings.from_env(
                database_url=args.database_url or "sqlite:///workhooks-demo.db",
                port=args.port,
                dev=True,
            )
            _run(run_demo(settings, receiver_port=args.receiver_port, changes=args.changes))
        elif args.command == "mirror":
            return run_mirror_command(args)
    except (ConfigError, MasterKeyError, DeliveryHeldError) as exc:
        print(f"workhooks: {exc}", file=sys.stderr)
        return 2

    except KeyboardInterrupt:
        return 130
    return 0
