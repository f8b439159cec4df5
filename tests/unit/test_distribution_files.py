"""Every source file belongs to exactly one of the two distributions built from this repository."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = (ROOT / "pyproject.toml", ROOT / "packaging" / "client" / "pyproject.toml")


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = tomllib.loads(path.read_text())
    return loaded


def test_the_sdk_owns_exactly_what_the_server_wheel_leaves_out() -> None:
    """workhooks-client's force-include list and the server wheel's exclude list name the same
    existing files, both distributions have one version, and the server depends on the SDK."""
    server, client = (_load(p) for p in PROJECTS)
    included: dict[str, str] = client["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    excluded: list[str] = server["tool"]["hatch"]["build"]["targets"]["wheel"]["exclude"]
    assert {source.removeprefix("../../") for source in included} == set(excluded)
    for source, target in included.items():
        assert target == source.removeprefix("../../src/")
        assert (ROOT / source.removeprefix("../../")).exists(), source
    version = server["project"]["version"]
    assert client["project"]["version"] == version
    requirements = [d.split("#")[0].strip() for d in server["project"]["dependencies"]]
    assert f"workhooks-client=={version}" in requirements
