"""Sessions: signing out, changing the password and disabling the account revoke every token; a
token never outlives its issue plus the TTL, whatever its `exp` says."""

from __future__ import annotations

from datetime import timedelta

import jwt

from govbuy import auth
from govbuy.settings import get_settings
from tests import factories


async def test_signing_out_revokes_every_token_of_the_user(client):
    user = await factories.signed_in("vendor")
    again = (await client.post("/api/v1/auth/token", json={"username": user.user.username, "password": factories.PASSWORD})).json()
    other = {"Authorization": f"Bearer {again['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=other)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=user.headers)).status_code == 204
    for headers in (user.headers, other):
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    fresh = (await client.post("/api/v1/auth/token", json={"username": user.user.username, "password": factories.PASSWORD})).json()
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})).status_code == 200


async def test_a_password_change_needs_the_current_one_and_revokes_earlier_tokens(client):
    user = await factories.signed_in("bureau")
    wrong = await client.post("/api/v1/auth/password", json={"current_password": "not it at all", "new_password": "x" * 12},
                              headers=user.headers)
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    weak = await client.post("/api/v1/auth/password", json={"current_password": factories.PASSWORD, "new_password": "1234567890"},
                             headers=user.headers)
    assert (weak.status_code, weak.json()["code"]) == (422, "weak_password")
    r = await client.post("/api/v1/auth/password",
                          json={"current_password": factories.PASSWORD, "new_password": "苍山负雪 明烛天南 2026"}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})).status_code == 200
    old = await client.post("/api/v1/auth/token", json={"username": user.user.username, "password": factories.PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/v1/auth/token", json={"username": user.user.username, "password": "苍山负雪 明烛天南 2026"})
    assert new.status_code == 200


async def test_a_disabled_then_enabled_users_old_token_stays_revoked(client):
    admin, user = await factories.signed_in("admin"), await factories.signed_in("vendor")
    assert (await client.post(f"/api/v1/users/{user.user.id}/disable", headers=admin.headers)).status_code == 200
    assert (await client.post(f"/api/v1/users/{user.user.id}/enable", headers=admin.headers)).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=user.headers)).status_code == 401


async def test_a_token_signed_for_the_year_3000_is_refused(client):
    user = await factories.signed_in("vendor")
    now = auth.utcnow()
    forged = jwt.encode(
        {"sub": str(user.user.id), "iat": int(now.timestamp()), "exp": int((now + timedelta(days=365 * 974)).timestamp()), "ver": 1},
        get_settings().secret_key, algorithm=auth.ALGORITHM,
    )
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    no_iat = jwt.encode({"sub": str(user.user.id), "exp": int((now + timedelta(minutes=5)).timestamp())},
                        get_settings().secret_key, algorithm=auth.ALGORITHM)
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {no_iat}"})).status_code == 401
