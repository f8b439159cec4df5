"""Defaults live in ``config.py`` alone: the layers take every setting as a required value."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from dataclasses import MISSING
from pathlib import Path
from typing import Any

import pytest

import workhooks
from workhooks.api.connections import ConnectionLimits
from workhooks.api.probes import create_probe_app
from workhooks.api.rate_limits import RateLimits
from workhooks.config import setting_fields
from workhooks.delivery.sender import AiohttpSender
from workhooks.delivery.worker import DeliveryWorker, WorkerOptions
from workhooks.services.auth import AuthService, FailureLimits
from workhooks.services.deliveries import DeliveryHistoryService
from workhooks.services.reads import ReadService
from workhooks.services.sessions import SessionService
from workhooks.services.webhooks import DestinationRules, WebhookService

PACKAGE = Path(workhooks.__file__).parent

# The SDK and the mirror are products of their own, with settings of their own.
OWN_SETTINGS = ("config.py", "client/", "mirror/")

# Defaults that the storage rewrite removes: the composition root always passes these.
AWAITING_STORAGE_REWRITE = {("storage/postgres/store.py", "lease_seconds")}

# Names of any socket address (a resolver's port, a test receiver's), not only this server's.
GENERIC_NAMES = {"host", "port"}


def _tuning_settings() -> set[str]:
    """Settings whose default is a value, not "nothing" (None, off, empty).

    A layer may take "nothing configured" as its own default (a rule defaults closed); any
    other default would be a second home for a value that ``config.py`` holds.
    """
    return {
        f.name
        for f in setting_fields()
        if f.default_factory is MISSING and f.default not in (None, False, (), "")
    } - GENERIC_NAMES


def _defaults(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(name, line) of every parameter and class attribute given a default in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            for arg in positional[len(positional) - len(args.defaults) :]:
                yield arg.arg, arg.lineno
            for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                if default is not None:
                    yield arg.arg, arg.lineno
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if (
                    isinstance(statement, ast.AnnAssign)
                    and statement.value is not None
                    and isinstance(statement.target, ast.Name)
                ):
                    yield statement.target.id, statement.lineno


def test_no_module_outside_config_gives_a_setting_a_default() -> None:
    """No parameter or field named after a setting has a default outside ``config.py``."""
    tuning = _tuning_settings()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith(OWN_SETTINGS):
            continue
        for name, line in _defaults(ast.parse(path.read_text(encoding="utf-8"))):
            if name in tuning and (module, name) not in AWAITING_STORAGE_REWRITE:
                found.append(f"{module}:{line} {name}")
    assert found == []


def test_the_scan_sees_a_default() -> None:
    """The scanner finds defaults of parameters and fields, so an empty result means something."""
    tree = ast.parse(
        "def f(a, page_size=1, *, lease_seconds=2.0): ...\n"
        "class C:\n    claim_batch: int = 3\n    other: int\n"
    )
    assert sorted(name for name, _ in _defaults(tree)) == [
        "claim_batch",
        "lease_seconds",
        "page_size",
    ]
    assert {"page_size", "lease_seconds", "claim_batch"} <= _tuning_settings()


# What the composition root builds from settings, and the parameters that carry them,
# whatever they are called there.
CONSUMERS: list[tuple[Callable[..., Any], tuple[str, ...]]] = [
    (
        WorkerOptions,
        (
            "window",
            "windows_in_flight",
            "webhook_concurrency",
            "origin_windows",
            "claim_batch",
            "poll_interval_seconds",
            "history_retention",
            "lease_renew_seconds",
            "excerpt_bytes",
            "failure_excerpt_bytes",
        ),
    ),
    (DeliveryWorker, ("policy", "options")),
    (AiohttpSender, ("timeout_seconds", "allow_loopback", "limit_per_host")),
    (
        ConnectionLimits,
        ("max_header_bytes", "header_timeout_seconds", "body_timeout_seconds", "max_connections"),
    ),
    (RateLimits, ("rate", "burst")),
    (FailureLimits, ("per_client", "per_address")),
    (AuthService, ("keys", "base_url", "token_ttl", "limits")),
    (WebhookService, ("rules", "validity", "max_enabled")),
    (DestinationRules, ()),
    (ReadService, ("page_size",)),
    (DeliveryHistoryService, ("page_size",)),
    (SessionService, ("key", "ttl", "link_ttl")),
    (create_probe_app, ("metrics", "metrics_token", "readiness")),
]


@pytest.mark.parametrize(
    ("consumer", "parameters"), CONSUMERS, ids=[c.__name__ for c, _ in CONSUMERS]
)
def test_what_a_setting_feeds_has_no_default_of_its_own(
    consumer: Callable[..., Any], parameters: tuple[str, ...]
) -> None:
    """Each parameter that carries a setting is required, so only the settings can fill it."""
    signature = inspect.signature(consumer)
    assert set(parameters) <= set(signature.parameters)
    defaulted = [
        name
        for name in parameters
        if signature.parameters[name].default is not inspect.Parameter.empty
    ]
    assert defaulted == []


def test_every_setting_is_read_outside_config() -> None:
    """Each setting is read by the code it tunes: none is parsed and then forgotten."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).as_posix() != "config.py"
    )
    unread = [f.name for f in setting_fields() if f".{f.name}" not in sources]
    assert unread == []
