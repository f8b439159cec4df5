"""Runtimes of one session share built apps (tests/app_pool.py) but never each other's state."""

from __future__ import annotations

from tests.app_pool import APPS
from tests.conftest import API, ApiFactory, open_api
from workhooks.config import Settings

MEMORY = Settings.of(database_url="memory://", dev=False)


async def test_runtimes_open_at_once_get_apps_of_their_own(api_factory: ApiFactory) -> None:
    """A token of one open runtime is unknown to another: each app serves its own services."""
    first = await api_factory(MEMORY)
    second = await api_factory(MEMORY)
    assert first.rt.app is not second.rt.app
    headers = await first.headers()
    assert (await first.http.get(f"{API}/webhooks", headers=headers)).status_code == 200
    assert (await second.http.get(f"{API}/webhooks", headers=headers)).status_code == 401


async def test_a_reused_app_serves_the_new_runtime_only() -> None:
    """After a runtime closes, the next one may get its app, with a fresh store behind it."""
    async with open_api(MEMORY) as before:
        headers = await before.headers()
        app = before.rt.app
    async with open_api(MEMORY) as after:
        assert after.rt.app is app
        assert after.rt.app.state["services"] is after.rt.services
        assert (await after.http.get(f"{API}/webhooks", headers=headers)).status_code == 401
    assert not APPS.lent(app)
