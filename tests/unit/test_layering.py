"""The dependency rules of the architecture, checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workhooks

PACKAGE = Path(workhooks.__file__).parent

# package -> workhooks packages it must never import (architecture.md, "Layout and dependency
# rules").
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
        "workhooks.storage.memory",
        "workhooks.storage.sqlite",
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
        "workhooks.storage.memory",
        "workhooks.storage.sqlite",
        "workhooks.bootstrap",
    ),
    "api": ("workhooks.storage.memory", "workhooks.storage.sqlite", "workhooks.delivery"),
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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_what_the_architecture_allows(package: str) -> None:
    """No module of a layer imports a package that the dependency table forbids to it."""
    broken = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules(package)
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
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
        and name != "__future__"
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
        and name != "workhooks.domain.signing"
        and name != "__future__"
    ]
    assert outside == []
