"""The logging setup: secrets masked, JSON lines, webhook state lines and limited failure lines."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator

import pytest

from workhooks.delivery.sender import SendResult
from workhooks.delivery.state_log import FailureLog, WebhookStateLog
from workhooks.domain.retry import FailureClass
from workhooks.domain.webhooks import Collection, Webhook, WebhookStatus
from workhooks.logs import configure_logging, redact

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class Lines(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, Lines]]:
    """A logger of its own and the records it emits."""
    logger = logging.getLogger("workhooks.tests.logs")
    lines = Lines()
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, lines
    logger.removeHandler(lines)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting to postgresql://workhooks:hunter2@db:5432/hooks", "hunter2"),
        ("key whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw made", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl", "eyJhbGciOi"),
        ("grant_type=client_credentials&client_secret=s3cr3t-value", "s3cr3t-value"),
        ('{"password": "pa55word"}', "pa55word"),
    ],
)
def test_redact_masks_secrets_wherever_they_appear(text: str, secret: str) -> None:
    """DSN passwords, webhook keys, bearer tokens and secret form fields are masked."""
    masked = redact(text)
    assert secret not in masked
    assert "***" in masked


def test_redact_leaves_ordinary_lines_alone() -> None:
    """A line without secrets is unchanged (URLs without passwords included)."""
    line = "webhook wh_1 (tenant acme) failing: timeout from https://example.com:443"
    assert redact(line) == line


def test_json_format_writes_one_object_per_line_with_extra_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In JSON mode each line parses as an object with level, logger, message and extras,
    and secrets in the message are masked there too."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("workhooks").level)
    try:
        configure_logging(level="debug", fmt="json")
        logging.getLogger("workhooks.x").debug(
            "dsn postgresql://u:pw123@h/d", extra={"webhook_id": "wh_1"}
        )
        logging.getLogger("other.library").info("not shown: other libraries log warnings")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("workhooks").setLevel(saved[2])
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "debug"
    assert entry["logger"] == "workhooks.x"
    assert entry["webhook_id"] == "wh_1"
    assert "pw123" not in line


def test_failure_lines_are_limited_per_period_and_the_rest_counted(
    captured: tuple[logging.Logger, Lines],
) -> None:
    """At most ``burst`` lines per period; the next period's first line says how many were
    left out."""
    logger, lines = captured
    limited = FailureLog(logger, burst=3, period=dt.timedelta(seconds=60))
    for second in range(10):
        limited.failed(NOW + dt.timedelta(seconds=second), "failed %d", second, extra={})
    assert lines.messages == ["failed 0", "failed 1", "failed 2"]
    limited.failed(NOW + dt.timedelta(seconds=61), "failed %d", 61, extra={})
    assert lines.messages[3].startswith("7 delivery failure line(s) left out")
    assert lines.messages[4] == "failed 61"


def _webhook(failures: int = 0) -> Webhook:
    return Webhook(
        id="wh_1",
        tenant="acme",
        destination_url="https://hooks.example.com/in?token=abc",
        collection=Collection.WORK_INTERRUPTIONS,
        secret=b"k" * 24,
        status=WebhookStatus.ENABLED,
        created_at=NOW,
        valid_until=NOW + dt.timedelta(days=30),
        cursor=0,
        failures=failures,
    )


def test_state_changes_each_log_one_line_naming_only_the_origin(
    captured: tuple[logging.Logger, Lines],
) -> None:
    """First failure, recovery and disabling each log one line with the webhook and tenant;
    a success of a healthy webhook logs nothing; the destination's path never appears."""
    logger, lines = captured
    state = WebhookStateLog(logger)
    failed = SendResult(status_code=500, failure=FailureClass.SERVER_ERROR, latency_ms=1)
    state.record(_webhook(), None, 0, None, disabled=None, now=NOW)
    state.record(_webhook(), failed, 1, NOW, disabled=None, now=NOW)
    state.record(_webhook(failures=3), None, 0, None, disabled=None, now=NOW)
    gone = SendResult(status_code=410, failure=FailureClass.GONE, latency_ms=1)
    state.record(_webhook(failures=1), gone, 2, None, disabled="Gone", now=NOW)
    events = [getattr(r, "event", None) for r in lines.records]
    assert events == ["failing", "recovered", "disabled"]
    assert "server_error (HTTP 500)" in lines.messages[0]
    assert "https://hooks.example.com:443" in lines.messages[0]
    assert all("token=abc" not in m and "/in" not in m for m in lines.messages)
    assert all(getattr(r, "tenant", None) == "acme" for r in lines.records)
