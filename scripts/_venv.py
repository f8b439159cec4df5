"""Create and refresh the project's virtual environment from the committed lock file.

Used by ``scripts/demo.py`` and ``scripts/test.py`` so that a fresh machine with only
Python 3.11+ needs nothing installed by hand.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("WORKHOOKS_VENV", ROOT / ".venv"))
LOCK = ROOT / "requirements" / "dev.lock"
STAMP = VENV / ".workhooks-lock.sha256"


def bin_path(name: str) -> Path:
    """Return the path of an executable inside the virtual environment."""
    folder = "Scripts" if os.name == "nt" else "bin"
    return VENV / folder / name


def _fingerprint() -> str:
    digest = hashlib.sha256(LOCK.read_bytes())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure() -> Path:
    """Make sure the venv exists and matches the lock file; return its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be run by an older python
        sys.exit("workhooks needs Python 3.11 or newer")
    python = bin_path("python")
    wanted = _fingerprint()
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    print(f"Setting up {VENV} from {LOCK.relative_to(ROOT)} ...", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(LOCK)], check=True)
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True
    )
    STAMP.write_text(wanted)
    return python


def run(python: Path, args: list[str]) -> int:
    """Run the venv's python with ``args`` from the repository root; return its exit code."""
    try:
        return subprocess.run([str(python), *args], cwd=ROOT, check=False).returncode
    except KeyboardInterrupt:
        return 130
