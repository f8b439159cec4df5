"""Credential verbs of the CLI: ``clients``, ``signing-keys`` and ``master-key``.

Each opens the database with the process's settings (``WORKHOOKS_*``, ``--database-url``),
does one thing through the services, and prints the result (``--json`` for scripts).
Secrets are printed once and never stored anywhere but (hashed or sealed) in the database.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from workhooks.config import ConfigError, Settings, database_help
from workhooks.domain.clients import Client
from workhooks.domain.operators import AuditAction
from workhooks.domain.scopes import require_scopes
from workhooks.errors import InvalidRequestError, WorkhooksError
from workhooks.master_key import create_key_file, dev_key_path
from workhooks.services.clients import NewClient
from workhooks.storage.sealing import encode_master_key, new_master_key

__all__ = ["add_admin_parsers", "run_admin_command"]

Runner = Callable[[Coroutine[Any, Any, Any]], Any]


def _database(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    parser.add_argument(
        "--database-url",
        help=database_help(),
    )
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_admin_parsers(commands: Any) -> None:
    """Add ``clients``, ``signing-keys``, ``master-key`` and ``operators`` to the CLI."""
    operators = commands.add_parser("operators", help="manage console operator accounts")
    operator_verbs = operators.add_subparsers(dest="operators_command", required=True)
    for verb, text in (("create", "create an operator"), ("password", "set a new password")):
        command = operator_verbs.add_parser(verb, help=f"{text} (prompts for the password)")
        _database(command)
        command.add_argument("--name", required=True, help="the operator's sign-in name")
        command.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
    disable = operator_verbs.add_parser(
        "disable", help="disable an operator for good (no sign-in; its sessions end)"
    )
    _database(disable)
    disable.add_argument("--name", required=True, help="the operator's sign-in name")
    clients = commands.add_parser("clients", help="manage API clients")
    verbs = clients.add_subparsers(dest="clients_command", required=True)
    create = verbs.add_parser("create", help="create a client; prints its secret once")
    _database(create)
    create.add_argument("--tenant", required=True, help="the tenant the client belongs to")
    create.add_argument(
        "--scopes",
        required=True,
        help="space-separated scopes, e.g. 'connector-protimeapi-webhooks.read ...' or 'all' "
        "(every Protime scope); add 'workhooks-operator' to manage clients over the API",
    )
    listing = verbs.add_parser("list", help="list clients (revoked ones included)")
    _database(listing)
    listing.add_argument("--tenant", help="only this tenant's clients")
    revoke = verbs.add_parser("revoke", help="revoke a client: its tokens stop working at once")
    _database(revoke)
    revoke.add_argument("client_id")
    rotate = verbs.add_parser(
        "rotate-secret", help="give a client a new secret (printed once); the old one stops"
    )
    _database(rotate)
    rotate.add_argument("client_id")

    keys = commands.add_parser("signing-keys", help="token signing keys")
    key_verbs = keys.add_subparsers(dest="keys_command", required=True)
    rotate_keys = key_verbs.add_parser(
        "rotate", help="sign tokens with a new key; older keys verify until their tokens expire"
    )
    _database(rotate_keys)

    master = commands.add_parser("master-key", help="the key that encrypts secrets at rest")
    master_verbs = master.add_subparsers(dest="master_command", required=True)
    create_master = master_verbs.add_parser(
        "create", help="print a new master key, or write it to a file readable by you only"
    )
    create_master.add_argument("--file", type=Path, help="write the key here (never overwrites)")
    reseal = master_verbs.add_parser(
        "rotate",
        help="re-encrypt every secret under the first configured master key "
        "(WORKHOOKS_MASTER_KEY='new,old' or one key per line in the key file)",
    )
    _database(reseal)


def _client_info(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "tenant": client.tenant,
        "scopes": sorted(client.scopes),
        "created_at": client.created_at.isoformat(),
        "revoked_at": None if client.revoked_at is None else client.revoked_at.isoformat(),
    }


def _with_secret(new: NewClient, settings: Settings) -> dict[str, Any]:
    token_url = f"{settings.server.base_url}/tenants/{new.client.tenant}/connect/token"
    return {**_client_info(new.client), "client_secret": new.secret, "token_url": token_url}


def _print(info: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(info))
        return
    for name, value in info.items():
        shown = " ".join(value) if isinstance(value, list) else value
        note = "   (shown once; store it now)" if name == "client_secret" else ""
        print(f"{name + ':':<14} {'-' if shown is None else shown}{note}")


async def _clients(args: argparse.Namespace, settings: Settings) -> Any:
    from workhooks.bootstrap import runtime

    async with runtime(settings) as rt:
        clients = rt.services.clients
        if args.clients_command == "create":
            new = await clients.create(args.tenant, require_scopes(args.scopes.split()))
            return _with_secret(new, settings)
        if args.clients_command == "list":
            return [_client_info(c) for c in await clients.list(tenant=args.tenant)]
        if args.clients_command == "revoke":
            return _client_info(await clients.revoke(args.client_id))
        return _with_secret(await clients.rotate_secret(args.client_id), settings)


async def _rotate_signing_key(settings: Settings) -> dict[str, Any]:
    from workhooks.bootstrap import runtime

    async with runtime(settings) as rt:
        key = await rt.services.auth.rotate_signing_key()
    return {"kid": key.kid, "created_at": key.created_at.isoformat()}


async def _reseal(settings: Settings) -> dict[str, Any]:
    from workhooks.bootstrap import runtime

    async with runtime(settings) as rt:
        return {"resealed": await rt.store.reseal_secrets()}


def _create_master_key(path: Path | None) -> None:
    if path is None:
        print(encode_master_key(new_master_key()))
        return
    create_key_file(path)
    print(f"master key written to {path} (mode 0600); set WORKHOOKS_MASTER_KEY_FILE={path}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise ConfigError("the passwords differ")
    return password


async def _operators(args: argparse.Namespace, settings: Settings, password: str) -> Any:
    from workhooks.bootstrap import runtime

    async with runtime(settings) as rt:
        if args.operators_command == "create":
            await rt.services.sessions.create_operator(args.name, password)
            return {"operator": args.name, "done": "created"}
        if args.operators_command == "disable":
            await rt.services.sessions.disable_operator(args.name)
            await rt.services.console.record(
                "cli", AuditAction.OPERATOR_DISABLE, detail=f"operator {args.name}"
            )
            return {"operator": args.name, "done": "disabled; its sessions ended"}
        await rt.services.sessions.set_password(args.name, password)
        return {"operator": args.name, "done": "password set"}


def _admin_settings(settings: Settings) -> Settings:
    """Without a configured master key, a development database's key file is used."""
    configured = settings.security.master_key or settings.security.master_key_file
    if not configured and dev_key_path(settings.storage.database_url).exists():
        return dataclasses.replace(settings, dev=True)
    return settings


def run_admin_command(args: argparse.Namespace, run: Runner) -> int:
    """Run a ``clients``, ``signing-keys``, ``master-key`` or ``operators`` command."""
    if args.command == "master-key" and args.master_command == "create":
        _create_master_key(args.file)
        return 0
    settings = _admin_settings(Settings.from_env(database_url=args.database_url))
    try:
        if args.command == "clients":
            result = run(_clients(args, settings))
        elif args.command == "operators":
            needs_password = args.operators_command != "disable"
            password = _read_password(args.password_stdin) if needs_password else ""
            result = run(_operators(args, settings, password))
        elif args.command == "signing-keys":
            result = run(_rotate_signing_key(settings))
        else:
            result = run(_reseal(settings))
    except WorkhooksError as exc:
        reasons = "".join(f"\n  {r}" for r in exc.reasons)
        print(f"workhooks: {exc.message}{reasons}", file=sys.stderr)
        # Bad input (a tenant name, scopes) is a usage error; anything else failed.
        return 2 if isinstance(exc, InvalidRequestError) else 1
    if isinstance(result, list):
        if args.json:
            print(json.dumps(result))
        for info in [] if args.json else result:
            _print(info, as_json=False)
            print()
    else:
        _print(result, as_json=args.json)
    return 0
