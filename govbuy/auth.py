"""Authentication and role guards: argon2 password hashes, signed bearer tokens, a sign-in
limiter kept in the database (back-off per account and address, and per address across
accounts), and `requires(...)` guards that every endpoint declares.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import Forbidden, TooManyRequests, Unauthenticated
from govbuy.rules import Backoff
from govbuy.settings import get_settings

ROLES = ("admin", "bureau", "vendor", "expert", "evaluator", "regulator", "supervisor")
# Which organisation kind each role belongs to (DESIGN §1).
ROLE_ORGANISATION_KIND = {
    "admin": "platform",
    "expert": "platform",
    "bureau": "bureau",
    "vendor": "vendor",
    "evaluator": "evaluator",
    # A bureau that is its region's 政府采购监督管理部门 (the 财政局's 采购监管 office).
    "regulator": "bureau",
    "supervisor": "supervisor",
}
ALGORITHM = "HS256"

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so that timing says nothing.
_DUMMY_HASH = _hasher.hash("not a password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def issue_token(user_id: UUID, now: datetime, token_version: int = 1) -> tuple[str, int]:
    """A bearer token for the user under its current token version, valid for the TTL."""
    settings = get_settings()
    ttl = settings.token_ttl_seconds
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "ver": token_version,
        "jti": uuid4().hex,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), ttl


# A token's life is capped at its issue + the TTL whatever its `exp` says (one signed with the
# key for the year 3000 is refused), with this much leeway for clocks a little apart.
CLOCK_SKEW_SECONDS = 60


def decode_token(token: str) -> tuple[UUID, int]:
    """The user id a token was issued to and the token version it carries; expiry uses the wall
    clock, not the sandbox clock."""
    try:
        claims = jwt.decode(
            token, get_settings().secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]}
        )
        issued, expires = int(claims["iat"]), int(claims["exp"])
        now = int(utcnow().timestamp())
        if expires - issued > get_settings().token_ttl_seconds or issued > now + CLOCK_SKEW_SECONDS:
            raise ValueError("a token may not outlive its issue plus the TTL")
        return UUID(claims["sub"]), int(claims.get("ver", 1))
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise Unauthenticated("the token is invalid or has expired") from exc


async def load_actor(user_id: UUID, token_version: int | None = None) -> Actor | None:
    """The active user a token names; None if disabled, gone, or the token's version is no longer
    the user's (logged out, password changed, disabled since)."""
    row = await db.fetchrow(
        """SELECT u.id, u.username, u.role, u.token_version, o.id AS organisation_id, o.kind
           FROM users u JOIN organisations o ON o.id = u.organisation_id
           WHERE u.id = $1 AND u.active""",
        user_id,
    )
    if row is None or (token_version is not None and token_version != row["token_version"]):
        return None
    return Actor(row["id"], row["username"], row["role"], row["organisation_id"], row["kind"])


class TokenAuthentication(AbstractAuthenticationMiddleware):
    """Reads `Authorization: Bearer …` when present; endpoints that need a user say so with
    a guard, so public endpoints simply see no user."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use an 'Authorization: Bearer <token>' header")
        actor = await load_actor(*decode_token(token.strip()))
        if actor is None:
            raise Unauthenticated("the token was revoked (signed out, password changed) or its user is disabled")
        return AuthenticationResult(user=actor, auth=token)


def requires(*roles: str):
    """A guard admitting signed-in users with one of `roles` (403 for other roles)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    # Async on purpose: Litestar runs a sync guard in a worker thread, a hop per request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = connection.scope.get("user")
        if actor is None:
            raise Unauthenticated()
        if actor.role not in roles:
            raise Forbidden(f"role '{actor.role}' may not call this endpoint")

    guard.roles = roles  # type: ignore[attr-defined]  # read by the access-matrix test
    return guard


async def any_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        raise Unauthenticated()


any_signed_in.roles = ROLES  # type: ignore[attr-defined]


# --- the sign-in limiter ------------------------------------------------------------------------
#
# Failures slow further attempts, they never lock an account: there is no second factor, so a
# limit on an account alone would let anyone keep its owner out with wrong passwords. Two limits,
# both kept per address (the caller's, as govbuy.http.client_address resolves it):
#
# - per account and address: after `login_max_failures` failures of one account from one address,
#   that account waits from that address only, the delay doubling with each failure (capped). The
#   owner signing in from anywhere else is never refused.
# - per address, across accounts (password spraying): after `login_address_max_failures` failures
#   from one address, every attempt from it waits — except for accounts that have signed in from
#   that address before (an office's staff behind its one address), which keep only their own limit.


def backoffs() -> tuple[Backoff, Backoff]:
    """The back-off of one account from one address, and of one address across accounts."""
    settings = get_settings()
    delays = settings.login_first_delay_seconds, settings.login_max_delay_seconds
    return Backoff(settings.login_max_failures, *delays), Backoff(settings.login_address_max_failures, *delays)


async def check_login_allowed(username: str, address: str, now: datetime) -> None:
    """Refuse (429, with the seconds to wait) while this account from this address, or this
    address across accounts, is backing off."""
    settings = get_settings()
    since = now - timedelta(seconds=settings.login_window_seconds)
    known_since = now - timedelta(days=settings.login_known_address_days)
    row = await db.fetchrow(
        """SELECT count(*) FILTER (WHERE username = $1) AS pair_failures,
                  max(attempted_at) FILTER (WHERE username = $1) AS pair_last,
                  count(*) AS address_failures,
                  max(attempted_at) AS address_last,
                  EXISTS (SELECT 1 FROM known_sign_in_addresses
                          WHERE username = $1 AND address = $2 AND signed_in_at > $4) AS known
           FROM login_failures WHERE address = $2 AND attempted_at > $3""",
        username,
        address,
        since,
        known_since,
    )
    pair, spraying = backoffs()
    wait = pair.wait(row["pair_failures"], row["pair_last"], now)
    if not row["known"]:
        wait = max(wait, spraying.wait(row["address_failures"], row["address_last"], now))
    if wait > 0:
        raise TooManyRequests(f"too many failed sign-ins from this address: try again in {wait} s", wait)


async def reserve_login_attempt(username: str, address: str, now: datetime) -> None:
    """Admit a sign-in attempt to the password check, or refuse it (429), counting it as a
    failure before the (slow) check: a success clears it again. A refused attempt is not counted.

    Counting and recording are one step per address (an advisory lock: both limits are kept per
    address), so a flood of concurrent attempts cannot all pass the count before any is recorded:
    at most `login_max_failures` attempts of one account from one address reach the password
    check before it backs off.
    """
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(4202, hashtext($1))", address)
        await check_login_allowed(username, address, now)
        await record_login_failure(username, address, now)


async def record_login_failure(username: str, address: str, now: datetime) -> None:
    await db.execute(
        "INSERT INTO login_failures (username, address, attempted_at) VALUES ($1, $2, $3)",
        username,
        address,
        now,
    )


async def record_login_success(username: str, address: str, now: datetime) -> None:
    """A right password: the failures of this account from this address are forgotten (not those
    from elsewhere: a success here must not reset someone else's back-off), and the address is
    known to the account from now on."""
    async with db.transaction():
        await db.execute("DELETE FROM login_failures WHERE username = $1 AND address = $2", username, address)
        await db.execute(
            """INSERT INTO known_sign_in_addresses (username, address, signed_in_at) VALUES ($1, $2, $3)
               ON CONFLICT (username, address) DO UPDATE SET signed_in_at = EXCLUDED.signed_in_at""",
            username,
            address,
            now,
        )


def utcnow() -> datetime:
    return datetime.now(UTC)
