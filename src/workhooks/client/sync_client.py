"""``Client``: the whole Protime-compatible API over a blocking httpx client."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from workhooks.client import calls
from workhooks.client.auth import (
    DEFAULT_REFRESH_MARGIN,
    ClientCredentials,
    TokenCache,
    TokenEndpoint,
)
from workhooks.client.calls import COLLECTION, Call, Page
from workhooks.client.endpoints import Endpoints, protime_endpoints
from workhooks.client.errors import Unauthorized, error_from_response
from workhooks.client.models import (
    AccessToken,
    CreatedWebhook,
    Delivery,
    DeliveryDetail,
    DeltaItem,
    Person,
    PersonWrite,
    Webhook,
    WorkInterruption,
    WorkInterruptionWrite,
)
from workhooks.client.options import (
    DEFAULT_USER_AGENT,
    Clock,
    check_user_agent,
    headers_for,
    system_clock,
)
from workhooks.client.paging import PageOf, Walk
from workhooks.client.policy import RetryPolicy

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """A blocking client of one tenant: tokens, reads, delta, writes, webhooks, history.

    Tokens are fetched with the client credentials, reused and refreshed before they expire;
    429 and 503 answers are retried politely (``retry``); other errors raise ``ProtimeError``
    subclasses. ``transport``, ``clock`` and ``sleep`` are there for tests.

    The token endpoint is ``token_url`` if given, else the one named by the discovery
    document of ``oidc_issuer``, else ``{base_url}/tenants/{tenant}/connect/token`` (a
    workhooks server). ``for_protime`` targets a Protime environment by name.
    """

    def __init__(
        self,
        base_url: str,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        scopes: Sequence[str] = (),
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = system_clock,
        sleep: Callable[[float], None] = time.sleep,
        token_refresh_margin: dt.timedelta = DEFAULT_REFRESH_MARGIN,
        token_url: str | None = None,
        oidc_issuer: str | None = None,
    ) -> None:
        self._credentials = ClientCredentials(
            tenant=tenant, client_id=client_id, client_secret=client_secret, scopes=tuple(scopes)
        )
        self._token_endpoint = TokenEndpoint(
            Endpoints(base_url=base_url, token_url=token_url, oidc_issuer=oidc_issuer),
            self._credentials,
        )
        self._user_agent = check_user_agent(user_agent)
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._tokens = TokenCache(margin=token_refresh_margin)
        self._token_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    @classmethod
    def for_protime(
        cls, environment: str, *, tenant: str, client_id: str, client_secret: str, **options: Any
    ) -> Client:
        """A client of ``tenant`` in a Protime environment: ``myprotime.eu`` (``production``)
        or ``myprotimesandbox.eu`` (``sandbox``); tokens come from its authentication host.

        ``options`` are those of the constructor (``scopes``, ``user_agent``, ``timeout``...).
        """
        endpoints = protime_endpoints(environment, tenant)
        return cls(
            endpoints.base_url,
            tenant=tenant,
            client_id=client_id,
            client_secret=client_secret,
            token_url=endpoints.token_url,
            **options,
        )

    # -- plumbing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def access_token(self) -> str:
        """A valid access token: the cached one, or a fresh one from the token endpoint."""
        with self._token_lock:
            token = self._tokens.current(self._clock())
            if token is not None:
                return token
            url = self._token_endpoint.url or self._discover_token_url()
            fetched_at = self._clock()
            call = Call(method="POST", url=url)
            response = self._exchange(call, token=None, form=self._credentials.form())
            grant = calls.decode(response.content, AccessToken, status=response.status_code)
            return self._tokens.store(grant, now=fetched_at)

    def _discover_token_url(self) -> str:
        """Read the token endpoint from the issuer's OIDC discovery document, once."""
        call = Call(method="GET", url=self._token_endpoint.discovery or "")
        response = self._exchange(call, token=None)
        return self._token_endpoint.learn(response.content, status=response.status_code)

    def _exchange(
        self, call: Call, *, token: str | None, form: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send ``call``, retrying 429/503 as the policy allows; raise on any other error."""
        attempt = 1
        while True:
            response = self._http.request(
                call.method,
                call.url,
                params=call.params,
                content=call.content,
                data=form,
                headers=headers_for(call, user_agent=self._user_agent, token=token),
            )
            if response.is_success:
                return response
            delay = self._retry.delay(
                response.status_code, response.headers, attempt=attempt, now=self._clock()
            )
            if delay is None:
                raise error_from_response(response.status_code, response.content, response.headers)
            self._sleep(delay)
            attempt += 1

    def _send(self, call: Call) -> httpx.Response:
        """Send an API call with a token; one fresh token is tried when the server refuses it."""
        token = self.access_token()
        try:
            return self._exchange(call, token=token)
        except Unauthorized as exc:
            if exc.insufficient_scope:
                raise
        self._tokens.invalidate()
        return self._exchange(call, token=self.access_token())

    def _json(self, call: Call, kind: type[T]) -> T:
        response = self._send(call)
        return calls.decode(response.content, kind, status=response.status_code)

    def _pages(self, first: Call, kind: type[Page[T]]) -> Iterator[PageOf[T]]:
        call: Call | None = first
        while call is not None:
            page = self._json(call, kind)
            yield page.value, page.delta_link
            call = None if page.next_link is None else calls.link(page.next_link)

    def _delta_pages(self, first: Call) -> Iterator[PageOf[DeltaItem]]:
        for values, delta_link in self._pages(first, Page[dict[str, Any]]):
            yield calls.delta_items(values, status=200), delta_link

    # -- work interruptions --------------------------------------------------------------------

    def get_work_interruption(
        self, record_id: int, *, external_references: str | None = None
    ) -> WorkInterruption:
        """One work interruption by id; ``NotFound`` when it does not exist."""
        call = calls.get(COLLECTION, record_id, external_references=external_references)
        return self._json(call, WorkInterruption)

    def iter_work_interruptions(
        self, filter: str, *, external_references: str | None = None
    ) -> Walk[WorkInterruption]:
        """Every work interruption ``filter`` selects, following ``nextLink`` page by page."""
        call = calls.list_call(COLLECTION, filter=filter, external_references=external_references)
        return Walk(self._pages(call, Page[WorkInterruption]))

    def start_delta(
        self, filter: str, *, external_references: str | None = None
    ) -> Walk[WorkInterruption]:
        """The current state ``filter`` selects; when iterated to the end, ``.delta_link``."""
        call = calls.delta_start(filter, external_references=external_references)
        return Walk(self._pages(call, Page[WorkInterruption]))

    def iter_delta(self, delta_link: str) -> Walk[DeltaItem]:
        """The changes since ``delta_link``; ``.delta_link`` at the end is the next one.

        An expired link raises ``Gone``: walk again with ``start_delta``.
        """
        return Walk(self._delta_pages(calls.link(delta_link)))

    def put_work_interruption(self, record: WorkInterruptionWrite) -> WorkInterruption:
        """Create or replace a work interruption (a workhooks extension); returns it stored."""
        return self._json(
            calls.json_call("PUT", COLLECTION, record.id, body=record), WorkInterruption
        )

    def put_work_interruptions(
        self, records: Sequence[WorkInterruptionWrite]
    ) -> list[WorkInterruption]:
        """Upsert up to 1,000 work interruptions atomically (a workhooks extension)."""
        call = calls.json_call("POST", COLLECTION, "batch", body=calls.batch_body(records))
        return self._json(call, Page[WorkInterruption]).value

    def delete_work_interruption(self, record_id: int) -> None:
        """Delete a work interruption (a workhooks extension); ``NotFound`` if there is none."""
        self._send(calls.delete(COLLECTION, record_id))

    # -- people and external references --------------------------------------------------------

    def get_person(self, person_id: int) -> Person:
        """One person by id."""
        return self._json(calls.get("people", person_id), Person)

    def put_person(self, person: PersonWrite) -> Person:
        """Create or replace a person."""
        return self._json(calls.json_call("PUT", "people", person.id, body=person), Person)

    def put_people(self, people: Sequence[PersonWrite]) -> list[Person]:
        """Upsert up to 1,000 people atomically."""
        call = calls.json_call("POST", "people", "batch", body=calls.batch_body(people))
        return self._json(call, Page[Person]).value

    def delete_person(self, person_id: int) -> None:
        """Delete a person no work interruption refers to (``Conflict`` otherwise)."""
        self._send(calls.delete("people", person_id))

    def get_external_references(self, person_id: int) -> dict[str, str]:
        """A person's custom external references by key."""
        found = self._json(calls.get("people", person_id, "external-references"), dict[str, Any])
        return dict(found.get("externalReferences") or {})

    def set_external_reference(self, person_id: int, key: str, value: str) -> None:
        """Set a custom reference (an empty value removes it); ``Conflict`` if another has it."""
        body = {"value": value}
        self._send(
            calls.json_call("PUT", "people", person_id, "external-references", key, body=body)
        )

    def delete_external_reference(self, person_id: int, key: str) -> None:
        """Remove a custom reference; ``NotFound`` if there is none."""
        self._send(calls.delete("people", person_id, "external-references", key))

    # -- webhooks and their delivery history ---------------------------------------------------

    def create_webhook(
        self,
        destination_url: str,
        *,
        collection_name: str = COLLECTION,
        external_references: str | None = None,
    ) -> CreatedWebhook:
        """Subscribe ``destination_url``; the answer holds the private ``key``, shown only once."""
        body = {"destinationUrl": destination_url, "collectionName": collection_name}
        call = calls.json_call("POST", "webhooks", body=body, query=external_references)
        return self._json(call, CreatedWebhook)

    def list_webhooks(self, filter: str | None = None) -> list[Webhook]:
        """The tenant's webhooks, e.g. ``filter="status eq 'Enabled'"``."""
        return self._json(calls.list_call("webhooks", filter=filter), Page[Webhook]).value

    def get_webhook(self, webhook_id: str) -> Webhook:
        """One webhook (never its key); ``NotFound`` once deleted."""
        return self._json(calls.get("webhooks", webhook_id), Webhook)

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete a webhook: deliveries stop; its history stays readable."""
        self._send(calls.delete("webhooks", webhook_id))

    def iter_deliveries(self, webhook_id: str, filter: str | None = None) -> Walk[Delivery]:
        """A webhook's deliveries, newest first, following ``nextLink``."""
        call = calls.list_call("webhooks", webhook_id, "deliveries", filter=filter)
        return Walk(self._pages(call, Page[Delivery]))

    def get_delivery(self, webhook_id: str, delivery_id: str) -> DeliveryDetail:
        """One delivery with every attempt."""
        return self._json(
            calls.get("webhooks", webhook_id, "deliveries", delivery_id), DeliveryDetail
        )
