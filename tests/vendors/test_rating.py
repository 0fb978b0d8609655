"""The stored credit rating: computed on changes, explained, and stable under recomputation."""

from __future__ import annotations

from govbuy import database as db
from tests import factories
from vendors import service


async def test_a_vendor_without_history_is_provisional(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    rating = (await client.get(f"/api/v1/vendors/{vendor.id}/credit-rating", headers=admin.headers)).json()
    assert rating["provisional"] is True
    assert rating["score"] is None and rating["grade"] is None
    assert rating["eligible"] is True
    assert rating["rules_version"] == "credit-2026.2"
    assert {c["name"] for c in rating["components"]} == {"performance", "delivery", "assessment", "conduct"}


async def test_a_list_entry_makes_the_rating_ineligible_and_is_named(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    await client.post(
        f"/api/v1/vendors/{vendor.id}/credit-list-entries", headers=admin.headers,
        json={"list": "dishonest_judgment_debtor", "reason": "法院判决未履行", "listed_on": "2025-03-01"},
    )
    rating = (await client.get(f"/api/v1/vendors/{vendor.id}/credit-rating", headers=admin.headers)).json()
    assert rating["eligible"] is False
    assert [e["list"] for e in rating["blocking_entries"]] == ["dishonest_judgment_debtor"]


async def test_recomputing_twice_stores_no_new_history_row(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    await client.post(
        f"/api/v1/vendors/{vendor.id}/assessment-grades", headers=admin.headers, json={"grade": "4A", "awarded_on": "2025-01-10"}
    )
    before = await db.fetchval("SELECT count(*) FROM credit_ratings WHERE vendor_id = $1", vendor.id)
    assert before == 1
    assert await service.recompute_rating(None, vendor.id) is False
    await service.recompute_all()
    after = await db.fetchval("SELECT count(*) FROM credit_ratings WHERE vendor_id = $1", vendor.id)
    assert after == before
    history = (await client.get(f"/api/v1/vendors/{vendor.id}/credit-rating/history", headers=admin.headers)).json()
    assert len(history["items"]) == 1


async def test_a_changed_input_stores_a_new_rating_and_keeps_the_old(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    url = f"/api/v1/vendors/{vendor.id}"
    await client.post(f"{url}/assessment-grades", headers=admin.headers, json={"grade": "3A", "awarded_on": "2024-05-01"})
    await client.post(f"{url}/assessment-grades", headers=admin.headers, json={"grade": "5A", "awarded_on": "2025-05-01"})
    history = (await client.get(f"{url}/credit-rating/history", headers=admin.headers)).json()["items"]
    assert len(history) == 2
    assert history[0]["inputs"]["assessment_grade"] == 5
    assert history[1]["inputs"]["assessment_grade"] == 3


async def test_recompute_all_rates_every_vendor_in_batches(database):
    for _ in range(7):
        await factories.organisation("vendor")
    seen: list[tuple[int, int]] = []
    stored = await service.recompute_all(batch=3, progress=lambda done, total: seen.append((done, total)))
    assert stored == 7
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
    assert await service.recompute_all(batch=3) == 0


async def test_a_rating_from_fresher_facts_is_not_overwritten_by_the_full_recompute(client, monkeypatch):
    admin = await factories.signed_in("admin")
    vendor = await factories.organisation("vendor")
    rate = service._rate

    async def rate_then_list_the_vendor(facts, today):
        monkeypatch.setattr(service, "_rate", rate)  # once: the vendor's own recompute rates as usual
        rated = await rate(facts, today)  # from the snapshot: no list entry, eligible
        # Meanwhile the vendor is listed; its own recompute reads the entry and stores that.
        r = await client.post(
            f"/api/v1/vendors/{vendor.id}/credit-list-entries", headers=admin.headers,
            json={"list": "dishonest_judgment_debtor", "reason": "法院判决未履行", "listed_on": "2025-03-01"},
        )
        assert r.status_code == 201, r.text
        return rated

    monkeypatch.setattr(service, "_rate", rate_then_list_the_vendor)
    await service.recompute_all()
    rating = (await client.get(f"/api/v1/vendors/{vendor.id}/credit-rating", headers=admin.headers)).json()
    assert rating["eligible"] is False
    assert await db.fetchval("SELECT count(*) FROM credit_ratings WHERE vendor_id = $1", vendor.id) == 1
