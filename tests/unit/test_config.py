"""Tests for ``workhooks.config.Settings.from_env``: env variables, CLI overrides, errors."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest

from workhooks.config import ConfigError, Settings


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
    assert settings.database_url == "postgresql://db/workhooks"
    assert settings.host == "0.0.0.0"
    assert settings.port == 9000
    assert settings.public_url == "https://hooks.example.com/"
    assert settings.dev is True
    assert settings.run_worker is False
    assert settings.delivery_timeout_seconds == 2.5
    assert settings.log_level == "debug"
    assert settings.base_url == "https://hooks.example.com"


def test_other_variables_are_ignored() -> None:
    """Variables without the exact ``WORKHOOKS_`` prefix do not change settings."""
    settings = Settings.from_env({"PORT": "1", "workhooks_port": "2", "WORKHOOKS_PORTS": "3"})
    assert settings.port == Settings().port


def test_given_mapping_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping passed in is the only source; without one ``os.environ`` is read."""
    monkeypatch.setenv("WORKHOOKS_PORT", "1234")
    assert Settings.from_env({}).port == 8000
    assert Settings.from_env().port == 1234


def test_cli_overrides_win_over_environment() -> None:
    """Non-None keyword overrides (the CLI flags) beat the environment, False included."""
    env = {"WORKHOOKS_PORT": "9000", "WORKHOOKS_DEV": "1", "WORKHOOKS_HOST": "10.0.0.1"}
    settings = Settings.from_env(env, port=7000, dev=False, host=None)
    assert settings.port == 7000
    assert settings.dev is False
    assert settings.host == "10.0.0.1"


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
    assert Settings.from_env({"WORKHOOKS_RUN_WORKER": raw}).run_worker is False


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
    assert settings.allowed_networks == (
        IPv4Network("10.0.0.0/8"),
        IPv4Network("192.168.1.0/24"),
        IPv6Network("fd00::/8"),
    )
    assert Settings.from_env({"WORKHOOKS_ALLOWED_NETWORKS": ""}).allowed_networks == ()


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
