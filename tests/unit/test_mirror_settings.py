"""``workhooks mirror`` settings and the check's pure parts: ranges, checksums, reports."""

from __future__ import annotations

import datetime as dt

import pytest

from workhooks.client.signatures import verify_request
from workhooks.config import ConfigError
from workhooks.mirror.check import RangeReport, checksum, month_ranges
from workhooks.mirror.settings import MirrorSettings

ENV = {
    "WORKHOOKS_MIRROR_SERVER_URL": "https://acme.example.com",
    "WORKHOOKS_MIRROR_TENANT": "acme",
    "WORKHOOKS_MIRROR_CLIENT_ID": "wh_1",
    "WORKHOOKS_MIRROR_CLIENT_SECRET": "s3cret",
    "WORKHOOKS_MIRROR_PORT": "9001",
    "WORKHOOKS_MIRROR_FROM": "2026-02-01",
    "WORKHOOKS_MIRROR_POLL_SECONDS": "2.5",
}


def test_environment_is_read_and_flags_win() -> None:
    """Every setting comes from ``WORKHOOKS_MIRROR_*``; a flag given overrides it."""
    settings = MirrorSettings.from_env(ENV, port=9002, tenant=None)
    assert settings.tenant == "acme"
    assert settings.port == 9002
    assert settings.poll_seconds == 2.5
    assert settings.date_from == dt.date(2026, 2, 1)
    assert settings.destination_url == "http://127.0.0.1:9002/hook"
    assert "s3cret" not in repr(settings)


def test_missing_required_settings_are_named() -> None:
    """Without server, tenant and credentials the error lists each missing flag."""
    with pytest.raises(
        ConfigError,
        match=r"--server-url \(or --environment\), --tenant, --client-id, --client-secret",
    ):
        MirrorSettings.from_env({})


def test_bad_values_are_config_errors() -> None:
    """A port or date that does not parse names its variable."""
    with pytest.raises(ConfigError, match="WORKHOOKS_MIRROR_PORT"):
        MirrorSettings.from_env({**ENV, "WORKHOOKS_MIRROR_PORT": "http"})
    with pytest.raises(ConfigError, match="WORKHOOKS_MIRROR_TO"):
        MirrorSettings.from_env({**ENV, "WORKHOOKS_MIRROR_TO": "31/12/2026"})


def test_scope_defaults_to_the_calendar_year_and_rejects_reversed_ranges() -> None:
    """Without dates the scope is this year; ``to`` before ``from`` is refused."""
    settings = MirrorSettings.from_env({k: v for k, v in ENV.items() if "FROM" not in k})
    scope = settings.scope(dt.date(2026, 11, 26))
    assert (scope.date_from, scope.date_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    reversed_range = MirrorSettings.from_env({**ENV, "WORKHOOKS_MIRROR_TO": "2026-01-01"})
    with pytest.raises(ConfigError):
        reversed_range.scope(dt.date(2026, 11, 26))


def test_month_ranges_cover_the_scope_exactly() -> None:
    """Months are consecutive, clipped to the scope, without gaps or overlaps."""
    ranges = list(month_ranges(dt.date(2026, 1, 15), dt.date(2026, 3, 10)))
    assert ranges == [
        (dt.date(2026, 1, 15), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 10)),
    ]


def test_checksum_depends_on_ids_and_versions_not_on_order() -> None:
    """The checksum changes with any id or version and ignores insertion order."""
    base = checksum({1: "A", 2: "B"})
    assert checksum({2: "B", 1: "A"}) == base
    assert checksum({1: "A", 2: "C"}) != base
    assert checksum({1: "A", 3: "B"}) != base


def test_a_differing_range_lists_missing_extra_and_stale_ids() -> None:
    """A report names each kind of difference with the ids concerned."""
    report = RangeReport(
        date_from=dt.date(2026, 1, 1),
        date_to=dt.date(2026, 1, 31),
        server={1: "A", 2: "B", 3: "C"},
        mirror={2: "B", 3: "X", 4: "D"},
    )
    assert not report.same
    lines = report.lines()
    assert lines[0].endswith("DIFFERENT")
    assert lines[1:] == ["  missing: 1", "  extra: 4", "  other version: 3"]


def test_an_environment_replaces_the_server_url() -> None:
    """``--environment`` alone is enough: API and token endpoint come from Protime's layout."""
    env = {k: v for k, v in ENV.items() if k != "WORKHOOKS_MIRROR_SERVER_URL"}
    settings = MirrorSettings.from_env({**env, "WORKHOOKS_MIRROR_ENVIRONMENT": "sandbox"})
    found = settings.endpoints()
    assert found.base_url == f"https://{settings.tenant}.myprotimesandbox.eu"
    assert found.token_url == (
        f"https://authentication.myprotimesandbox.eu/tenants/{settings.tenant}/connect/token"
    )


def test_token_url_and_issuer_pass_through_for_a_server_url() -> None:
    """``--token-url`` and ``--oidc-issuer`` reach the client unchanged."""
    settings = MirrorSettings.from_env(
        ENV, token_url="https://auth.example/token", oidc_issuer="https://auth.example"
    )
    found = settings.endpoints()
    assert (found.token_url, found.oidc_issuer) == (
        "https://auth.example/token",
        "https://auth.example",
    )


def test_a_verifier_is_imported_by_name() -> None:
    """``--verifier module:function`` loads that callable; a bad name is a ConfigError."""
    settings = MirrorSettings.from_env(ENV, verifier="workhooks.client.signatures:verify_request")
    assert settings.load_verifier() is verify_request
    assert MirrorSettings.from_env(ENV).load_verifier() is verify_request
    for bad in ("nowhere.module:f", "workhooks.client.signatures:missing", "workhooks:__version__"):
        with pytest.raises(ConfigError, match="VERIFIER"):
            MirrorSettings.from_env(ENV, verifier=bad).load_verifier()


def test_a_bad_environment_is_a_config_error() -> None:
    """An environment that is no domain names its variable."""
    with pytest.raises(ConfigError, match="ENVIRONMENT"):
        MirrorSettings.from_env(ENV, environment="ftp://nowhere").endpoints()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("WORKHOOKS_MIRROR_PORT", "99999"),
        ("WORKHOOKS_MIRROR_POLL_SECONDS", "0"),
        ("WORKHOOKS_MIRROR_RENEW_BEFORE_HOURS", "-1"),
    ],
)
def test_values_the_mirror_cannot_run_with_are_refused(name: str, raw: str) -> None:
    """A port out of range, no poll interval or a negative renewal margin name their variable."""
    with pytest.raises(ConfigError, match=name):
        MirrorSettings.from_env({**ENV, name: raw})
