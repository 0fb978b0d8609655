"""Indicator templates and evaluators' declared affiliations."""

from __future__ import annotations

from decimal import Decimal

from govbuy import database as db
from tests import factories

TEMPLATES = "/api/v1/indicator-templates"


def indicators(*weights: str) -> list[dict[str, str]]:
    categories = ["input", "process", "output", "outcome", "satisfaction"]
    return [
        {"code": f"K{i}", "name": f"指标{i}", "category": categories[i % 5], "weight": w} for i, w in enumerate(weights)
    ]


async def test_the_default_template_is_installed_with_named_chinese_sub_indicators(client):
    vendor = await factories.fast_user("vendor")
    r = await client.get(TEMPLATES, headers=vendor.headers)
    assert r.status_code == 200
    default = next(t for t in r.json()["items"] if t["is_default"])
    assert default["category_weights"] == {
        "input": "10", "process": "20", "output": "30", "outcome": "25", "satisfaction": "15",
    }
    names = {i["name"] for i in default["indicators"]}
    assert {"资金到位率", "服务质量达标率", "服务对象满意度"} <= names
    assert sum(Decimal(i["weight"]) for i in default["indicators"]) == 100
    one = await client.get(f"{TEMPLATES}/{default['id']}", headers=vendor.headers)
    assert one.json() == default


async def test_a_bureau_creates_a_template_whose_weights_sum_to_100(client):
    bureau = await factories.fast_user("bureau")
    body = {"name": "养老服务评价指标", "indicators": indicators("10", "20", "30", "25", "15")}
    r = await client.post(TEMPLATES, json=body, headers=bureau.headers)
    assert r.status_code == 201, r.text
    assert r.json()["is_default"] is False
    assert r.json()["organisation_id"] == str(bureau.organisation_id)


async def test_weights_not_summing_to_100_are_refused_and_nothing_is_stored(client):
    bureau = await factories.fast_user("bureau")
    before = await db.fetchval("SELECT count(*) FROM indicator_templates")
    r = await client.post(TEMPLATES, json={"name": "x", "indicators": indicators("10", "20", "30", "25", "14.5")}, headers=bureau.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "weights_must_sum_to_100"
    assert "99.5" in r.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM indicator_templates") == before


async def test_a_template_with_an_unknown_category_is_refused_with_the_field(client):
    admin = await factories.fast_user("admin")
    bad = indicators("50", "50")
    bad[1]["category"] = "vibes"
    r = await client.post(TEMPLATES, json={"name": "x", "indicators": bad}, headers=admin.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_template"
    assert r.json()["errors"][0]["field"] == "indicators[1].category"


async def test_vendors_and_evaluators_may_not_create_templates(client):
    for role in ("vendor", "evaluator"):
        who = await factories.fast_user(role)
        r = await client.post(TEMPLATES, json={"name": "x", "indicators": indicators("100")}, headers=who.headers)
        assert r.status_code == 403


async def test_an_admin_declares_an_evaluators_affiliations(client):
    admin = await factories.fast_user("admin")
    evaluator = await factories.evaluator_user()
    vendors = [await factories.organisation("vendor") for _ in range(2)]
    url = f"/api/v1/evaluators/{evaluator.organisation_id}/affiliations"
    r = await client.put(url, json={"vendor_ids": [str(v.id) for v in vendors], "note": "同一法定代表人"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert sorted(r.json()["vendor_ids"]) == sorted(str(v.id) for v in vendors)
    r = await client.put(url, json={"vendor_ids": [str(vendors[0].id)]}, headers=admin.headers)
    assert r.json()["vendor_ids"] == [str(vendors[0].id)]
    own = await client.get(url, headers=evaluator.headers)
    assert own.json()["vendor_ids"] == [str(vendors[0].id)]
    other = await factories.evaluator_user()
    assert (await client.get(url, headers=other.headers)).status_code == 404
    events = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'evaluator.affiliations_declared' AND entity_id = $1",
        str(evaluator.organisation_id),
    )
    assert events == 2


async def test_affiliations_are_declared_with_vendors_only_and_for_evaluators_only(client):
    admin = await factories.fast_user("admin")
    evaluator = await factories.evaluator_user()
    bureau = await factories.organisation("bureau")
    r = await client.put(
        f"/api/v1/evaluators/{evaluator.organisation_id}/affiliations",
        json={"vendor_ids": [str(bureau.id)]}, headers=admin.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "vendor_not_found"
    r = await client.put(f"/api/v1/evaluators/{bureau.id}/affiliations", json={"vendor_ids": []}, headers=admin.headers)
    assert r.status_code == 404


async def test_a_bureau_lists_the_evaluation_agencies(client):
    bureau = await factories.fast_user("bureau")
    evaluator = await factories.evaluator_user()
    r = await client.get("/api/v1/evaluators", headers=bureau.headers)
    assert [e["id"] for e in r.json()["items"]] == [str(evaluator.organisation_id)]
