"""Where the master key comes from: production mode needs one; development mode keeps one in
a local file readable by its owner only, so the demo needs no setup."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from workhooks.config import ConfigError, Settings
from workhooks.master_key import create_key_file, load_sealer
from workhooks.storage.sealing import Sealer, encode_master_key, new_master_key


def test_production_mode_without_a_master_key_refuses_to_start(tmp_path: Path) -> None:
    """No key, no development mode: a clear error that says how to make one."""
    settings = Settings.of(database_url=f"sqlite:///{tmp_path}/p.db")
    with pytest.raises(ConfigError, match="workhooks master-key create"):
        load_sealer(settings)


def test_development_mode_keeps_a_private_key_file_beside_the_database(tmp_path: Path) -> None:
    """The first start writes ``<database>.master-key`` (0600); later starts use it again."""
    settings = Settings.of(database_url=f"sqlite:///{tmp_path}/dev.db", dev=True)
    first = load_sealer(settings)
    key_file = tmp_path / "dev.db.master-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_sealer(settings).current_key_id == first.current_key_id


def test_a_key_file_holds_the_ring_newest_first(tmp_path: Path) -> None:
    """A key file with two lines seals with the first and opens with both."""
    new, old = new_master_key(), new_master_key()
    path = tmp_path / "ring.key"
    path.write_text(f"{encode_master_key(new)}\n{encode_master_key(old)}\n")
    path.chmod(0o600)
    sealer = load_sealer(Settings.of(master_key_file=str(path)))
    assert sealer.current_key_id == Sealer([new]).current_key_id
    sealed_by_old = Sealer([old]).seal(b"x", context="c")
    assert sealer.open(sealed_by_old, context="c") == b"x"


def test_a_key_file_others_can_read_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A master key file readable by group or others still works, with a warning to chmod it."""
    path = tmp_path / "open.key"
    create_key_file(path)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="workhooks"):
        load_sealer(Settings.of(master_key_file=str(path)))
    assert "chmod 600" in caplog.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"master_key": "AAAA", "master_key_file": "/x"}, "not both"),
        ({"master_key": "AAAA"}, "WORKHOOKS_MASTER_KEY: a master key must be 32 bytes"),
        ({"master_key_file": "/nonexistent/master.key"}, "cannot read /nonexistent/master.key"),
    ],
)
def test_unusable_master_key_settings_are_refused_clearly(
    overrides: dict[str, str], message: str
) -> None:
    """Both settings at once, a malformed key or an unreadable file: a ``ConfigError``."""
    with pytest.raises(ConfigError, match=message):
        load_sealer(Settings.of(**overrides))


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    """``master-key create --file`` refuses an existing file (it may hold the only key)."""
    path = tmp_path / "master.key"
    create_key_file(path)
    before = path.read_text()
    with pytest.raises(ConfigError, match="never overwritten"):
        create_key_file(path)
    assert path.read_text() == before
