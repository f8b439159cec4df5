"""One logging setup for every workhooks process: text or JSON lines on stderr.

``WORKHOOKS_LOG_LEVEL`` sets the level of our loggers (``workhooks.*``) and of uvicorn's;
other libraries log warnings and worse. Every line goes through ``redact`` first, so a
secret that reaches a message by mistake (a DSN password, a webhook key, a bearer token)
is masked rather than written out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

__all__ = ["LOG_FORMATS", "LOG_LEVELS", "configure_logging", "redact"]

LOG_FORMATS = ("text", "json")
LOG_LEVELS = {"trace": 5, "debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# What a secret looks like wherever it might slip into a line.
_SECRETS = (
    (re.compile(r"(\w+://[^/\s:@]*:)[^@\s/]+@"), r"\1***@"),  # URL password
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), "whsec_***"),  # webhook signing key
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),  # access or metrics token
    (re.compile(r"(?i)\b(client_secret|password|token)(\"?\s*[=:]\s*\"?)[^\s\"&,]+"), r"\1\2***"),
)
# Attributes every LogRecord has; anything else was passed with ``extra=`` and is a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


def redact(text: str) -> str:
    """``text`` with anything shaped like a secret masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _RedactingText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False))


def configure_logging(*, level: str = "info", fmt: str = "text") -> None:
    """Send every process's log lines to stderr, as ``text`` or ``json``, at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines() if fmt == "json" else _RedactingText(_TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in ("workhooks", "uvicorn"):
        logging.getLogger(name).setLevel(LOG_LEVELS[level.lower()])
