"""The seal (DESIGN §2): before the deadline nobody — the bureau, admins, experts, supervisors,
other vendors, the public — obtains a bid's price or proposal through any endpoint, list,
filter, order or error message. Every response body is searched for the price and a unique
marker in the proposal; after the deadline the same search finds them, so it would notice."""

from __future__ import annotations

from uuid import UUID, uuid4

from govbuy import database as db
from tests import factories
from tests.procurement import support as s

PRICE = "987654.32"


def leaks(text: str, marker: str) -> list[str]:
    found = [needle for needle in (PRICE, "987654", marker) if needle in text]
    return found


async def test_no_role_reads_a_sealed_bid_through_any_endpoint(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    tid = tender["id"]
    owner, other_bidder, outsider = await factories.many_signed_in("vendor", 3)
    expert = await factories.signed_in("expert")
    supervisor = await factories.signed_in("supervisor")
    marker = f"SEALED-PROPOSAL-{uuid4().hex}"
    sealed = await s.bid(client, tid, owner, PRICE, f"我们的方案 {marker}")
    assert sealed.status_code == 201
    bid_id = sealed.json()["id"]
    assert (await s.bid(client, tid, other_bidder, "800000.00", "另一方案")).status_code == 201
    r = await client.post(f"/api/v1/tenders/{tid}/questions", json={"question": f"价格 {PRICE} 合理吗？"}, headers=other_bidder.headers)
    assert r.status_code == 201  # a question quoting the number must not be what we find below

    reads = [
        "/api/v1/tenders",
        "/api/v1/tenders?status=published",
        "/api/v1/tenders?method=public_tender",
        f"/api/v1/tenders?catalogue_item_id={w.item_id}",
        f"/api/v1/tenders?bureau_id={w.bureau.organisation_id}",
        "/api/v1/tenders?deadline_from=2000-01-01T00:00:00Z",
        f"/api/v1/tenders/{tid}",
        f"/api/v1/tenders/{tid}/bids",
        f"/api/v1/tenders/{tid}/bids?status=submitted",
        f"/api/v1/tenders/{tid}/bids?limit=1",
        f"/api/v1/tenders/{tid}/bids/{bid_id}",
        f"/api/v1/tenders/{tid}/bids/{bid_id}/scores",
        f"/api/v1/tenders/{tid}/scores",
        f"/api/v1/tenders/{tid}/panel",
        f"/api/v1/tenders/{tid}/award",
        f"/api/v1/tenders/{tid}/challenges",
        "/api/v1/audit-events",
        "/api/v1/audit-events?entity_type=bid",
        f"/api/v1/audit-events?entity_id={bid_id}",
        f"/api/v1/audit-events?entity_type=tender&entity_id={tid}",
        f"/api/v1/vendors/{owner.organisation_id}",
        f"/api/v1/budget-lines/{w.line_id}",
        "/api/v1/public/tenders",
        f"/api/v1/public/tenders/{tid}",
        "/api/v1/public/ocds/releases",
    ]
    writes = [
        ("PATCH", f"/api/v1/tenders/{tid}/bids/{bid_id}", {"price": "1.00"}),
        ("PATCH", f"/api/v1/tenders/{tid}/bids/{bid_id}", {"proposal": "x"}),
        ("POST", f"/api/v1/tenders/{tid}/bids/{bid_id}/withdraw", None),
        ("PUT", f"/api/v1/tenders/{tid}/bids/{bid_id}/scores", {"scores": {"服务方案": "40", "团队与经验": "30"}}),
        ("PUT", f"/api/v1/tenders/{tid}/panel", {"expert_user_ids": [str(expert.id)]}),
        ("POST", f"/api/v1/tenders/{tid}/award", None),
        ("POST", f"/api/v1/tenders/{tid}/challenges", {"grounds": "x"}),
        ("POST", f"/api/v1/tenders/{tid}/bids", {"price": "123456.78", "proposal": "probe"}),
        ("POST", f"/api/v1/tenders/{tid}/cancel", {"reason": ""}),
    ]
    identities = {
        "bureau": w.bureau,
        "admin": w.admin,
        "expert": expert,
        "supervisor": supervisor,
        "other bidder": other_bidder,
        "outsider vendor": outsider,
    }
    found: list[tuple[str, str, int, list[str]]] = []
    statuses: dict[tuple[str, str], int] = {}
    for who, person in [*identities.items(), ("public", None)]:
        headers = person.headers if person else {}
        for url in reads:
            r = await client.get(url, headers=headers)
            assert r.status_code < 500, (who, url, r.text)
            statuses[(who, url)] = r.status_code
            body = r.text.replace(f"价格 {PRICE} 合理吗？", "")
            if leaks(body, marker):
                found.append((who, url, r.status_code, leaks(body, marker)))
        for method, url, payload in writes:
            # The bid's own version, so that a revision reaches the service's checks (not 428).
            edit = {"If-Match": '"1"'} if method == "PATCH" else {}
            r = await client.request(method, url, json=payload, headers={**headers, **edit})
            assert r.status_code < 500, (who, method, url, r.text)
            if leaks(r.text, marker):
                found.append((who, f"{method} {url}", r.status_code, leaks(r.text, marker)))
    assert found == []
    # The refusals say why, without saying what: bids are sealed (409) or not the caller's (404).
    assert statuses[("bureau", f"/api/v1/tenders/{tid}/bids")] == 409
    assert statuses[("admin", f"/api/v1/tenders/{tid}/bids/{bid_id}")] == 409
    assert statuses[("outsider vendor", f"/api/v1/tenders/{tid}/bids/{bid_id}")] == 404
    assert statuses[("expert", f"/api/v1/tenders/{tid}")] == 404
    # The owner's bid was not changed by anyone's attempt.
    own = await client.get(f"/api/v1/tenders/{tid}/bids/{bid_id}", headers=owner.headers)
    assert own.json()["price"] == PRICE and own.json()["status"] == "submitted" and marker in own.text

    # Positive control: once the deadline has passed the same search finds the price.
    await s.pass_deadline(client, w, tender)
    r = await client.get(f"/api/v1/tenders/{tid}/bids", headers=w.bureau.headers)
    assert PRICE in r.text and marker in r.text
    r = await client.get(f"/api/v1/tenders/{tid}/bids", headers=other_bidder.headers)
    assert PRICE in r.text and marker not in r.text


async def test_a_bidder_sees_only_its_own_bid_before_the_deadline(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    first, second = await factories.many_signed_in("vendor", 2)
    await s.bid(client, tender["id"], first, PRICE, "first")
    await s.bid(client, tender["id"], second, "800000.00", "second")
    r = await client.get(f"/api/v1/tenders/{tender['id']}/bids", headers=second.headers)
    assert [b["price"] for b in r.json()["items"]] == ["800000.00"]
    assert PRICE not in r.text


async def test_a_sealed_bid_changed_in_the_database_is_not_opened_and_raises_an_alert(client):
    """87号令 Art. 40: the opening checks the seal. A price rewritten by SQL before the deadline
    no longer matches the digest recorded at sealing: the bid is not opened, never ranked, the
    audit log records an alert and the region's regulator and the supervisors are told."""
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendors = await factories.many_signed_in("vendor", 4)
    bids = []
    for vendor, price in zip(vendors, ("900000.00", "910000.00", "920000.00", "930000.00")):
        r = await s.bid(client, tender["id"], vendor, price)
        assert r.status_code == 201, r.text
        bids.append(r.json())
    await db.execute("UPDATE bids SET price = 300000.00 WHERE id = $1", UUID(bids[0]["id"]))
    region = await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", w.bureau.organisation_id)
    regulator = await factories.signed_in("regulator", await factories.organisation("bureau", region_code=region))
    elsewhere = await factories.signed_in("regulator", await factories.organisation("bureau", region_code="650100"))
    supervisor = await factories.signed_in("supervisor")
    await s.pass_deadline(client, w, tender)
    opened = {b["id"]: b for b in (await client.get(f"/api/v1/tenders/{tender['id']}/bids",
                                                    headers=w.bureau.headers)).json()["items"]}
    assert opened[bids[0]["id"]]["status"] == "invalid" and "sealed" in opened[bids[0]["id"]]["invalid_reason"]
    assert [opened[b["id"]]["status"] for b in bids[1:]] == ["valid"] * 3
    alert = await db.fetchrow("SELECT after FROM audit_events WHERE action = 'bid.tamper_detected' AND entity_id = $1",
                              bids[0]["id"])
    assert alert is not None and alert["after"]["sealed_digest"] == bids[0]["content_digest"]
    told = {r["organisation_id"] for r in await db.fetch(
        "SELECT organisation_id FROM notifications WHERE event = 'bid.tamper_detected' AND entity_id = $1", tender["id"])}
    assert {regulator.organisation_id, supervisor.organisation_id} <= told and elsewhere.organisation_id not in told
