"""The dependency rules of the architecture, checked on the import statements of every module."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

import workhooks

PACKAGE = Path(workhooks.__file__).parent

# package -> workhooks packages it must never import (architecture.md, "Layout and dependency
# rules"). The concrete stores have a rule of their own, for every module: CONCRETE_STORES.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (
        "workhooks.documents",
        "workhooks.services",
        "workhooks.storage",
        "workhooks.delivery",
        "workhooks.api",
        "workhooks.client",
        "workhooks.bootstrap",
        "workhooks.cli",
        "workhooks.config",
    ),
    # The wire documents: built from domain values, used by api, services and delivery alike.
    "documents": (
        "workhooks.services",
        "workhooks.storage",
        "workhooks.delivery",
        "workhooks.api",
        "workhooks.web",
        "workhooks.client",
        "workhooks.mirror",
        "workhooks.bootstrap",
        "workhooks.cli",
        "workhooks.config",
    ),
    "services": (
        "workhooks.api",
        "workhooks.delivery",
        "workhooks.bootstrap",
    ),
    "storage": ("workhooks.api", "workhooks.services", "workhooks.delivery", "workhooks.bootstrap"),
    "delivery": (
        "workhooks.api",
        "workhooks.services.auth",
        "workhooks.services.records",
        "workhooks.services.webhooks",
        "workhooks.bootstrap",
    ),
    "api": ("workhooks.delivery",),
    # Pages over the services: no store, no delivery engine, no composition root.
    "web": (
        "workhooks.storage",
        "workhooks.delivery",
        "workhooks.bootstrap",
        "workhooks.cli",
        "workhooks.config",
    ),
    "client": (
        "workhooks.api",
        "workhooks.services",
        "workhooks.storage",
        "workhooks.delivery",
        "workhooks.bootstrap",
    ),
    # The mirror is a consumer: it may use the SDK, never the server.
    "mirror": (
        "workhooks.api",
        "workhooks.services",
        "workhooks.storage",
        "workhooks.delivery",
        "workhooks.bootstrap",
    ),
}

# The domain is pure: only the standard library (and workhooks' own errors and domain).
DOMAIN_THIRD_PARTY_ALLOWED: frozenset[str] = frozenset()


# The concrete stores: only the storage package itself and the composition root (which picks
# one from the settings) may name them; every other module works against the Store protocol.
CONCRETE_STORES = (
    "workhooks.storage.postgres",
    "workhooks.storage.sqlite",
    "workhooks.storage.memory",
)
# The composition root: bootstrap, as a module or as the package it may be split into.
COMPOSITION_ROOT = ("bootstrap",)

_IMPORT_CALLS = frozenset({"import_module", "__import__"})


def _module_name(path: Path) -> str:
    """The dotted name of the workhooks module at ``path``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str, node: ast.ImportFrom, *, is_package: bool) -> str:
    """The absolute module of a ``from ... import`` in ``module`` (relative forms resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _dynamic_import(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("...")`` or ``__import__("...")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in _IMPORT_CALLS or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_in(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every workhooks or other module that ``source`` (the text of ``module``) may import.

    ``from m import x`` counts as importing ``m`` and ``m.x`` (``x`` may be a submodule);
    relative imports are resolved, and imports inside functions and by name through
    ``importlib.import_module`` count as well.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node, is_package=is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and (dynamic := _dynamic_import(node)) is not None:
            names.add(dynamic)
    return names


@functools.cache  # each module is read once per session, whichever rules check it
def _imports(path: Path) -> frozenset[str]:
    return frozenset(
        imports_in(
            path.read_text(encoding="utf-8"),
            _module_name(path),
            is_package=path.name == "__init__.py",
        )
    )


def _names_any(name: str, modules: tuple[str, ...]) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in modules)


def _modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_what_the_architecture_allows(package: str) -> None:
    """No module of a layer imports a package that the dependency table forbids to it."""
    broken = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if _names_any(name, FORBIDDEN[package])
    ]
    assert broken == []


def test_domain_uses_only_the_standard_library() -> None:
    """Domain modules import nothing outside the standard library and workhooks' own domain."""
    import sys

    outside = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("domain")
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith(("workhooks.domain", "workhooks.errors"))
        and name.split(".")[0] not in DOMAIN_THIRD_PARTY_ALLOWED
        and name.split(".")[0] != "__future__"
    ]
    assert outside == []


def test_the_checker_sees_imports() -> None:
    """The import scanner finds both import forms, so an empty result above means something."""
    found = _imports(PACKAGE / "bootstrap" / "building.py")
    assert "workhooks.storage.sqlite.store" in found


def test_running_builds_nothing_but_its_servers() -> None:
    """The one composition root is ``bootstrap/building.py``: ``running.py`` picks no store,
    service or delivery class; it runs what building made."""
    builders = ("workhooks.storage", "workhooks.services", "workhooks.delivery", "workhooks.domain")
    found = _imports(PACKAGE / "bootstrap" / "running.py")
    assert [name for name in found if name.startswith(builders)] == []
    assert "workhooks.bootstrap.building" in found
    assert "asyncio" in found


def test_documents_use_only_msgspec_and_the_domain() -> None:
    """Document modules import the standard library, msgspec and the domain, nothing else."""
    import sys

    outside = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("documents")
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "msgspec"
        and not name.startswith(("workhooks.documents", "workhooks.domain"))
        and name != "__future__"
    ]
    assert outside == []


def test_client_imports_only_the_sdk_dependencies() -> None:
    """The SDK uses the standard library, httpx, msgspec and the signing rules, nothing else."""
    import sys

    outside = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("client")
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in {"httpx", "msgspec"}
        and not name.startswith("workhooks.client")
        and not _names_any(name, ("workhooks.domain.signing",))
        and name.split(".")[0] != "__future__"
    ]
    assert outside == []


def _outside_storage_and_root() -> list[Path]:
    """Every module except the storage package and the composition root."""
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).with_suffix("").parts[0] not in ("storage", *COMPOSITION_ROOT)
    ]


def test_only_storage_and_the_composition_root_name_a_concrete_store() -> None:
    """Outside ``storage/`` and bootstrap no module imports PostgreSQL, SQLite or memory stores."""
    checked = _outside_storage_and_root()
    broken = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in checked
        for name in _imports(path)
        if _names_any(name, CONCRETE_STORES)
    ]
    assert broken == []
    # Every layer and every top-level module is read, not only the packages of the table.
    read = {path.relative_to(PACKAGE).parts[0] for path in checked}
    assert {*FORBIDDEN, "cli.py", "config.py", "testing.py", "demo.py"} - {"storage"} <= read
    assert not read & {"storage", "bootstrap.py"}


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("workhooks.api.app", "import workhooks.storage.postgres.store"),
        ("workhooks.api.app", "from workhooks.storage.postgres.store import PostgresStore"),
        ("workhooks.services.records", "from workhooks.storage import postgres"),
        ("workhooks.services.records", "from workhooks.storage.sqlite import store"),
        ("workhooks.api.app", "from ..storage.postgres import store"),
        ("workhooks.api.app", "from ..storage import memory"),
        ("workhooks.cli", "def run():\n    from workhooks.storage.postgres import store"),
        ("workhooks.demo", "import importlib\nimportlib.import_module('workhooks.storage.sqlite')"),
        ("workhooks.delivery.worker", "__import__('workhooks.storage.postgres.announcer')"),
    ],
)
def test_the_concrete_store_rule_catches_every_import_form(module: str, source: str) -> None:
    """Absolute, ``from``, relative, lazy and by-name imports of a concrete store are all seen."""
    assert any(_names_any(name, CONCRETE_STORES) for name in imports_in(source, module))


def test_relative_imports_resolve_against_their_package() -> None:
    """``from .x import y`` in a module and in a package ``__init__`` name the right module."""
    assert "workhooks.storage.postgres.store" in imports_in(
        "from .store import PostgresStore", "workhooks.storage.postgres", is_package=True
    )
    assert "workhooks.api.errors" in imports_in("from . import errors", "workhooks.api.app")
