#!/usr/bin/env python3
"""Install the declared dependency floors and run the end-to-end smoke test on them.

Usage: ``python3 scripts/floors.py [pytest args...]``

Every direct dependency is pinned to the lowest version ``pyproject.toml`` (and the SDK's
``packaging/client/pyproject.toml``) allows ("lowest-direct": what they need in turn
resolves freely), both wheels are built and installed into a fresh ``.venv-floors``, and
the walking-skeleton test runs against that install, not against ``src/``. A floor that no
longer works fails here instead of on a user's machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

import _venv

ROOT = _venv.ROOT
FLOORS_VENV = ROOT / ".venv-floors"
PROJECTS = (ROOT, ROOT / "packaging" / "client")
OWN = {"workhooks", "workhooks-client"}
# Test tools come from the lock: only the product's own dependencies are at their floors.
TEST_TOOLS = ("pytest", "pytest-asyncio", "pytest-timeout", "hypothesis", "standardwebhooks")
SMOKE = ("tests/e2e/test_walking_skeleton.py",)

_FLOOR = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def floors() -> dict[str, str]:
    """The lowest allowed version of every direct dependency of both distributions."""
    found: dict[str, str] = {}
    for project in PROJECTS:
        meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
        for spec in meta["dependencies"]:
            name = re.split(r"[\[=<>!~;\s]", spec, maxsplit=1)[0].lower()
            if name in OWN:
                continue
            match = _FLOOR.match(spec)
            if match is None:
                raise SystemExit(f"{project.name}/pyproject.toml: {spec!r} has no >= floor")
            version = match[3]
            if found.setdefault(name, version) != version:
                raise SystemExit(f"{name}: the two distributions declare different floors")
    return found


def locked(names: tuple[str, ...]) -> list[str]:
    """``name==version`` of ``names`` as pinned by the development lock file."""
    pins = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", _venv.LOCK.read_text(), flags=re.MULTILINE))
    return [f"{name}=={pins[name]}" for name in names]


def build_wheels(python: Path, into: Path) -> list[Path]:
    """Build the server and SDK wheels with the development environment's hatchling."""
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(into),
            *map(str, PROJECTS),
        ],
        check=True,
    )
    return sorted(into.glob("*.whl"))


def main() -> int:
    """Build, install at the floors into a fresh venv, run the smoke test; its exit code."""
    python = _venv.ensure()
    pins = floors()
    print("==> dependency floors: " + " ".join(f"{n}=={v}" for n, v in pins.items()), flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(FLOORS_VENV)
    floor_python = FLOORS_VENV / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        wheels = build_wheels(python, Path(tmp))
        constraints = Path(tmp) / "floors.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in pins.items()))
        subprocess.run(
            [
                str(floor_python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-c",
                str(constraints),
                "--find-links",
                tmp,
                *map(str, wheels),
                *locked(TEST_TOOLS),
            ],
            check=True,
        )
    print("==> pytest on the floors", flush=True)
    # -p no:cacheprovider: leave the main environment's pytest cache alone.
    args = ["-m", "pytest", "-p", "no:cacheprovider", "-q", *SMOKE, *sys.argv[1:]]
    return subprocess.run([str(floor_python), *args], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
