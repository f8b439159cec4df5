"""The integrator's first hour: the README tour runs as printed, and the wrappers pass signals on.

The demo runs as a real process through ``scripts/demo.py``; the tour it prints is the
README's block with real values, and running that block in bash works against it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, workhooks_env
from workhooks.demo import receiver_base, tour

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
README_BASE = "http://127.0.0.1:8000"


def _readme_tour() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"```bash\n(CLIENT_ID=.*?)```", text, re.S)
    assert found is not None, "the README has no tour block"
    return found.group(1)


def _wait_for(log: Path, pattern: str, process: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found is not None:
            return found
        if process.poll() is not None:
            raise AssertionError(f"the demo exited early:\n{log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared:\n{log.read_text()}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_readme_tour_is_what_the_demo_prints_with_placeholders() -> None:
    """The README's block is the demo's tour for the default ports, id and secret left as <...>."""
    expected = tour(
        base=README_BASE,
        receiver=receiver_base(8001),
        client_id="<client id>",
        client_secret="<client secret>",
    )
    assert _readme_tour() == expected


def _start_demo(tmp_path: Path, port: int, receiver: int) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"demo-{time.monotonic_ns()}.log"
    args = [sys.executable, str(ROOT / "scripts" / "demo.py"), "--port", str(port)]
    args += ["--receiver-port", str(receiver), "--changes", "0"]
    args += ["--database-url", f"sqlite:///{tmp_path / 'demo.db'}"]
    env = workhooks_env(PYTHONUNBUFFERED="1", COLUMNS="200")
    with log.open("wb") as sink:
        return subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env), log


def _destinations(port: int, client_id: str, secret: str) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = httpx.post(f"{base}/tenants/demo/connect/token", data=form).json()["access_token"]
    found = httpx.get(
        f"{base}/connector/protimeapi/api/v1/webhooks",
        headers={"Authorization": f"Bearer {token}", "User-Agent": "Tests/1.0 (workhooks)"},
    ).json()["value"]
    return sorted(w["destinationUrl"] for w in found)


def test_demo_tour_runs_as_printed_and_sigterm_stops_the_server(tmp_path: Path) -> None:
    """The printed tour works in bash (tokens, a webhook to the local receiver, a write); SIGTERM
    to the wrapper stops the demo cleanly; the next run retires only the demo's own webhook."""
    port, receiver = free_port(), free_port()
    demo, log = _start_demo(tmp_path, port, receiver)
    try:
        ids = _wait_for(log, r"CLIENT_ID=(\S+) CLIENT_SECRET=(\S+)\n", demo)
        _wait_for(log, r"signed deliveries received", demo)
        printed = tour(
            base=f"http://127.0.0.1:{port}",
            receiver=receiver_base(receiver),
            client_id=ids.group(1),
            client_secret=ids.group(2),
        )
        assert printed in log.read_text()
        result = subprocess.run(
            ["bash", "-c", f"set -e\n{printed}"], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert '"destinationUrl":"http://127.0.0.1:' in result.stdout.replace(" ", "")
        assert '"durationInMinutes":15' in result.stdout.replace(" ", "")
        _wait_for(log, r"your webhook got InsertOrUpdate id=1", demo)
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0
        assert not _listening(port)
        demo, log = _start_demo(tmp_path, port, receiver)
        again = _wait_for(log, r"CLIENT_ID=(\S+) CLIENT_SECRET=(\S+)\n", demo)
        _wait_for(log, r"signed deliveries received", demo)
        hooks = f"{receiver_base(receiver)}/hooks"
        assert _destinations(port, again.group(1), again.group(2)) == [
            f"{hooks}/work-interruptions",
            f"{hooks}/yours",
        ]
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_wrapper_passes_sigint_and_sigterm_to_its_child(tmp_path: Path) -> None:
    """``_venv.run`` (behind scripts/demo.py and scripts/test.py) forwards each signal once."""
    marker = tmp_path / "child.log"
    child = (
        "import signal, sys, time, pathlib\n"
        f"out = pathlib.Path({str(marker)!r})\n"
        "def stop(signum, _):\n"
        "    out.write_text(out.read_text() + f'got {signum}\\n'); sys.exit(3)\n"
        "signal.signal(signal.SIGINT, stop); signal.signal(signal.SIGTERM, stop)\n"
        "out.write_text('ready\\n')\n"
        "while True: time.sleep(0.05)\n"
    )
    harness = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r})\n"
        "import _venv\n"
        f"sys.exit(_venv.run(__import__('pathlib').Path(sys.executable), ['-c', {child!r}]))\n"
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        marker.write_text("")
        wrapper = subprocess.Popen([sys.executable, "-c", harness], env=dict(os.environ))
        deadline = time.monotonic() + 30
        while "ready" not in marker.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        wrapper.send_signal(sig)
        assert wrapper.wait(timeout=30) == 3
        assert marker.read_text().splitlines() == ["ready", f"got {int(sig)}"]
