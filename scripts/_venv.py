"""Create and refresh the project's virtual environment from the committed lock file.

Used by ``scripts/demo.py`` and ``scripts/test.py`` so that a fresh machine with only
Python 3.11+ needs nothing installed by hand.
"""

from __future__ import annotations

import hashlib
import os
import signal
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


_FORWARDED = (signal.SIGINT, signal.SIGTERM)


def run(python: Path, args: list[str]) -> int:
    """Run the venv's python with ``args`` from the repository root; return its exit code.

    SIGINT and SIGTERM sent to this wrapper are passed on to the child, which then stops as
    it would on its own (a server finishes its shutdown). The child runs in its own process
    group, so a Ctrl-C in the terminal reaches it once, through here, not twice.
    """
    group = 0 if os.name == "posix" else None
    child = subprocess.Popen([str(python), *args], cwd=ROOT, process_group=group)

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in _FORWARDED}
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Killed by a signal: the shell's convention, 128 + the signal number.
    return code if code >= 0 else 128 - code
