"""Passwords (NIST SP 800-63B §5.1.1.2): not guessable, not the username, no control characters,
and taken exactly as typed — never trimmed."""

from __future__ import annotations

import pytest

from govbuy.rules import RuleViolation, check_password
from tests import factories


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaa", "1234567890", "password12", "qwertyuiop", "zhang.wei.2026", "zhang.wei.2026!x", "\x00" * 10,
     "correct horse\x07battery"],
)
def test_guessable_passwords_the_username_and_control_characters_are_refused(password):
    with pytest.raises(RuleViolation) as caught:
        check_password(password, "zhang.wei.2026")
    assert caught.value.code == "weak_password" and caught.value.errors[0]["field"] == "password"


@pytest.mark.parametrize("password", ["correct horse battery staple", "老王的社工站2026春", "an0ther passphrase!"])
def test_passphrases_pass(password):
    check_password(password, "zhang.wei.2026")


async def test_the_api_refuses_a_weak_password_and_keeps_spaces_as_typed(client):
    admin = await factories.signed_in("admin")
    org = await factories.organisation("vendor")
    body = {"username": "li.na", "organisation_id": str(org.id), "role": "vendor"}
    for weak in ("aaaaaaaaaa", "1234567890", "password12", "li.na.li.na.2026", "\u0000" * 10):
        r = await client.post("/api/v1/users", json={**body, "password": weak}, headers=admin.headers)
        assert (r.status_code, r.json()["code"]) == (422, "weak_password"), weak
    spaced = "  correct horse battery staple  "
    r = await client.post("/api/v1/users", json={**body, "password": spaced}, headers=admin.headers)
    assert r.status_code == 201, r.text
    ok = await client.post("/api/v1/auth/token", json={"username": "li.na", "password": spaced})
    assert ok.status_code == 200
    trimmed = await client.post("/api/v1/auth/token", json={"username": "li.na", "password": spaced.strip()})
    assert trimmed.status_code == 401
