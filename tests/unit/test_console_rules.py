"""Pure rules of the console: password hashes and the search parameters of pages and routes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workhooks.domain.deliveries import (
    Delivery,
    DeliveryStatus,
    excerpt,
    is_message_id,
    message_id,
)
from workhooks.domain.operators import ScryptCost, hash_password, password_matches
from workhooks.domain.search import (
    DeliverySearch,
    FoundDelivery,
    WebhookSearch,
    WebhookState,
    delivery_next,
    parse_delivery_search,
    parse_webhook_search,
    webhook_next,
)
from workhooks.domain.webhooks import Collection, Webhook, WebhookStatus
from workhooks.errors import InvalidRequestError

CHEAP = ScryptCost(n=2**4, r=1, p=1)  # the rules, not the cost, are under test here
SALT = bytes(range(16))


def test_password_hash_is_scrypt_with_its_parameters_and_salt() -> None:
    """The stored hash names scrypt and its cost, so the cost can change later."""
    stored = hash_password("correct horse battery", salt=SALT, cost=CHEAP)
    assert stored.startswith("scrypt$16$1$1$")
    assert password_matches("correct horse battery", stored)
    assert not password_matches("correct horse batterY", stored)


def test_default_cost_is_memory_hard() -> None:
    """The default cost needs 32 MiB or more per hash."""
    assert ScryptCost().maxmem >= 32 * 1024 * 1024


@pytest.mark.parametrize(
    "stored", ["", "bcrypt$x", "scrypt$16$1$1$%%%$abc", "scrypt$x$1$1$AAAA$AAAA", "scrypt$16$1"]
)
def test_a_malformed_hash_matches_nothing(stored: str) -> None:
    """A hash that is not ours never matches (and never raises)."""
    assert not password_matches("anything", stored)


@given(password=st.text(max_size=40), other=st.text(max_size=40))
def test_only_the_same_password_matches(password: str, other: str) -> None:
    """A hash matches its own password and no other."""
    stored = hash_password(password, salt=SALT, cost=CHEAP)
    assert password_matches(password, stored)
    assert password_matches(other, stored) == (other == password)


def test_webhook_search_reads_its_parameters_and_a_locked_tenant_wins() -> None:
    """The portal's tenant replaces whatever tenant the query string names."""
    search = parse_webhook_search(
        {"q": " hooks ", "status": "Disabled", "failing": "1", "tenant": "globex", "limit": "5"},
        tenant="acme",
    )
    assert search.tenant == "acme"
    assert search.text == "hooks"
    assert search.status is WebhookStatus.DISABLED
    assert search.failing
    assert search.limit == 5


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"status": "Paused"}, "status: Enabled or Disabled"),
        ({"limit": "0"}, "limit: a whole number from 1 to 200"),
        ({"after": "only-one-part"}, "after: the value of a next-page link"),
        ({"q": "x" * 2049}, "q: at most 2048 characters"),
    ],
)
def test_bad_webhook_search_parameters_say_what_is_wrong(
    params: dict[str, str], reason: str
) -> None:
    """Each malformed parameter is refused with the rule it breaks."""
    with pytest.raises(InvalidRequestError) as caught:
        parse_webhook_search(params, tenant=None)
    assert caught.value.reasons == (reason,)


def test_delivery_search_takes_local_times_as_utc() -> None:
    """A time without an offset (what a browser's datetime-local sends) is UTC."""
    search = parse_delivery_search(
        {"since": "2026-01-02T03:04", "until": "2026-01-02T05:00:00+01:00", "code": "503"},
        tenant=None,
    )
    assert search.since == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert search.until == dt.datetime(2026, 1, 2, 4, 0, tzinfo=dt.UTC)
    assert search.status_code == 503


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"record": "-1"}, "record"),
        ({"record": "١٢"}, "record"),
        ({"code": "99"}, "code"),
        ({"status": "Pending"}, "status"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_delivery_search_parameters_name_the_field(params: dict[str, str], field: str) -> None:
    """Each malformed parameter is refused naming its field."""
    with pytest.raises(InvalidRequestError) as caught:
        parse_delivery_search(params, tenant=None)
    assert caught.value.reasons[0].startswith(f"{field}: ")


@given(
    at=st.datetimes(timezones=st.just(dt.UTC)),
    webhook=st.uuids().map(str),
    version=st.integers(min_value=1, max_value=2**62),
)
def test_next_delivery_page_value_reads_back_as_the_keyset(
    at: dt.datetime, webhook: str, version: int
) -> None:
    """The next-page value of a full page parses back to the last delivery's keyset."""
    delivery = Delivery(
        webhook_id=webhook,
        id=f"msg_{version:020d}",
        record_id=1,
        change_version=version,
        status=DeliveryStatus.SUCCEEDED,
        attempts=1,
        first_attempt_at=at,
        last_attempt_at=at,
        last_status_code=204,
        last_error_class=None,
        next_attempt_at=None,
    )
    search = DeliverySearch(limit=1)
    after = delivery_next(search, [FoundDelivery(tenant="acme", delivery=delivery)])
    assert after is not None
    assert parse_delivery_search({"after": after}, tenant=None).after == (at, webhook, delivery.id)


T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _webhook(
    tenant: str = "acme", webhook_id: str = "0" * 8 + "-0000-0000-0000-" + "0" * 12
) -> Webhook:
    return Webhook(
        id=webhook_id,
        tenant=tenant,
        destination_url="https://hooks.example/in",
        collection=Collection.WORK_INTERRUPTIONS,
        secret=b"k" * 24,
        status=WebhookStatus.ENABLED,
        created_at=T0,
        valid_until=T0 + dt.timedelta(days=30),
        cursor=0,
    )


def test_a_webhook_that_is_not_behind_has_no_lag() -> None:
    """Lag is zero when nothing is waiting, however long ago the webhook last caught up."""
    state = WebhookState(webhook=_webhook(), changes_behind=0, caught_up_at=T0)
    assert state.lag(T0 + dt.timedelta(hours=5)) == dt.timedelta(0)


def test_lag_counts_from_catching_up_or_else_from_creation() -> None:
    """A webhook behind is late since it last caught up; one that never did, since creation."""
    caught_up = WebhookState(
        webhook=_webhook(), changes_behind=3, caught_up_at=T0 + dt.timedelta(minutes=10)
    )
    never = WebhookState(webhook=_webhook(), changes_behind=3, caught_up_at=None)
    now = T0 + dt.timedelta(minutes=25)
    assert caught_up.lag(now) == dt.timedelta(minutes=15)
    assert never.lag(now) == dt.timedelta(minutes=25)
    assert never.lag(T0 - dt.timedelta(minutes=1)) == dt.timedelta(0)


def test_only_a_full_page_of_webhooks_has_a_next_page() -> None:
    """The next-page value is the last webhook's ``tenant|id`` and reads back as ``after``."""
    first = WebhookState(webhook=_webhook("acme"), changes_behind=0, caught_up_at=None)
    last_id = "12345678-9abc-def0-1234-56789abcdef0"
    last = WebhookState(webhook=_webhook("globex", last_id), changes_behind=0, caught_up_at=None)
    assert webhook_next(WebhookSearch(limit=3), [first, last]) is None
    after = webhook_next(WebhookSearch(limit=2), [first, last])
    assert after == f"globex|{last_id}"
    assert parse_webhook_search({"after": after}, tenant=None).after == ("globex", last_id)


def test_a_page_of_deliveries_that_is_not_full_has_no_next_page() -> None:
    """Fewer deliveries than the limit: the history ends here."""
    assert delivery_next(DeliverySearch(limit=2), []) is None


def test_only_the_spelling_of_message_ids_names_a_message() -> None:
    """A searched text names a message only when spelled as ``message_id`` makes them."""
    webhook_id = "12345678-9abc-def0-1234-56789abcdef0"
    assert is_message_id(message_id(webhook_id, "0000000000000000002A"))
    assert not is_message_id(f"msg_{webhook_id}_2A")
    assert not is_message_id(f"msg_{webhook_id.upper()}_0000000000000000002A")


@given(st.text(max_size=80), st.integers(min_value=0, max_value=100))
def test_an_excerpt_keeps_at_most_the_limit_in_utf8_bytes(text: str, limit: int) -> None:
    """The excerpt is a prefix of the answer, at most ``limit`` bytes, cut on a character."""
    kept = excerpt(text, limit)
    assert text.startswith(kept)
    assert len(kept.encode()) <= limit
    if len(text.encode()) <= limit:
        assert kept == text


def test_an_excerpt_never_splits_a_character() -> None:
    """A multi-byte character that does not fit is left out whole."""
    assert excerpt("éééé", 5) == "éé"
    assert excerpt("€€€", 5) == "€"
