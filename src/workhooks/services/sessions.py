"""Who uses the console or the portal: operator accounts, sign-in, sessions, portal links.

Sessions are signed, expiring tokens kept in an HTTP-only cookie, and kept on the server
too (by a hash of their nonce), so a session can end before it expires: signing out, its
owner ending their other sessions, a new password or a disabled operator, a revoked
client or its new secret. A stolen cookie then stops working at the next request. Each
session carries a random nonce from which its CSRF token is derived, so a form posted
without the token of the session that rendered it is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol, TypeVar

from workhooks.domain.clients import secret_matches
from workhooks.domain.operators import (
    MIN_PASSWORD_LENGTH,
    ConsoleSession,
    Operator,
    ScryptCost,
    client_actor,
    hash_password,
    password_matches,
)
from workhooks.domain.token_payloads import PortalLinkClaims, SessionClaims
from workhooks.domain.tokens import TokenCodec
from workhooks.errors import AuthenticationError, InvalidRequestError, WorkhooksError
from workhooks.services.clock import Clock
from workhooks.storage.console import ConsoleStore
from workhooks.storage.protocol import ClientStore

__all__ = ["OPERATOR_TENANT", "Session", "SessionService", "SessionServiceStore"]

_Expiring = TypeVar("_Expiring", SessionClaims, PortalLinkClaims)
# Operators' sessions are bound to no tenant; the codec needs a name that no tenant has.
OPERATOR_TENANT = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in user: an operator (``tenant`` None) or a tenant's portal user."""

    actor: str
    tenant: str | None
    nonce: str
    expires_at: dt.datetime

    @property
    def is_operator(self) -> bool:
        """Whether this session may see every tenant."""
        return self.tenant is None

    @property
    def id(self) -> str:
        """The id the server keeps the session under: a hash of its nonce (not the nonce,
        from which the CSRF token is derived)."""
        return hashlib.sha256(f"session:{self.nonce}".encode()).hexdigest()[:32]


def _operator(name: str) -> str:
    """The actor an operator's sessions and audit entries carry."""
    return f"operator:{name}"


class SessionServiceStore(ClientStore, ConsoleStore, Protocol):
    """What sessions read: operators, and API clients for the delivery portal."""


class SessionService:
    """Creates operators, signs people in, and reads back their sessions."""

    def __init__(
        self,
        store: SessionServiceStore,
        clock: Clock,
        *,
        key: bytes,
        ttl: dt.timedelta,
        link_ttl: dt.timedelta,
        cost: ScryptCost | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._codec = TokenCodec(key)
        self._csrf_key = hmac.new(key, b"csrf", hashlib.sha256).digest()
        self._ttl = ttl
        self._link_ttl = link_ttl
        self._cost = cost

    @functools.cache  # noqa: B019 - one service per process
    def _dummy_hash(self) -> str:
        return hash_password("workhooks", salt=bytes(16), cost=self._cost)

    def _hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidRequestError(
                "The password is too short",
                reasons=(f"password: at least {MIN_PASSWORD_LENGTH} characters",),
            )
        return hash_password(password, salt=secrets.token_bytes(16), cost=self._cost)

    async def create_operator(self, name: str, password: str) -> Operator:
        """Create an operator account; ``InvalidRequestError`` when the name is taken."""
        if not name or len(name) > 64 or not name.isprintable() or name.strip() != name:
            raise InvalidRequestError(
                f"Invalid operator name {name[:64]!r}",
                reasons=("name: 1 to 64 printable characters, no surrounding spaces",),
            )
        operator = Operator(
            name=name, password_hash=self._hash(password), created_at=self._clock.now()
        )
        if not await self._store.add_operator(operator):
            raise InvalidRequestError(
                f"Operator {name!r} already exists", reasons=("name: choose another name",)
            )
        return operator

    async def set_password(self, name: str, password: str) -> None:
        """Replace an operator's password; the operator's sessions end."""
        done = await self._store.set_operator_password(
            name, self._hash(password), sessions_of=_operator(name), at=self._clock.now()
        )
        if not done:
            raise InvalidRequestError(
                f"Operator {name!r} does not exist", reasons=("name: no such operator",)
            )

    async def disable_operator(self, name: str) -> None:
        """Disable an operator for good: no more sign-ins, and its sessions end."""
        done = await self._store.disable_operator(
            name, sessions_of=_operator(name), at=self._clock.now()
        )
        if not done:
            raise InvalidRequestError(
                f"Operator {name!r} does not exist", reasons=("name: no such operator",)
            )

    async def _issue(self, actor: str, tenant: str | None) -> tuple[Session, str]:
        now = self._clock.now()
        session = Session(
            actor=actor, tenant=tenant, nonce=secrets.token_hex(16), expires_at=now + self._ttl
        )
        await self._store.add_session(
            ConsoleSession(
                id=session.id,
                actor=actor,
                tenant=tenant,
                created_at=now,
                expires_at=session.expires_at,
            )
        )
        claims = SessionClaims(actor=actor, nonce=session.nonce, expires_at=session.expires_at)
        return session, self._codec.seal(claims, tenant=tenant or OPERATOR_TENANT)

    async def sign_out(self, session: Session) -> None:
        """End this session on the server: its cookie stops working everywhere."""
        await self._store.end_sessions(session.actor, at=self._clock.now(), only=session.id)

    async def end_other_sessions(self, session: Session) -> int:
        """End every other session of this session's user; return how many ended."""
        return await self._store.end_sessions(session.actor, at=self._clock.now(), keep=session.id)

    async def live_sessions(self, session: Session) -> list[ConsoleSession]:
        """The live sessions of this session's user, newest first (this one included)."""
        return await self._store.live_sessions(session.actor, now=self._clock.now())

    async def sign_in_operator(self, name: str, password: str) -> tuple[Session, str]:
        """Check an operator's password; return the session and its cookie value."""
        operator = await self._store.get_operator(name)
        # A check costs the same whether or not the name exists (no account probing).
        matches = password_matches(
            password, operator.password_hash if operator else self._dummy_hash()
        )
        if operator is None or not matches or operator.disabled_at is not None:
            raise AuthenticationError("Unknown operator or wrong password")
        return await self._issue(_operator(name), None)

    async def sign_in_client(
        self, tenant: str, client_id: str, client_secret: str
    ) -> tuple[Session, str]:
        """Sign a tenant's integrator in to the portal with the tenant's client credentials."""
        client = await self._store.get_client(client_id)
        if (
            client is None
            or client.tenant != tenant
            or not secret_matches(client_secret, client.secret_hash)
        ):
            raise AuthenticationError("Unknown client or wrong client secret")
        return await self._issue(client_actor(client_id), tenant)

    def portal_link(self, tenant: str, actor: str) -> tuple[str, dt.datetime]:
        """A short-lived token that signs its bearer in to ``tenant``'s portal."""
        claims = PortalLinkClaims(actor=actor, expires_at=self._clock.now() + self._link_ttl)
        return self._codec.seal(claims, tenant=tenant), claims.expires_at

    async def sign_in_link(self, tenant: str, token: str) -> tuple[Session, str]:
        """Exchange a portal link for a portal session of its tenant."""
        claims = self._open(PortalLinkClaims, token, tenant=tenant)
        if claims is None:
            raise AuthenticationError("The portal link is not valid or has expired")
        return await self._issue(f"link:{claims.actor}", tenant)

    def _open(self, kind: type[_Expiring], token: str, *, tenant: str) -> _Expiring | None:
        """The claims of a token of ``kind`` for ``tenant`` while it lasts, else None."""
        try:
            claims = self._codec.open(kind, token, tenant=tenant)
        except WorkhooksError:
            return None
        return claims if claims.expires_at > self._clock.now() else None

    async def read(self, cookie: str | None, *, tenant: str | None) -> Session | None:
        """The session of a cookie for ``tenant`` (None: the console), or None.

        The cookie must be signed, unexpired, and its session still live on the server.
        """
        if not cookie:
            return None
        claims = self._open(SessionClaims, cookie, tenant=tenant or OPERATOR_TENANT)
        if claims is None:
            return None
        session = Session(
            actor=claims.actor, tenant=tenant, nonce=claims.nonce, expires_at=claims.expires_at
        )
        live = await self._store.session_live(session.id, now=self._clock.now())
        return session if live else None

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session must send back."""
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_matches(self, session: Session, token: str | None) -> bool:
        """Whether a posted form carries this session's CSRF token."""
        return token is not None and hmac.compare_digest(self.csrf_token(session), token)
