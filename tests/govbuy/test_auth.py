"""Sign-in, tokens, the login limiter and role guards (the limiter's rules in full:
test_sign_in_limiter.py)."""

from __future__ import annotations

from datetime import timedelta

import jwt

from govbuy import auth
from govbuy.settings import get_settings
from tests import factories


async def test_token_flow_gives_a_bearer_token_that_opens_me(client):
    vendor = await factories.signed_in("vendor", username="alice")
    response = await client.post("/api/v1/auth/token", json={"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().token_ttl_seconds
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["id"] == str(vendor.user.id)
    assert "password" not in me.text and "password_hash" not in me.text


async def test_wrong_password_is_401_problem_json(client):
    await factories.signed_in("vendor", username="bob")
    response = await client.post("/api/v1/auth/token", json={"username": "bob", "password": "not the password"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_credentials"


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    response = await client.post("/api/v1/auth/token", json={"username": "nobody", "password": "whatever1234"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_login_backs_off_after_repeated_failures_from_the_address_even_with_the_right_password(client):
    await factories.signed_in("vendor", username="carol")
    for _ in range(get_settings().login_max_failures):
        r = await client.post("/api/v1/auth/token", json={"username": "carol", "password": "wrong-password"})
        assert r.status_code == 401
    locked = await client.post("/api/v1/auth/token", json={"username": "carol", "password": factories.PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert int(locked.headers["retry-after"]) > 0


async def test_expired_token_is_refused(client):
    vendor = await factories.signed_in("vendor")
    token, _ = auth.issue_token(vendor.user.id, auth.utcnow() - timedelta(hours=2))
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_token_signed_with_another_key_is_refused(client):
    vendor = await factories.signed_in("vendor")
    forged = jwt.encode({"sub": str(vendor.user.id), "exp": 4102444800}, "another-key-" * 4, algorithm="HS256")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_disabled_user_token_stops_working(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.signed_in("vendor")
    assert (await client.get("/api/v1/auth/me", headers=vendor.headers)).status_code == 200
    r = await client.post(f"/api/v1/users/{vendor.user.id}/disable", headers=admin.headers)
    assert r.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=vendor.headers)).status_code == 401


async def test_missing_token_on_a_protected_endpoint_is_401(client):
    response = await client.get("/api/v1/organisations")
    assert response.status_code == 401


async def test_vendor_may_not_create_organisations(client):
    vendor = await factories.signed_in("vendor")
    response = await client.post(
        "/api/v1/organisations", headers=vendor.headers, json={"name": "x", "kind": "bureau", "region_code": "440300"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role_not_allowed"


async def test_supervisor_reads_but_cannot_create_users(client):
    supervisor = await factories.signed_in("supervisor")
    assert (await client.get("/api/v1/users", headers=supervisor.headers)).status_code == 200
    org = await factories.organisation("vendor")
    response = await client.post(
        "/api/v1/users",
        headers=supervisor.headers,
        json={"username": "newbie", "password": "long enough pw", "organisation_id": str(org.id), "role": "vendor"},
    )
    assert response.status_code == 403


async def test_a_role_is_only_for_its_organisation_kind(client):
    admin = await factories.signed_in("admin")
    bureau = await factories.organisation("bureau")
    response = await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"username": "wrongkind", "password": "long enough pw", "organisation_id": str(bureau.id), "role": "vendor"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "role_not_for_organisation"


async def test_first_admin_is_created_from_the_environment(database, monkeypatch):
    from govbuy import database as db
    from govbuy import service

    monkeypatch.setenv("GOVBUY_ADMIN_USERNAME", "root-admin")
    monkeypatch.setenv("GOVBUY_ADMIN_PASSWORD", "a strong admin password")
    get_settings.cache_clear()
    try:
        await service.ensure_admin()
        await service.ensure_admin()  # idempotent
    finally:
        get_settings.cache_clear()
    rows = await db.fetch("SELECT username FROM users WHERE role = 'admin'")
    assert [r["username"] for r in rows] == ["root-admin"]
