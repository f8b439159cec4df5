"""Each distribution's wheel, installed alone into a fresh virtual environment, works there.

Dependencies come from the package index, held to the lock file's versions (pip's cache
makes this quick); the dependency floors are proven separately by ``scripts/floors.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = {"litestar", "uvicorn", "asyncpg", "prometheus-client", "pyjwt", "cryptography"}
SDK_CHECK = """
import datetime as dt
from workhooks.client import Client, InvalidSignatureError, verify
from workhooks.domain.signing import sign
key = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
import base64
secret = base64.b64decode(key.removeprefix("whsec_"))
body, now = b'{"changeVersion": "1"}', dt.datetime.now(dt.UTC)
stamp = int(now.timestamp())
headers = {"webhook-id": "m1", "webhook-timestamp": str(stamp)}
verify(key, headers={**headers, "webhook-signature": sign(secret, msg_id="m1",
       timestamp=stamp, body=body)}, body=body, now=now)
try:
    verify(key, headers={**headers, "webhook-signature": "v1,AAAA"}, body=body, now=now)
except InvalidSignatureError:
    print("sdk ok")
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both wheels, built from this checkout."""
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
            str(ROOT / "packaging" / "client"),
        ],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def lock_constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lock file's pins without hashes, as a pip constraints file."""
    lock = (ROOT / "requirements" / "dev.lock").read_text()
    path = tmp_path_factory.mktemp("constraints") / "lock.txt"
    path.write_text("".join(f"{m}\n" for m in re.findall(r"^\S+==\S+", lock, re.MULTILINE)))
    return path


def _fresh_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path / "bin"


def _pip(target: Path, *args: str) -> str:
    """Run this environment's pip against the fresh environment's python."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(target / "python"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A fresh virtual environment's bin directory."""
    return _fresh_venv(tmp_path / "venv")


def _install(bin_dir: Path, wheel: Path, wheels: Path, constraints: Path) -> set[str]:
    """Install one wheel (other wheels of this checkout findable); return what is installed."""
    _pip(bin_dir, "install", "-q", "-c", str(constraints), "--find-links", str(wheels), str(wheel))
    listed = json.loads(_pip(bin_dir, "list", "--format", "json"))
    return {entry["name"].lower().replace("_", "-") for entry in listed}


def test_sdk_distribution_installs_alone_and_verifies_signatures(
    installed: Path, wheels: Path, lock_constraints: Path
) -> None:
    """workhooks-client installs without any server dependency; its SDK verifies signatures,
    ``workhooks mirror`` runs, and server commands say the server is not installed."""
    (wheel,) = wheels.glob("workhooks_client-*.whl")
    names = _install(installed, wheel, wheels, lock_constraints)
    assert {"workhooks-client", "httpx", "msgspec", "aiohttp"} <= names
    assert not names & (SERVER_ONLY | {"workhooks"}), names
    sdk = subprocess.run([installed / "python", "-c", SDK_CHECK], capture_output=True, text=True)
    assert sdk.stdout.strip() == "sdk ok", sdk.stderr
    mirror = subprocess.run([installed / "workhooks", "mirror", "--help"], capture_output=True)
    assert mirror.returncode == 0, mirror.stderr
    serve = subprocess.run([installed / "workhooks", "serve"], capture_output=True, text=True)
    assert serve.returncode == 2
    assert "pip install workhooks" in serve.stderr


def test_server_distribution_brings_the_sdk_and_runs(
    installed: Path, wheels: Path, lock_constraints: Path, tmp_path: Path
) -> None:
    """workhooks installs with workhooks-client as its dependency; ``migrate`` and
    ``clients create`` work against a new SQLite database."""
    (wheel,) = wheels.glob("workhooks-*.whl")
    names = _install(installed, wheel, wheels, lock_constraints)
    assert {"workhooks", "workhooks-client"} | SERVER_ONLY <= names
    database = f"sqlite:///{tmp_path / 'dist.db'}"
    keyed = {**os.environ, "WORKHOOKS_MASTER_KEY": TEST_MASTER_KEY}
    migrate = subprocess.run(
        [installed / "workhooks", "migrate", "--database-url", database],
        capture_output=True,
        text=True,
        timeout=60,
        env=keyed,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "schema version" in migrate.stdout
    created = subprocess.run(
        [
            installed / "workhooks",
            "clients",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "all",
            "--json",
            "--database-url",
            database,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=keyed,
    )
    assert json.loads(created.stdout)["tenant"] == "acme", created.stderr
