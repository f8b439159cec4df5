#!/usr/bin/env python3
"""Make sure a headless Chromium and its driver are installed for the browser tests.

Usage: ``python3 scripts/browser.py``. Installs Debian's ``chromium`` and ``chromium-driver``
with apt-get when ``/usr/bin/chromium`` is absent; prints why and exits non-zero when it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")


def installed() -> bool:
    """Whether both the browser and its matching driver are present."""
    return CHROMIUM.exists() and DRIVER.exists()


def ensure() -> str | None:
    """Install the browser when missing; return ``None`` when ready, else the reason it is not."""
    if installed():
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available to install chromium"
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            return "installing chromium needs root (no sudo)"
        prefix = [sudo, "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, apt, "install", "-y", "--no-install-recommends", *PACKAGES]
    result = subprocess.run(install, env=env, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run([*prefix, apt, "update"], env=env, check=False, capture_output=True)
        result = subprocess.run(install, env=env, check=False, capture_output=True, text=True)
    if result.returncode != 0 or not installed():
        return f"apt-get install {' '.join(PACKAGES)} failed: {result.stderr.strip()[-300:]}"
    return None


def main() -> int:
    """Install when needed and report."""
    reason = ensure()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 1
    print(f"chromium ready at {CHROMIUM}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
