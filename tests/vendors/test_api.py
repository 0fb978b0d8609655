"""Vendors through the API: codes, grades, credit lists and whether a vendor may bid."""

from __future__ import annotations

from datetime import date

import pytest

from govbuy.uscc import make_uscc
from tests import factories


async def _register(client, admin, uscc: str, name: str = "阳光社工服务中心"):
    return await client.post(
        "/api/v1/organisations",
        headers=admin.headers,
        json={"name": name, "kind": "vendor", "uscc": uscc, "region_code": "440300"},
    )


@pytest.mark.parametrize(
    ("prefix", "vendor_type", "label"),
    [
        ("51", "social_group", "社会团体"),
        ("52", "private_non_enterprise", "民办非企业单位/社会服务机构"),
        ("53", "foundation", "基金会"),
        ("91", "enterprise", "企业"),
        ("12", "public_institution", "事业单位"),
        ("31", "other", "其他"),
    ],
)
async def test_vendor_type_follows_the_first_two_characters(client, prefix, vendor_type, label):
    admin = await factories.signed_in("admin")
    code = make_uscc(prefix + "440300" + "8MA5F1Q2X")
    created = await _register(client, admin, code)
    assert created.status_code == 201, created.text
    vendor = (await client.get(f"/api/v1/vendors/{created.json()['id']}", headers=admin.headers)).json()
    assert vendor["vendor_type"] == vendor_type
    assert vendor["vendor_type_label"] == label


async def test_a_real_world_shaped_code_is_accepted(client):
    admin = await factories.signed_in("admin")
    # 91350100M000100Y43: the published example of GB 32100-2015 (check character 3).
    created = await _register(client, admin, "91350100M000100Y43")
    assert created.status_code == 201, created.text


async def test_lower_case_and_surrounding_spaces_are_normalised(client):
    admin = await factories.signed_in("admin")
    code = make_uscc("524403008MA5F1Q2X")
    created = await _register(client, admin, f"  {code.lower()}  ")
    assert created.status_code == 201
    assert created.json()["uscc"] == code


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("52440300", "found 8"),
        ("524403008MA5F1Q2X12", "found 19"),
        ("52440300IMA5F1Q2X1", "position 9"),
        ("52440300OMA5F1Q2X1", "'O'"),
        ("5244030-8MA5F1Q2X1", "position 8"),
    ],
)
async def test_invalid_codes_say_what_is_wrong(client, code, fragment):
    admin = await factories.signed_in("admin")
    response = await _register(client, admin, code)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_uscc"
    assert fragment in body["detail"]


async def test_wrong_check_character_names_the_expected_one(client):
    admin = await factories.signed_in("admin")
    good = make_uscc("524403008MA5F1Q2X")
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    response = await _register(client, admin, wrong)
    assert response.status_code == 422
    assert f"'{good[17]}' was expected" in response.json()["detail"]


async def test_the_same_code_cannot_be_registered_twice(client):
    admin = await factories.signed_in("admin")
    code = make_uscc("524403008MA5F1Q2X")
    assert (await _register(client, admin, code)).status_code == 201
    again = await _register(client, admin, code, name="another name")
    assert again.status_code == 409
    assert again.json()["code"] == "uscc_already_registered"


async def test_a_recent_grade_is_current_and_an_old_one_expired(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    today = (await client.get("/api/v1/sandbox/clock", headers=admin.headers)).json()["now"][:10]
    year = int(today[:4])
    old = await client.post(
        f"/api/v1/vendors/{vendor.id}/assessment-grades",
        headers=admin.headers,
        json={"grade": "4A", "awarded_on": f"{year - 6}-03-01"},
    )
    assert old.status_code == 201
    assert old.json()["expires_on"] == f"{year - 1}-03-01"
    read = (await client.get(f"/api/v1/vendors/{vendor.id}", headers=admin.headers)).json()
    assert read["assessment_grade"]["grade"] == "4A"
    assert read["assessment_grade"]["expired"] is True

    await client.post(
        f"/api/v1/vendors/{vendor.id}/assessment-grades",
        headers=admin.headers,
        json={"grade": "3A", "awarded_on": f"{year - 1}-01-15"},
    )
    read = (await client.get(f"/api/v1/vendors/{vendor.id}", headers=admin.headers)).json()
    assert read["assessment_grade"] == {
        "grade": "3A", "awarded_on": f"{year - 1}-01-15", "expires_on": f"{year + 4}-01-15", "expired": False,
    }
    history = (await client.get(f"/api/v1/vendors/{vendor.id}/assessment-grades", headers=admin.headers)).json()
    assert [g["grade"] for g in history["items"]] == ["3A", "4A"]


async def test_an_unknown_grade_is_refused(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/assessment-grades", headers=admin.headers,
        json={"grade": "6A", "awarded_on": "2025-01-01"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_assessment_grade"


async def test_an_active_list_entry_bars_bidding_until_removed(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    url = f"/api/v1/vendors/{vendor.id}"
    assert (await client.get(url, headers=admin.headers)).json()["may_bid_today"] is True

    listed = await client.post(
        f"{url}/credit-list-entries", headers=admin.headers,
        json={"list": "serious_dishonesty", "reason": "虚假材料骗取财政资金", "listed_on": "2025-06-01"},
    )
    assert listed.status_code == 201
    read = (await client.get(url, headers=admin.headers)).json()
    assert read["may_bid_today"] is False
    assert [b["code"] for b in read["bid_blockers"]] == ["credit_list_entry_active"]
    assert read["active_credit_list_entries"][0]["list_label"] == "严重违法失信名单"

    entry_id = listed.json()["id"]
    stale = await client.post(
        f"{url}/credit-list-entries/{entry_id}/remove", headers={**admin.headers, "If-Match": '"7"'},
        json={"removed_on": "2025-12-01", "reason": "信用修复"},
    )
    assert stale.status_code == 412
    removed = await client.post(
        f"{url}/credit-list-entries/{entry_id}/remove", headers={**admin.headers, "If-Match": '"1"'},
        json={"removed_on": "2025-12-01", "reason": "信用修复"},
    )
    assert removed.status_code == 200
    assert removed.headers["etag"] == '"2"'
    read = (await client.get(url, headers=admin.headers)).json()
    assert read["may_bid_today"] is True
    history = (await client.get(f"{url}/credit-list-entries", headers=admin.headers)).json()["items"]
    assert len(history) == 1 and history[0]["removed_on"] == "2025-12-01" and history[0]["active"] is False


async def test_an_entry_cannot_be_removed_twice_or_before_it_was_listed(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    url = f"/api/v1/vendors/{vendor.id}/credit-list-entries"
    entry = (await client.post(url, headers=admin.headers, json={"list": "abnormal", "reason": "未年检", "listed_on": "2025-06-01"})).json()
    early = await client.post(f"{url}/{entry['id']}/remove", headers=admin.headers, json={"removed_on": "2025-05-01", "reason": "x"})
    assert early.status_code == 422
    ok = await client.post(f"{url}/{entry['id']}/remove", headers=admin.headers, json={"removed_on": "2025-07-01", "reason": "已年检"})
    assert ok.status_code == 200
    twice = await client.post(f"{url}/{entry['id']}/remove", headers=admin.headers, json={"removed_on": "2025-08-01", "reason": "again"})
    assert twice.status_code == 409
    assert twice.json()["code"] == "credit_list_entry_already_removed"


async def test_only_an_admin_records_list_entries(client):
    bureau = await factories.signed_in("bureau")
    vendor = await factories.organisation("vendor")
    response = await client.post(
        f"/api/v1/vendors/{vendor.id}/credit-list-entries", headers=bureau.headers,
        json={"list": "abnormal", "reason": "x", "listed_on": "2025-06-01"},
    )
    assert response.status_code == 403


async def test_a_non_vendor_organisation_is_not_a_vendor(client):
    admin = await factories.signed_in("admin")
    bureau = await factories.organisation("bureau")
    response = await client.get(f"/api/v1/vendors/{bureau.id}", headers=admin.headers)
    assert response.status_code == 404


async def test_vendor_list_is_keyset_paginated(client):
    admin = await factories.signed_in("admin")
    for n in range(5):
        await factories.organisation("vendor", name=f"社工机构 {n}")
    first = (await client.get("/api/v1/vendors?limit=2", headers=admin.headers)).json()
    second = (await client.get(f"/api/v1/vendors?limit=2&cursor={first['next_cursor']}", headers=admin.headers)).json()
    third = (await client.get(f"/api/v1/vendors?limit=2&cursor={second['next_cursor']}", headers=admin.headers)).json()
    names = [v["name"] for v in first["items"] + second["items"] + third["items"]]
    assert names == [f"社工机构 {n}" for n in range(5)]
    assert third["next_cursor"] is None
