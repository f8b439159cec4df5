"""Bad settings and inputs stop the CLI with a clear message and exit code 2, never a traceback."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workhooks.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _keep_root_logging() -> Iterator[None]:
    """``main`` configures logging onto the captured stderr; undo it for the tests after."""
    handlers = list(logging.root.handlers)
    yield
    logging.root.handlers[:] = handlers


def _cases(tmp: Path) -> dict[str, tuple[list[str], dict[str, str], str]]:
    db = f"sqlite:///{tmp / 'w.db'}"
    return {
        "bad tenant": (
            ["clients", "create", "--tenant", "no spaces", "--scopes", "all", "--database-url", db],
            {},
            "Invalid tenant",
        ),
        "unopenable sqlite": (
            ["clients", "create", "--tenant", "acme", "--scopes", "all"],
            {"WORKHOOKS_DATABASE_URL": f"sqlite:///{tmp / 'missing' / 'dir' / 'w.db'}"},
            "cannot open the database",
        ),
        "unreachable postgres": (
            ["clients", "create", "--tenant", "acme", "--scopes", "all"],
            {"WORKHOOKS_DATABASE_URL": "postgresql://u:secret@127.0.0.1:1/none"},
            "cannot open the database postgresql://u:***@127.0.0.1:1/none",
        ),
        "bad retry schedule": (["worker"], {"WORKHOOKS_RETRY_SCHEDULE": "5,x"}, "RETRY_SCHEDULE"),
        "no delivery concurrency": (
            ["worker"],
            {"WORKHOOKS_DELIVERY_CONCURRENCY": "0"},
            "DELIVERY_CONCURRENCY",
        ),
        "page size zero": (["serve"], {"WORKHOOKS_PAGE_SIZE": "0"}, "PAGE_SIZE"),
        "negative token lifetime": (
            ["serve"],
            {"WORKHOOKS_TOKEN_TTL_SECONDS": "-5"},
            "TOKEN_TTL_SECONDS",
        ),
        "port out of range": (["serve", "--port", "99999"], {}, "not a TCP port"),
        "port out of range in the environment": (["serve"], {"WORKHOOKS_PORT": "99999"}, "PORT"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "bad tenant",
        "unopenable sqlite",
        "unreachable postgres",
        "bad retry schedule",
        "no delivery concurrency",
        "page size zero",
        "negative token lifetime",
        "port out of range",
        "port out of range in the environment",
    ],
)
def test_bad_input_exits_2_with_a_message(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each listed bad input ends the command at start: exit 2 and one line saying what is wrong."""
    args, env, message = _cases(tmp_path)[case]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as stop:  # argparse refuses a bad flag value itself
        code = int(stop.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert "secret" not in err


def test_the_process_prints_no_traceback(tmp_path: Path) -> None:
    """As a real process, an unopenable database is one line on stderr and exit code 2."""
    result = subprocess.run(
        [sys.executable, "-m", "workhooks", "worker", "--dev"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"WORKHOOKS_DATABASE_URL": f"sqlite:///{tmp_path / 'nope' / 'w.db'}", "PATH": ""},
        check=False,
    )
    assert result.returncode == 2
    assert "cannot open the database" in result.stderr
    assert "Traceback" not in result.stderr
