"""``mirror check``'s comparison against the real app: equal copies pass, differences are named."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import msgspec
import pytest

from tests.conftest import Api, ApiFactory
from tests.integration.sdk_helpers import record, sync_sdk
from workhooks.client import PersonWrite, SqliteSink, SyncScope, Tombstone
from workhooks.config import Settings
from workhooks.mirror.check import compare, run_check
from workhooks.mirror.settings import MirrorSettings

pytestmark = pytest.mark.timeout(60)

SCOPE = SyncScope(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 3, 31))


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """The app on the in-memory store, with pages of two to exercise paging in the check."""
    return await api_factory(Settings.of(database_url="memory://", page_size=2))


async def test_check_finds_equal_ranges_and_names_each_difference(api: Api, tmp_path: Path) -> None:
    """A copy of the server compares equal month by month; each injected difference is named."""
    client, _ = await sync_sdk(api)
    with client, SqliteSink(str(tmp_path / "m.db")) as sink:
        await asyncio.to_thread(client.put_person, PersonWrite(id=1))
        written = await asyncio.to_thread(
            client.put_work_interruptions,
            [record(i, day=f"2025-0{1 + i % 3}-1{i}") for i in range(1, 8)],
        )
        sink.write(written, [])
        reports = await asyncio.to_thread(compare, client, sink, SCOPE)
        assert [r.same for r in reports] == [True, True, True]
        assert sum(len(r.server) for r in reports) == 7

        by_id = {r.id: r for r in written}
        sink.write([], [Tombstone(id=3, change_version="F" * 20)])  # missing in the copy
        stale = by_id[4]
        sink.write([msgspec.structs.replace(stale, change_version="0" * 20)], [])
        await asyncio.to_thread(client.delete_work_interruption, 5)  # extra in the copy
        reports = await asyncio.to_thread(compare, client, sink, SCOPE)
        lines = [line for r in reports for line in r.lines()]
        assert [r.same for r in reports] == [False, False, False]  # ids 3, 4, 5: Jan, Feb, Mar
        assert "  missing: 3" in lines
        assert "  other version: 4" in lines
        assert "  extra: 5" in lines


def test_check_of_a_missing_copy_exits_2_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mirror check`` on a database that does not exist says it cannot check (exit 2)."""
    db = tmp_path / "never-ran.db"
    settings = MirrorSettings(
        server_url="http://127.0.0.1:1", tenant="acme", client_id="c", client_secret="s", db=str(db)
    )
    assert run_check(settings) == 2
    assert "cannot check" in capsys.readouterr().err
    assert not db.exists()
