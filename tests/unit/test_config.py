"""Tests for ``workhooks.config.Settings.from_env``: env variables, CLI overrides, errors."""

from __future__ import annotations

import datetime as dt
from ipaddress import IPv4Network, IPv6Network

import pytest

from workhooks.config import (
    ConfigError,
    DeliverySettings,
    Settings,
    StorageSettings,
    env_name,
    setting_fields,
)
from workhooks.domain.retry import DEFAULT_RETRY_SCHEDULE


def test_empty_environment_gives_the_defaults() -> None:
    """Without ``WORKHOOKS_*`` variables every setting keeps its default."""
    assert Settings.from_env({}) == Settings()
    assert Settings().dev is False


def test_reads_workhooks_variables_from_the_mapping() -> None:
    """Each ``WORKHOOKS_<NAME>`` variable sets the field of that name, converted to its type."""
    settings = Settings.from_env(
        {
            "WORKHOOKS_DATABASE_URL": "postgresql://db/workhooks",
            "WORKHOOKS_HOST": "0.0.0.0",
            "WORKHOOKS_PORT": " 9000 ",
            "WORKHOOKS_PUBLIC_URL": "https://hooks.example.com/",
            "WORKHOOKS_DEV": "true",
            "WORKHOOKS_RUN_WORKER": "no",
            "WORKHOOKS_DELIVERY_TIMEOUT_SECONDS": "2.5",
            "WORKHOOKS_LOG_LEVEL": "debug",
        }
    )
    assert settings.storage.database_url == "postgresql://db/workhooks"
    assert settings.server.host == "0.0.0.0"
    assert settings.server.port == 9000
    assert settings.server.public_url == "https://hooks.example.com/"
    assert settings.dev is True
    assert settings.server.run_worker is False
    assert settings.delivery.delivery_timeout_seconds == 2.5
    assert settings.server.log_level == "debug"
    assert settings.server.base_url == "https://hooks.example.com"


def test_other_variables_are_ignored() -> None:
    """Variables without the exact ``WORKHOOKS_`` prefix do not change settings."""
    settings = Settings.from_env({"PORT": "1", "workhooks_port": "2", "WORKHOOKS_PORTS": "3"})
    assert settings.server.port == Settings().server.port


def test_given_mapping_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping passed in is the only source; without one ``os.environ`` is read."""
    monkeypatch.setenv("WORKHOOKS_PORT", "1234")
    assert Settings.from_env({}).server.port == 8000
    assert Settings.from_env().server.port == 1234


def test_cli_overrides_win_over_environment() -> None:
    """Non-None keyword overrides (the CLI flags) beat the environment, False included."""
    env = {"WORKHOOKS_PORT": "9000", "WORKHOOKS_DEV": "1", "WORKHOOKS_HOST": "10.0.0.1"}
    settings = Settings.from_env(env, port=7000, dev=False, host=None)
    assert settings.server.port == 7000
    assert settings.dev is False
    assert settings.server.host == "10.0.0.1"


def test_none_overrides_keep_the_defaults() -> None:
    """A CLI flag left unset (None) leaves the default in place."""
    assert Settings.from_env({}, port=None, public_url=None) == Settings()


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", " On "])
def test_true_spellings(raw: str) -> None:
    """The usual spellings of yes, in any case and with spaces, mean True."""
    assert Settings.from_env({"WORKHOOKS_DEV": raw}).dev is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_false_spellings(raw: str) -> None:
    """The usual spellings of no, and an empty value, mean False."""
    assert Settings.from_env({"WORKHOOKS_RUN_WORKER": raw}).server.run_worker is False


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("WORKHOOKS_DEV", "maybe"),
        ("WORKHOOKS_DEV", "2"),
        ("WORKHOOKS_PORT", "80x"),
        ("WORKHOOKS_PORT", "8000.0"),
        ("WORKHOOKS_PORT", ""),
        ("WORKHOOKS_DELIVERY_WINDOW", "many"),
        ("WORKHOOKS_DELIVERY_TIMEOUT_SECONDS", "fast"),
        ("WORKHOOKS_ALLOWED_NETWORKS", "10.0.0.0/33"),
        ("WORKHOOKS_ALLOWED_NETWORKS", "10.0.0.1/8"),
        ("WORKHOOKS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet"),
    ],
)
def test_bad_values_raise_config_error_naming_the_variable(name: str, raw: str) -> None:
    """A value that cannot be converted raises ``ConfigError`` that names the variable."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


def test_allowed_networks_parse_a_comma_list() -> None:
    """``WORKHOOKS_ALLOWED_NETWORKS`` is a comma list of networks; blanks are skipped."""
    settings = Settings.from_env(
        {"WORKHOOKS_ALLOWED_NETWORKS": " 10.0.0.0/8, 192.168.1.0/24,,fd00::/8 ,"}
    )
    assert settings.delivery.allowed_networks == (
        IPv4Network("10.0.0.0/8"),
        IPv4Network("192.168.1.0/24"),
        IPv6Network("fd00::/8"),
    )
    assert Settings.from_env({"WORKHOOKS_ALLOWED_NETWORKS": ""}).delivery.allowed_networks == ()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("WORKHOOKS_DELIVERY_CONCURRENCY", "0"),
        ("WORKHOOKS_PAGE_SIZE", "0"),
        ("WORKHOOKS_HISTORY_PAGE_SIZE", "-1"),
        ("WORKHOOKS_TOKEN_TTL_SECONDS", "-60"),
        ("WORKHOOKS_WEBHOOK_VALIDITY_DAYS", "0"),
        ("WORKHOOKS_HISTORY_RETENTION_DAYS", "0"),
        ("WORKHOOKS_PORT", "99999"),
        ("WORKHOOKS_PORT", "0"),
        ("WORKHOOKS_RETRY_SCHEDULE", "5,soon"),
        ("WORKHOOKS_RETRY_SCHEDULE", "5,-1"),
        ("WORKHOOKS_RETRY_SCHEDULE", " "),
        ("WORKHOOKS_DELIVERY_TIMEOUT_SECONDS", "0"),
        ("WORKHOOKS_POLL_INTERVAL_SECONDS", "nan"),
        ("WORKHOOKS_LEASE_SECONDS", "-1"),
        ("WORKHOOKS_LOG_LEVEL", "loud"),
        ("WORKHOOKS_DB_POOL_MIN", "20"),
    ],
)
def test_values_that_would_break_the_server_are_refused_at_start(name: str, raw: str) -> None:
    """Values that used to hang delivery, 500 every list, issue expired tokens or listen on a
    random port are refused when the settings are built, naming the variable."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("WORKHOOKS_EXCERPT_BYTES", "-1"),
        ("WORKHOOKS_FAILURE_EXCERPT_BYTES", "65537"),
    ],
)
def test_excerpt_sizes_are_bounded(name: str, raw: str) -> None:
    """Excerpt sizes outside 0 to 64 KiB (what the sender reads) are refused by name."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


def test_log_format_worker_port_and_level_are_read_and_checked() -> None:
    """``WORKHOOKS_LOG_FORMAT`` takes text or json, ``WORKHOOKS_WORKER_PORT`` a port, and an
    unknown log format or level stops with a message naming the variable."""
    settings = Settings.from_env({"WORKHOOKS_LOG_FORMAT": "json", "WORKHOOKS_WORKER_PORT": "9101"})
    assert (settings.server.log_format, settings.server.worker_port) == ("json", 9101)
    assert (Settings().server.log_format, Settings().server.worker_port) == ("text", 8001)
    with pytest.raises(ConfigError, match="WORKHOOKS_LOG_FORMAT must be text or json"):
        Settings.from_env({"WORKHOOKS_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="WORKHOOKS_LOG_LEVEL must be one of"):
        Settings.from_env({"WORKHOOKS_LOG_LEVEL": "loud"})


# Every variable of the previous, flat settings: grouping them must not rename one.
VARIABLES = {
    "WORKHOOKS_DATABASE_URL",
    "WORKHOOKS_HOST",
    "WORKHOOKS_PORT",
    "WORKHOOKS_PUBLIC_URL",
    "WORKHOOKS_DEV",
    "WORKHOOKS_RUN_WORKER",
    "WORKHOOKS_TOKEN_TTL_SECONDS",
    "WORKHOOKS_WEBHOOK_VALIDITY_DAYS",
    "WORKHOOKS_RETRY_SCHEDULE",
    "WORKHOOKS_DELIVERY_TIMEOUT_SECONDS",
    "WORKHOOKS_DELIVERY_WINDOW",
    "WORKHOOKS_DELIVERY_CONCURRENCY",
    "WORKHOOKS_WEBHOOK_CONCURRENCY",
    "WORKHOOKS_WINDOWS_IN_FLIGHT",
    "WORKHOOKS_MAX_WEBHOOKS_PER_TENANT",
    "WORKHOOKS_POLL_INTERVAL_SECONDS",
    "WORKHOOKS_HISTORY_RETENTION_DAYS",
    "WORKHOOKS_HISTORY_PAGE_SIZE",
    "WORKHOOKS_EXCERPT_BYTES",
    "WORKHOOKS_FAILURE_EXCERPT_BYTES",
    "WORKHOOKS_PAGE_SIZE",
    "WORKHOOKS_ALLOWED_NETWORKS",
    "WORKHOOKS_LOG_LEVEL",
    "WORKHOOKS_MAX_HEADER_BYTES",
    "WORKHOOKS_HEADER_TIMEOUT_SECONDS",
    "WORKHOOKS_BODY_TIMEOUT_SECONDS",
    "WORKHOOKS_MAX_CONNECTIONS",
    "WORKHOOKS_RATE_LIMIT_PER_SECOND",
    "WORKHOOKS_RATE_LIMIT_BURST",
    "WORKHOOKS_LOG_FORMAT",
    "WORKHOOKS_WORKER_PORT",
    "WORKHOOKS_METRICS_TOKEN",
    "WORKHOOKS_METRICS_WEBHOOK_SERIES",
    "WORKHOOKS_DB_POOL_MIN",
    "WORKHOOKS_DB_POOL_MAX",
    "WORKHOOKS_LEASE_SECONDS",
    "WORKHOOKS_CLAIM_BATCH",
    "WORKHOOKS_MASTER_KEY",
    "WORKHOOKS_MASTER_KEY_FILE",
    "WORKHOOKS_TOKEN_FAILURES_PER_CLIENT",
    "WORKHOOKS_TOKEN_FAILURES_PER_ADDRESS",
    "WORKHOOKS_CONSOLE_SESSION_MINUTES",
    "WORKHOOKS_PORTAL_LINK_MINUTES",
}


def test_the_variables_keep_their_names_and_each_belongs_to_one_group() -> None:
    """The grouped settings read exactly the variables the flat ones read, each once."""
    names = [env_name(f.name) for f in setting_fields()]
    assert sorted(names) == sorted(VARIABLES)


def test_every_variable_reaches_its_group() -> None:
    """A variable sets the field of its name in its group, and ``flat`` reads it back."""
    settings = Settings.from_env(
        {
            "WORKHOOKS_LEASE_SECONDS": "12",
            "WORKHOOKS_MAX_CONNECTIONS": "7",
            "WORKHOOKS_TOKEN_TTL_SECONDS": "60",
            "WORKHOOKS_PAGE_SIZE": "5",
            "WORKHOOKS_CLAIM_BATCH": "3",
        }
    )
    assert settings.storage.lease_seconds == 12.0
    assert settings.http.max_connections == 7
    assert settings.security.token_ttl_seconds == 60
    assert settings.api.page_size == 5
    assert settings.delivery.claim_batch == 3
    flat = dict(settings.flat())
    assert (flat["lease_seconds"], flat["page_size"], flat["dev"]) == (12.0, 5, False)
    assert set(flat) == {f.name for f in setting_fields()}


def test_settings_of_takes_flat_names_and_refuses_unknown_ones() -> None:
    """``Settings.of`` names values as their variables do; a name no variable has is refused."""
    assert Settings.of(port=9000, claim_batch=2).server.port == 9000
    assert Settings.of(port=9000, claim_batch=2).delivery.claim_batch == 2
    with pytest.raises(TypeError):
        Settings.of(no_such_setting=1)


def test_replace_changes_named_values_and_keeps_the_rest() -> None:
    """``replace`` changes a value wherever its group is and keeps every other value."""
    settings = Settings.of(database_url="memory://", dev=True, page_size=3)
    changed = settings.replace(log_level="warning")
    assert changed.server.log_level == "warning"
    assert (changed.storage, changed.api, changed.dev) == (settings.storage, settings.api, True)


def test_the_retry_schedule_is_parsed_once_into_delays() -> None:
    """``WORKHOOKS_RETRY_SCHEDULE`` becomes delays when read; its default is the domain's."""
    settings = Settings.from_env({"WORKHOOKS_RETRY_SCHEDULE": "5, 0.5"})
    assert settings.delivery.retry_schedule == (
        dt.timedelta(seconds=5),
        dt.timedelta(seconds=0.5),
    )
    assert Settings().delivery.retry_schedule == DEFAULT_RETRY_SCHEDULE


def test_a_group_built_directly_is_checked_too() -> None:
    """Values that skip the environment (tests, benchmarks) meet the same checks by name."""
    with pytest.raises(ConfigError, match="WORKHOOKS_CLAIM_BATCH must be at least 1"):
        DeliverySettings(claim_batch=0)
    with pytest.raises(ConfigError, match="WORKHOOKS_DB_POOL_MIN"):
        StorageSettings(db_pool_min=3, db_pool_max=2)
    with pytest.raises(ConfigError, match="WORKHOOKS_RETRY_SCHEDULE"):
        DeliverySettings(retry_schedule=(dt.timedelta(seconds=-1),))
