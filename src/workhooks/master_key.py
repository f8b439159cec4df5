"""Where the master key comes from: a setting, a file, or (development mode only) a local file.

The master key seals the secrets the database holds (``storage/sealing.py``); it is never
stored in the database. Production mode refuses to start without one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from workhooks.config import ConfigError, Settings
from workhooks.storage.sealing import (
    MasterKeyError,
    Sealer,
    encode_master_key,
    new_master_key,
    parse_master_keys,
)

__all__ = ["create_key_file", "dev_key_path", "load_sealer"]

logger = logging.getLogger("workhooks")

_MISSING = (
    "no master key: webhook keys and token signing keys are stored encrypted under it. "
    "Create one with `workhooks master-key create --file /path/to/master.key` and set "
    "WORKHOOKS_MASTER_KEY_FILE=/path/to/master.key (or WORKHOOKS_MASTER_KEY=<the key>); "
    "development mode (--dev) keeps one in a local file instead"
)


def dev_key_path(database_url: str) -> Path:
    """The development key file: beside the SQLite file, else in the working directory."""
    if database_url.startswith("sqlite:///"):
        return Path(f"{database_url.removeprefix('sqlite:///')}.master-key")
    return Path("workhooks-dev.master-key")


def create_key_file(path: Path) -> None:
    """Write a new master key to ``path``, readable by its owner only; never overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError(f"{path} exists already; a master key file is never overwritten") from exc
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(encode_master_key(new_master_key()) + "\n")


def _read_key_file(path: Path, *, source: str) -> Sealer:
    try:
        text = path.read_text(encoding="ascii")
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read {path}: {exc}") from exc
    if mode & 0o077:
        logger.warning("%s: %s is readable by other users; chmod 600 it", source, path)
    return Sealer(parse_master_keys(text, source=f"{source} ({path})"))


def load_sealer(settings: Settings) -> Sealer:
    """The sealer of the configured master keys (newest first), or a clear ``ConfigError``."""
    security, database_url = settings.security, settings.storage.database_url
    try:
        if security.master_key and security.master_key_file:
            raise ConfigError("set WORKHOOKS_MASTER_KEY or WORKHOOKS_MASTER_KEY_FILE, not both")
        if security.master_key:
            return Sealer(parse_master_keys(security.master_key, source="WORKHOOKS_MASTER_KEY"))
        if security.master_key_file:
            return _read_key_file(
                Path(security.master_key_file), source="WORKHOOKS_MASTER_KEY_FILE"
            )
        if not settings.dev:
            raise ConfigError(_MISSING)
        path = dev_key_path(database_url)
        if not path.parent.is_dir():
            raise ConfigError(
                f"cannot open the database {database_url}: the folder {path.parent} does not exist"
            )
        if not path.exists():
            create_key_file(path)
            logger.warning("development mode: master key kept in %s", path)
        return _read_key_file(path, source="development master key")
    except MasterKeyError as exc:
        raise ConfigError(str(exc)) from exc
