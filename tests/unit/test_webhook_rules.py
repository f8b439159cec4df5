"""Tests for the webhook rules in ``workhooks.domain.webhooks``: destinations and collections."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest

from workhooks.domain.webhooks import (
    MAX_DESTINATION_LENGTH,
    Collection,
    WebhookStatus,
    check_webhook_limit,
    cursor_moved_back,
    destination_origin,
    parse_collection,
    validate_destination,
)
from workhooks.errors import (
    InvalidDestinationError,
    TooManyWebhooksError,
    UnknownCollectionError,
)


def refusal(
    url: str,
    *,
    allow_http: bool = False,
    allow_loopback: bool = False,
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = (),
) -> str | None:
    """Return the joined reasons ``validate_destination`` gives for ``url``, or None if valid."""
    try:
        returned = validate_destination(
            url,
            allow_http=allow_http,
            allow_loopback=allow_loopback,
            allowed_networks=allowed_networks,
        )
    except InvalidDestinationError as exc:
        return " | ".join(exc.reasons)
    assert returned == url
    return None


def test_status_and_collection_values_are_the_wire_strings() -> None:
    """Webhook statuses and collections compare equal to their wire strings."""
    assert [s.value for s in WebhookStatus] == ["Enabled", "Disabled"]
    assert [c.value for c in Collection] == ["work-interruptions"]


# -- destinations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "https://example.com/hooks/work-interruptions?token=abc#frag",
        "https://example.com:8443/path",
        "https://hooks.example.co.uk./x",
        "https://93.184.216.34/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    ],
)
def test_https_destinations_are_accepted(url: str) -> None:
    """Absolute https URLs to public hosts are accepted and returned unchanged."""
    assert refusal(url) is None


def test_http_needs_development_mode() -> None:
    """Plain http is refused with a hint about development mode, and accepted with allow_http."""
    reason = refusal("http://example.com/hook")
    assert reason is not None
    assert "development mode" in reason
    assert reason.startswith("destinationUrl: ")
    assert refusal("http://example.com/hook", allow_http=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "https://LOCALHOST./hook",
        "https://api.localhost/hook",
    ],
)
def test_loopback_destinations_need_allow_loopback(url: str) -> None:
    """Loopback literals and ``localhost`` names are refused unless loopback is allowed."""
    reason = refusal(url)
    assert reason is not None
    assert "loopback" in reason
    assert refusal(url, allow_loopback=True) is None


def test_loopback_over_http_is_the_development_combination() -> None:
    """Development mode (http plus loopback) accepts a local http receiver."""
    assert refusal("http://127.0.0.1:9000/hook") is not None
    assert refusal("http://127.0.0.1:9000/hook", allow_http=True, allow_loopback=True) is None


def test_private_addresses_stay_refused_unless_allow_listed() -> None:
    """``allow_loopback`` does not open private ranges; an operator allow-list does."""
    url = "https://10.1.2.3/hook"
    assert refusal(url, allow_loopback=True) is not None
    assert refusal(url, allowed_networks=(IPv4Network("10.0.0.0/8"),)) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@example.com/hook",
        "https://user@example.com/hook",
        "https://@example.com/hook",
        "https://:pw@example.com/hook",
    ],
)
def test_user_info_is_refused(url: str) -> None:
    """Credentials in the URL are refused, even when empty."""
    reason = refusal(url)
    assert reason is not None
    assert "user info" in reason


def test_destination_length_is_limited() -> None:
    """A URL of 2,048 characters is accepted; one character more is refused."""
    prefix = "https://example.com/"
    longest = prefix + "a" * (MAX_DESTINATION_LENGTH - len(prefix))
    assert len(longest) == MAX_DESTINATION_LENGTH
    assert refusal(longest) is None
    reason = refusal(longest + "a")
    assert reason is not None
    assert str(MAX_DESTINATION_LENGTH) in reason


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "https://",
        "ftp://x",
        "https://exa mple.com",
        "",
        "example.com",
        "//example.com/hook",
        "javascript:alert(1)",
        "https:/example.com",
        "https://example.com:99999/",
        "https://example.com:port/",
        "https://[::1",
        "https://example.com/\n",
        "https://example.com/\x00",
        "https://:443/",
    ],
)
def test_garbage_is_refused(url: str) -> None:
    """Things that are not absolute https URLs with a host raise ``InvalidDestinationError``."""
    reason = refusal(url, allow_http=True, allow_loopback=True)
    assert reason is not None
    assert reason.startswith("destinationUrl: ")


# -- collections -----------------------------------------------------------------------------


def test_work_interruptions_is_a_webhook_collection() -> None:
    """The work-interruptions collection supports webhooks."""
    assert parse_collection("work-interruptions") is Collection.WORK_INTERRUPTIONS


@pytest.mark.parametrize(
    "name",
    ["people", "Work-Interruptions", "work_interruptions", "work-interruptions ", "", "webhooks"],
)
def test_other_collections_are_unknown(name: str) -> None:
    """Any other name raises ``UnknownCollectionError`` naming the field and the choices."""
    with pytest.raises(UnknownCollectionError) as caught:
        parse_collection(name)
    (reason,) = caught.value.reasons
    assert reason.startswith("collectionName: ")
    assert repr(name) in reason
    assert "work-interruptions" in reason


@pytest.mark.parametrize(
    "url",
    ["https://ex%20ample.com/", "https://exa$mple.com/", "https://-bad.example.com/"],
)
def test_host_names_must_be_plain_names(url: str) -> None:
    """A host that is not letters, digits, hyphens and dots is refused when created."""
    reasons = refusal(url)
    assert reasons is not None
    assert "is not a valid host name" in reasons


def test_port_zero_is_refused() -> None:
    """Port 0 can never be connected to, so it is refused at creation."""
    assert refusal("https://example.com:0/") == "destinationUrl: must not use port 0"


@pytest.mark.parametrize("url", ["https://127.0.0.1/", "https://[::1]/", "https://10.0.0.1/"])
def test_every_reason_names_the_destination_field(url: str) -> None:
    """Refusals from the address rules carry the same ``destinationUrl:`` prefix as the others."""
    reasons = refusal(url)
    assert reasons is not None
    assert reasons.startswith("destinationUrl: ")


def test_a_tenant_below_its_webhook_limit_may_create_one() -> None:
    """One enabled webhook fewer than the limit, or no limit at all, is fine."""
    check_webhook_limit(2, max_enabled=3)
    check_webhook_limit(1_000, max_enabled=None)


def test_a_tenant_at_its_webhook_limit_is_refused() -> None:
    """At the limit the error names it."""
    with pytest.raises(TooManyWebhooksError) as caught:
        check_webhook_limit(3, max_enabled=3)
    assert caught.value.message == "The tenant already has 3 enabled webhooks, the most allowed"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Hooks.Example/in?x=1", "https://hooks.example:443"),
        ("http://hooks.example:8080/a", "http://hooks.example:8080"),
        ("https://[2001:DB8::1]:8443/in", "https://[2001:db8::1]:8443"),
        ("ftp://files.example/x", "ftp://files.example:0"),
        ("https://hooks.example:99999/in", "https://hooks.example:99999/in"),
    ],
)
def test_destinations_share_limits_by_origin(url: str, origin: str) -> None:
    """The origin folds case and default ports, brackets IPv6; an unparsable URL is its own."""
    assert destination_origin(url) == origin


@pytest.mark.parametrize(
    ("cursor", "first", "moved"),
    [(10, 4, 7), (10, 10, 1), (10, 11, 0), (3, 8, 0), (10, None, 0), (0, 1, 0)],
)
def test_sending_again_moves_the_cursor_to_just_before_the_first_change(
    cursor: int, first: int | None, moved: int
) -> None:
    """The cursor moves back to ``first - 1``, never forward, and not at all with nothing."""
    assert cursor_moved_back(cursor, first) == moved
