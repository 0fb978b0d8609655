"""The sign-in limiter: back-off per account and address, per address across accounts, never a
lock-out of an account by failures from elsewhere; and which address a request comes from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import httpx
import pytest

from govbuy import database as db
from govbuy.http import forwarded_for, parse_address, resolve_client_address
from govbuy.rules import Backoff
from govbuy.settings import ConfigError, get_settings
from tests import factories

TOKEN = "/api/v1/auth/token"
ATTACKER, VICTIM = "198.51.100.66", "192.0.2.10"


@asynccontextmanager
async def calling_from(app, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (the direct peer)."""
    transport = httpx.ASGITransport(app=app, client=(address, 41000))
    async with httpx.AsyncClient(transport=transport, base_url="http://govbuy.test") as c:
        yield c


async def sign_in(c: httpx.AsyncClient, username: str, password: str = factories.PASSWORD, **headers: str):
    return await c.post(TOKEN, json={"username": username, "password": password}, headers=headers)


async def fail(c: httpx.AsyncClient, username: str, times: int) -> list[int]:
    return [(await sign_in(c, username, "not the password")).status_code for _ in range(times)]


async def age_failures(seconds: int) -> None:
    """As if every recorded failure had happened `seconds` earlier."""
    await db.execute("UPDATE login_failures SET attempted_at = attempted_at - $1::interval", timedelta(seconds=seconds))


@pytest.fixture
def settings():
    return get_settings()


# --- the rule ----------------------------------------------------------------------------------


def test_the_delay_starts_after_the_free_failures_and_doubles_up_to_the_cap():
    backoff = Backoff(free=5, first_delay=30, max_delay=900)
    assert [backoff.delay(n) for n in range(0, 12)] == [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert backoff.delay(10**9) == 900


def test_the_wait_counts_from_the_last_failure_rounded_up():
    backoff = Backoff(free=1, first_delay=30, max_delay=900)
    last = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert backoff.wait(0, None, last) == 0
    assert backoff.wait(1, last, last + timedelta(seconds=10.5)) == 20
    assert backoff.wait(2, last, last + timedelta(seconds=59)) == 1
    assert backoff.wait(2, last, last + timedelta(seconds=60)) == 0


# --- per account and address ---------------------------------------------------------------------


async def test_the_lock_out_of_a_victim_fails_the_right_password_from_elsewhere_signs_in(app, database, settings):
    await factories.signed_in("vendor", username="victim")
    async with calling_from(app, ATTACKER) as attacker, calling_from(app, VICTIM) as victim:
        statuses = await fail(attacker, "victim", settings.login_max_failures + 5)
        assert statuses[: settings.login_max_failures] == [401] * settings.login_max_failures
        assert set(statuses[settings.login_max_failures:]) == {429}
        # The owner, elsewhere: a typo is a typo (401, not 429), the right password signs in.
        assert (await sign_in(victim, "victim", "a typo of mine")).status_code == 401
        assert (await sign_in(victim, "victim")).status_code == 200
        # ... and that success does not lift the attacker's back-off.
        refused = await sign_in(attacker, "victim")
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


async def test_brute_force_from_one_address_backs_off_doubling(client, settings):
    await factories.signed_in("vendor", username="guessed")
    assert await fail(client, "guessed", settings.login_max_failures) == [401] * settings.login_max_failures
    first = await sign_in(client, "guessed", "guess 6")
    assert first.status_code == 429
    assert first.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(first.headers["retry-after"]) <= settings.login_first_delay_seconds
    # Once the delay has passed one more guess is checked, and the next waits twice as long.
    await age_failures(settings.login_first_delay_seconds)
    assert await fail(client, "guessed", 1) == [401]
    second = await sign_in(client, "guessed")
    assert second.status_code == 429
    assert settings.login_first_delay_seconds < int(second.headers["retry-after"]) <= 2 * settings.login_first_delay_seconds
    # The right password waits too, and is admitted once the delay has passed.
    await age_failures(2 * settings.login_first_delay_seconds)
    assert (await sign_in(client, "guessed")).status_code == 200


async def test_a_success_forgets_the_failures_of_that_account_from_that_address(client, settings):
    await factories.signed_in("vendor", username="typist")
    await fail(client, "typist", settings.login_max_failures - 1)
    assert (await sign_in(client, "typist")).status_code == 200
    assert await fail(client, "typist", settings.login_max_failures) == [401] * settings.login_max_failures


async def test_failures_older_than_the_window_are_forgotten(client, settings):
    await factories.signed_in("vendor", username="forgetful")
    await fail(client, "forgetful", settings.login_max_failures)
    assert (await sign_in(client, "forgetful")).status_code == 429
    await age_failures(settings.login_window_seconds + 1)
    assert (await sign_in(client, "forgetful")).status_code == 200


# --- per address across accounts (spraying) --------------------------------------------------------


async def test_spraying_many_accounts_from_one_address_is_slowed(app, database, settings):
    accounts = await factories.many_signed_in("vendor", settings.login_address_max_failures + 1)
    names = [a.user.username for a in accounts]
    async with calling_from(app, ATTACKER) as sprayer, calling_from(app, VICTIM) as elsewhere:
        for name in names[:-1]:  # one guess each: no account is near its own limit
            assert await fail(sprayer, name, 1) == [401]
        slowed = await sign_in(sprayer, names[-1], "Summer2026!")
        assert slowed.status_code == 429
        assert 0 < int(slowed.headers["retry-after"]) <= settings.login_first_delay_seconds
        # An account whose failures came from elsewhere is never refused there.
        assert (await sign_in(elsewhere, names[-1])).status_code == 200
        assert (await sign_in(elsewhere, names[0])).status_code == 200


async def test_an_account_that_signed_in_from_an_address_is_not_slowed_by_spraying_from_it(app, database, settings):
    office = "192.0.2.200"
    await factories.signed_in("admin", username="office-admin")
    sprayed = await factories.many_signed_in("vendor", settings.login_address_max_failures)
    async with calling_from(app, office) as c:
        assert (await sign_in(c, "office-admin")).status_code == 200  # a known address from now on
        for account in sprayed:
            await fail(c, account.user.username, 1)
        assert (await sign_in(c, "nobody-known-here")).status_code == 429
        assert (await sign_in(c, "office-admin")).status_code == 200


# --- which address: X-Forwarded-For and Forwarded ------------------------------------------------------


def test_the_right_most_address_that_is_not_a_trusted_proxy_is_the_caller():
    proxies = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]
    hops = forwarded_for("x-forwarded-for", ["198.51.100.1, 192.0.2.44", "10.1.1.1"])
    assert hops == ["198.51.100.1", " 192.0.2.44", "10.1.1.1"]
    assert resolve_client_address("10.0.0.2", hops, proxies) == "192.0.2.44"
    # Not from a proxy: the header is the caller's own words, and ignored.
    assert resolve_client_address("203.0.113.7", hops, proxies) == "203.0.113.7"
    assert resolve_client_address("203.0.113.7", hops, []) == "203.0.113.7"
    # Only proxies: the left-most; a hop that is no address: the proxy that passed it on.
    assert resolve_client_address("10.0.0.2", ["10.9.9.9"], proxies) == "10.9.9.9"
    assert resolve_client_address("10.0.0.2", ["192.0.2.1", "unknown"], proxies) == "10.0.0.2"
    assert resolve_client_address(None, hops, proxies) == "unknown"
    forwarded = forwarded_for("forwarded", ['for=192.0.2.60;proto=http;by=203.0.113.43', 'For="[2001:db8:cafe::17]:4711"'])
    assert resolve_client_address("2001:db8:ffff::1", forwarded, proxies) == "2001:db8:cafe::17"


def test_addresses_are_read_in_their_canonical_form():
    assert parse_address("192.0.2.7:4711") == "192.0.2.7"
    assert parse_address('"[2001:DB8::1]:80"') == "2001:db8::1"
    assert parse_address("::ffff:192.0.2.7") == "192.0.2.7"
    assert parse_address("2001:db8::1") == "2001:db8::1"
    for garbage in ("unknown", "_hidden", "", "999.1.1.1", "a" * 300):
        assert parse_address(garbage) is None


@pytest.fixture
def trusting(monkeypatch):
    """Settings that trust the proxies given, for the test's length."""

    def trust(networks: str, header: str = "X-Forwarded-For") -> None:
        monkeypatch.setenv("GOVBUY_TRUSTED_PROXIES", networks)
        monkeypatch.setenv("GOVBUY_FORWARDED_HEADER", header)
        get_settings.cache_clear()

    yield trust
    monkeypatch.delenv("GOVBUY_TRUSTED_PROXIES", raising=False)
    monkeypatch.delenv("GOVBUY_FORWARDED_HEADER", raising=False)
    get_settings.cache_clear()


async def failed_from() -> set[str]:
    return {r["address"] for r in await db.fetch("SELECT DISTINCT address FROM login_failures")}


async def test_x_forwarded_for_from_a_peer_that_is_no_trusted_proxy_is_ignored(client, settings, trusting):
    trusting("10.0.0.0/8")  # the test client, 203.0.113.7, is not one of them
    await factories.signed_in("vendor", username="rotator")
    # Rotating the header does not escape the back-off: the address is the peer's.
    statuses = [
        (await sign_in(client, "rotator", "nope", **{"X-Forwarded-For": f"192.0.2.{n}"})).status_code
        for n in range(settings.login_max_failures + 1)
    ]
    assert statuses == [401] * settings.login_max_failures + [429]
    assert await failed_from() == {"203.0.113.7"}


async def test_x_forwarded_for_is_ignored_when_no_proxy_is_configured(client, settings):
    await factories.signed_in("vendor", username="spoofer")
    await sign_in(client, "spoofer", "nope", **{"X-Forwarded-For": "192.0.2.1"})
    assert await failed_from() == {"203.0.113.7"}


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_caller(app, database, settings, trusting):
    trusting("10.0.0.0/8")
    await factories.signed_in("vendor", username="proxied")
    async with calling_from(app, "10.0.0.2") as proxy:
        # A client's own forged entry sits left of what the proxy appended: the proxy's word wins.
        attacker = {"X-Forwarded-For": f"192.0.2.99, {ATTACKER}"}
        for _ in range(settings.login_max_failures):
            assert (await sign_in(proxy, "proxied", "nope", **attacker)).status_code == 401
        assert (await sign_in(proxy, "proxied", **attacker)).status_code == 429
        assert await failed_from() == {ATTACKER}
        # Another caller through the same proxy is another address: the owner signs in.
        assert (await sign_in(proxy, "proxied", **{"X-Forwarded-For": VICTIM})).status_code == 200


async def test_forwarded_from_a_trusted_proxy_names_the_caller_when_configured(app, database, trusting):
    trusting("10.0.0.0/8", header="Forwarded")
    await factories.signed_in("vendor", username="rfc7239")
    async with calling_from(app, "10.0.0.2") as proxy:
        headers = {"Forwarded": f'for="{ATTACKER}:5000";proto=https', "X-Forwarded-For": "192.0.2.1"}
        assert (await sign_in(proxy, "rfc7239", "nope", **headers)).status_code == 401
    assert await failed_from() == {ATTACKER}


def test_a_trusted_proxy_list_that_is_not_cidrs_stops_the_start(monkeypatch):
    monkeypatch.setenv("GOVBUY_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="GOVBUY_TRUSTED_PROXIES"):
            get_settings()
    finally:
        monkeypatch.delenv("GOVBUY_TRUSTED_PROXIES")
        get_settings.cache_clear()
