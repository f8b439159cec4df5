"""The ``workhooks`` command line: serve, clients create, operators, demo, mirror."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from workhooks import __version__
from workhooks.config import ConfigError, Settings
from workhooks.domain.scopes import KNOWN_SCOPES, TENANT_SCOPES, parse_scopes
from workhooks.mirror.command import add_mirror_parser, run_mirror_command

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

    clients = commands.add_parser("clients", help="manage API clients")
    client_commands = clients.add_subparsers(dest="clients_command", required=True)
    create = client_commands.add_parser("create", help="create a client; prints its secret once")
    _add_common(create)
    create.add_argument("--tenant", required=True, help="the tenant the client belongs to")
    create.add_argument(
        "--scopes",
        required=True,
        help="space-separated scopes, e.g. 'connector-protimeapi-webhooks.read ...' or 'all'",
    )
    create.add_argument("--json", action="store_true", help="print JSON for scripts")

    operators = commands.add_parser("operators", help="manage console operator accounts")
    operator_commands = operators.add_subparsers(dest="operators_command", required=True)
    for verb, text in (("create", "create an operator"), ("password", "set a new password")):
        command = operator_commands.add_parser(verb, help=f"{text} (prompts for the password)")
        _add_common(command)
        command.add_argument("--name", required=True, help="the operator's sign-in name")
        command.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )

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


async def _create_client(settings: Settings, tenant: str, scope_text: str) -> dict[str, Any]:
    from workhooks.bootstrap import runtime

    scopes = TENANT_SCOPES if scope_text.strip() == "all" else None
    if scopes is None:
        known, unknown = parse_scopes(scope_text)
        if unknown or not known:
            raise ConfigError(
                f"unknown scopes: {' '.join(unknown) or '(none given)'}; "
                f"known: {' '.join(sorted(KNOWN_SCOPES))}"
            )
        scopes = known
    async with runtime(settings) as rt:
        new = await rt.services.auth.create_client(tenant, frozenset(scopes))
    return {
        "tenant": new.client.tenant,
        "client_id": new.client.id,
        "client_secret": new.secret,
        "scopes": sorted(new.client.scopes),
        "token_url": f"{settings.base_url}/tenants/{tenant}/connect/token",
    }


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise ConfigError("the passwords differ")
    return password


async def _operators(settings: Settings, verb: str, name: str, password: str) -> None:
    from workhooks.bootstrap import runtime
    from workhooks.errors import WorkhooksError

    async with runtime(settings) as rt:
        try:
            if verb == "create":
                await rt.services.sessions.create_operator(name, password)
            else:
                await rt.services.sessions.set_password(name, password)
        except WorkhooksError as exc:
            raise ConfigError("; ".join(exc.reasons) or exc.message) from exc


def _print_client(info: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(info))
        return
    print(f"tenant:        {info['tenant']}")
    print(f"client_id:     {info['client_id']}")
    print(f"client_secret: {info['client_secret']}   (shown once; store it now)")
    print(f"scopes:        {' '.join(info['scopes'])}")
    print(f"token URL:     {info['token_url']}")


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
        elif args.command == "clients":
            settings = Settings.from_env(database_url=args.database_url)
            info = _run(_create_client(settings, args.tenant, args.scopes))
            _print_client(info, as_json=args.json)
        elif args.command == "operators":
            settings = Settings.from_env(database_url=args.database_url)
            password = _read_password(args.password_stdin)
            _run(_operators(settings, args.operators_command, args.name, password))
            done = "created" if args.operators_command == "create" else "password set"
            print(f"operator {args.name}: {done}")
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
    except ConfigError as exc:
        print(f"workhooks: {exc}", file=sys.stderr)
        return 2

    except KeyboardInterrupt:
        return 130
    return 0
