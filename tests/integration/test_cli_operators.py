"""``workhooks operators``: create an account, then disable it for good (audited)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from workhooks.bootstrap import runtime
from workhooks.cli import main
from workhooks.config import Settings
from workhooks.testing import TEST_MASTER_KEY

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _keep_root_logging() -> Iterator[None]:
    """``main`` configures logging onto the captured stderr; undo it for the tests after."""
    handlers = list(logging.root.handlers)
    yield
    logging.root.handlers[:] = handlers


async def test_a_disabled_operator_is_kept_disabled_and_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``operators disable`` marks the account disabled and writes who did it; unknown is 2."""
    db = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv("WORKHOOKS_MASTER_KEY", TEST_MASTER_KEY)
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    create = ["operators", "create", "--name", "ada", "--password-stdin", "--database-url", db]
    assert await _run(create) == 0
    assert await _run(["operators", "disable", "--name", "ada", "--database-url", db]) == 0
    assert "disabled; its sessions ended" in capsys.readouterr().out
    assert await _run(["operators", "disable", "--name", "bob", "--database-url", db]) == 2
    settings = Settings.of(database_url=db, master_key=TEST_MASTER_KEY)
    async with runtime(settings) as rt:
        operator = await rt.store.get_operator("ada")
        assert operator is not None
        assert operator.disabled_at is not None
        audit = await rt.services.console.audit()
        assert (audit[0].actor, audit[0].action.value, audit[0].detail) == (
            "cli",
            "operator-disable",
            "operator ada",
        )


async def _run(argv: list[str]) -> int:
    """``main`` runs its own event loop: call it off this one."""
    return await asyncio.to_thread(main, argv)
