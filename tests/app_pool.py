"""Litestar apps built once per test session and lent to the runtimes of the tests.

Building the app (route registration, signature parsing, the OpenAPI document) is the bulk of
opening a runtime, while everything a test can change lives in what the app reads per
request from ``app.state``: the services (store, clock, sender, worker), metrics, rate
limits, readiness. So a runtime still gets a fresh store, services and worker for every
test; only the route table is reused. ``create_app`` is replaced, wherever the composition
root looks it up, by ``AppPool.create_app``: it lends a free app with its state set from the
call's arguments, or builds one when none is free. ``open_api`` gives the app back when its
runtime has closed, so two runtimes open at once never share an app.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar

import workhooks.api.app
from workhooks.services.container import Services

__all__ = ["APPS", "AppPool"]

# State entries that depend on no argument of ``create_app`` (the page renderer: templates).
_SHARED_STATE = frozenset({"pages"})
# Arguments that shape the app itself, not its state: only the defaults are pooled.
_SHAPING = ("lifespan", "debug")


class AppPool:
    """Free apps to lend; the real ``create_app`` builds a new one when none is free."""

    def __init__(self, build: Callable[..., Litestar]) -> None:
        self._build = build
        self._signature = inspect.signature(build)
        self._free: list[Litestar] = []
        self._lent: set[int] = set()
        self.built = 0
        self.reused = 0

    def create_app(self, services: Services, **options: Any) -> Litestar:
        """``create_app`` for tests: the app of these arguments, reused when one is free."""
        bound = self._signature.bind(services, **options)
        bound.apply_defaults()
        arguments = bound.arguments
        if any(arguments[name] != self._signature.parameters[name].default for name in _SHAPING):
            return self._build(services, **options)
        if self._free:
            app = self._free.pop()
            unknown = set(app.state.keys()) - set(arguments) - _SHARED_STATE
            assert not unknown, f"create_app keeps {unknown} in app.state: teach tests/app_pool.py"
            app.state.update({name: arguments[name] for name in app.state.keys() & arguments})
            self.reused += 1
        else:
            app = self._build(services, **options)
            self.built += 1
        self._lent.add(id(app))
        return app

    def lent(self, app: Litestar) -> bool:
        """Whether ``app`` came from this pool and has not been given back."""
        return id(app) in self._lent

    def give_back(self, app: Litestar) -> None:
        """Return an app whose runtime has closed; the next runtime may take it."""
        if id(app) in self._lent:
            self._lent.discard(id(app))
            self._free.append(app)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Replace ``create_app`` in every loaded workhooks module that holds it."""
        holders = [
            module
            for name, module in list(sys.modules.items())
            if name.startswith("workhooks.") and getattr(module, "create_app", None) is self._build
        ]
        for module in holders:
            module.create_app = self.create_app  # type: ignore[attr-defined]
        try:
            yield
        finally:
            for module in holders:
                module.create_app = self._build  # type: ignore[attr-defined]


APPS = AppPool(workhooks.api.app.create_app)
