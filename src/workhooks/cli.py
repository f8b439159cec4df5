"""The ``workhooks`` command line: serve, worker, migrate, admin commands, demo, mirror."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from workhooks import __version__
from workhooks.config import ConfigError, Settings, database_help, default_of
from workhooks.errors import DeliveryHeldError, MasterKeyError, SchemaTooNewError, WorkhooksError
from workhooks.logs import configure_logging
from workhooks.mirror.command import add_mirror_parser, run_mirror_command

__all__ = ["main"]


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help=database_help(),
    )


def _port(text: str) -> int:
    """A TCP port from the command line (argparse reports a bad one and exits 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1 to 65535)")
    return value


def _add_dev(parser: argparse.ArgumentParser) -> None:
    """The one development switch of every process that accepts or delivers to destinations."""
    parser.add_argument(
        "--dev",
        action="store_true",
        default=None,
        help="development mode: accept http and loopback destinations (never in production; "
        "env WORKHOOKS_DEV)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workhooks", description="Protime-compatible change webhooks for work interruptions."
    )
    parser.add_argument("--version", action="version", version=f"workhooks {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API and the delivery worker")
    _add_common(serve)
    serve.add_argument("--host", help=f"interface to listen on (default {default_of('host')})")
    serve.add_argument(
        "--port", type=_port, help=f"port to listen on (default {default_of('port')})"
    )
    serve.add_argument("--public-url", help="URL clients use to reach this server")
    _add_dev(serve)
    serve.add_argument(
        "--no-worker", dest="run_worker", action="store_false", default=None, help="API only"
    )

    worker = commands.add_parser(
        "worker", help="run the delivery worker only (scale out on PostgreSQL)"
    )
    _add_common(worker)
    _add_dev(worker)

    try:
        from workhooks.cli_admin import add_admin_parsers
    except ModuleNotFoundError:  # workhooks-client alone: no server commands
        pass
    else:
        add_admin_parsers(commands)

    migrate = commands.add_parser(
        "migrate", help="bring the database schema up to date (idempotent; then exit)"
    )
    _add_common(migrate)

    demo = commands.add_parser("demo", help="run the server with a live demo on SQLite")
    demo.add_argument(
        "--port", type=_port, default=None, help=f"API port (default {default_of('port')})"
    )
    demo.add_argument("--receiver-port", type=_port, default=8001, help="demo receiver port")
    demo.add_argument("--changes", type=int, default=40, help="simulated changes (default 40)")
    demo.add_argument("--database-url", default=None, help="default: sqlite:///workhooks-demo.db")

    commands.add_parser(
        "openapi", help="print the OpenAPI document (JSON), e.g. to generate a client offline"
    )
    add_mirror_parser(commands)
    return parser


ADMIN_COMMANDS = ("clients", "signing-keys", "master-key", "operators")


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on uvloop when available."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not available on Windows
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def _openapi_document() -> dict[str, Any]:
    from workhooks.bootstrap import runtime

    async with runtime(Settings.of(database_url="memory://")) as rt:
        document: dict[str, Any] = rt.app.openapi_schema.to_schema()
    return document


def _migrate(settings: Settings) -> int:
    from workhooks.bootstrap import migrate

    version, applied = _run(migrate(settings))
    done = f"applied {', '.join(applied)}" if applied else "already up to date"
    print(f"schema version {version}: {done}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workhooks`` command."""
    args = _parser().parse_args(argv)
    try:
        return _command(args)
    except SchemaTooNewError as exc:
        print(f"workhooks: refusing to start: {exc}", file=sys.stderr)
        return 3
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("workhooks."):
            raise
        # workhooks-client alone: the SDK and the mirror, without the server's modules.
        print(
            f"workhooks: '{args.command}' needs the server: pip install workhooks", file=sys.stderr
        )
        return 2


def _command(args: argparse.Namespace) -> int:
    try:
        logged = Settings.from_env()
    except ConfigError:
        logged = Settings()  # the command itself reports the bad setting
    configure_logging(level=logged.server.log_level, fmt=logged.server.log_format)
    try:
        return _dispatch(args)
    except (ConfigError, MasterKeyError, DeliveryHeldError) as exc:
        print(f"workhooks: {exc}", file=sys.stderr)
        return 2
    except SchemaTooNewError:
        raise  # exit 3, in ``main``
    except WorkhooksError as exc:
        reasons = "".join(f"\n  {reason}" for reason in exc.reasons)
        print(f"workhooks: {exc.message}{reasons}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; its exit status."""
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

        _run(work(Settings.from_env(database_url=args.database_url, dev=args.dev)))
    elif args.command == "migrate":
        return _migrate(Settings.from_env(database_url=args.database_url))
    elif args.command in ADMIN_COMMANDS:
        from workhooks.cli_admin import run_admin_command

        return run_admin_command(args, _run)
    elif args.command == "demo":
        from workhooks.demo import run_demo

        settings = Settings.from_env(
            database_url=args.database_url or "sqlite:///workhooks-demo.db",
            port=args.port,
            dev=True,
        )
        _run(run_demo(settings, receiver_port=args.receiver_port, changes=args.changes))
    elif args.command == "openapi":
        print(json.dumps(_run(_openapi_document()), indent=2))
    elif args.command == "mirror":
        return run_mirror_command(args)
    return 0
