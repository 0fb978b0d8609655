"""A whole contracting process through the API — publication, sealed bids, opening, panel
scoring, award, a dismissed challenge, contract, amendment, delivery, third-party evaluation,
payment — watched from outside after every step: every release and record the feed publishes
validates against the official OCDS 1.1 schema with the declared extensions, and no public
response ever carries what DESIGN §8 keeps private."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from govbuy import database as db
from govbuy.public import feed, ocds, ocds_mapping
from tests import factories
from tests.factories import SignedIn
from tests.public import support as s

API = "/api/v1"
PRICES = ("880123.45", "912345.67", "950000.10")
BENEFICIARY = "服务对象王小明 身份证 440304195001011234"
FINDINGS = "评价发现：走访服务对象 36 户"


@dataclass
class Watcher:
    """Reads every public endpoint after each step, as a stranger would, and keeps it all."""

    client: Any
    tender_id: str | None = None
    contract_id: str | None = None
    vendor_ids: list[str] = field(default_factory=list)
    # (step, sealed, url, body text)
    seen: list[tuple[str, bool, str, str]] = field(default_factory=list)

    async def look(self, step: str, *, sealed: bool) -> None:
        urls = ["/public/tenders", "/public/contracts", "/public/ocds/releases?since=0&limit=200"]
        if self.tender_id:
            urls += [f"/public/tenders/{self.tender_id}", f"/public/ocds/records/{feed.ocid_of(self.tender_id)}",
                     f"/public/tenders?q=养老&limit=5"]
        if self.contract_id:
            urls += [f"/public/contracts/{self.contract_id}"]
        urls += [f"/public/vendors/{v}" for v in self.vendor_ids]
        for url in urls:
            r = await self.client.get(API + url)
            assert r.status_code in (200, 404), (step, url, r.text)
            self.seen.append((step, sealed, url, r.text))


@dataclass
class Scenario:
    bureau: s.Bureau
    process: s.Process
    watcher: Watcher
    evaluator: SignedIn
    contract: dict[str, Any]
    users: list[SignedIn]


async def run(client) -> Scenario:
    w = Watcher(client)
    b = await s.bureau(client)
    await w.look("bureau ready", sealed=True)
    p = await s.published(client, b)
    w.tender_id = p.id
    await w.look("published", sealed=True)
    vendors = [await factories.signed_in("vendor") for _ in PRICES]
    w.vendor_ids = [str(v.organisation_id) for v in vendors]
    for vendor, price in zip(vendors, PRICES):
        await s.bid(client, p, vendor, price)
        await w.look(f"bid {price}", sealed=True)
    # A question before the deadline, answered: tender documents, not a release.
    q = s.ok(await client.post(f"{API}/tenders/{p.id}/questions", json={"question": "服务范围是否包含夜间？"}, headers=vendors[0].headers))
    s.ok(await client.post(f"{API}/tenders/{p.id}/questions/{q['id']}/answer", json={"answer": "不包含"}, headers=b.user.headers))
    await w.look("question answered", sealed=True)
    # A clarification (澄清, 87号令 Art. 27): a public notice and a tenderAmendment release; the deadline stays.
    tender = s.ok(await client.get(f"{API}/tenders/{p.id}", headers=b.user.headers))
    s.ok(await client.post(f"{API}/tenders/{p.id}/amendments",
                           json={"description": f"{tender['description']}（夜间服务不在范围内）", "clarification": True,
                                 "reason": "澄清服务范围"},
                           headers=factories.if_match(b.user, tender)), 201)
    await w.look("tender amended", sealed=True)

    await s.pass_deadline(client, p)
    await w.look("opened", sealed=False)
    await s.score_and_award(client, p)
    await w.look("awarded", sealed=False)
    winner = next(v for v in vendors if str(v.organisation_id) == p.award["vendor_id"])
    loser = next(v for v in vendors if v is not winner)
    challenge = s.ok(await client.post(f"{API}/tenders/{p.id}/challenges", json={"grounds": "评分不公"}, headers=loser.headers))
    await w.look("challenged", sealed=False)
    s.ok(await client.post(f"{API}/tenders/{p.id}/challenges/{challenge['id']}/resolve",
                           json={"outcome": "dismissed", "reply": "经复核，评分无误"}, headers=b.user.headers))
    await w.look("challenge dismissed", sealed=False)

    await s.advance(client, b.admin, days=15)  # past the standstill of 7 working days
    start = (await s.now(client, b.admin)).date() + timedelta(days=1)
    contract = s.ok(await client.post(f"{API}/contracts", json={"tender_id": p.id, "start_date": str(start)}, headers=b.user.headers), 201)
    w.contract_id = contract["id"]
    await w.look("contract drafted", sealed=False)
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/sign", headers=winner.headers))
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/sign", headers=b.user.headers))
    await w.look("contract signed", sealed=False)
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/amendments",
                           json={"increase": "20000.00", "reason": "服务对象增加 20 户"}, headers=b.user.headers), 201)
    contract = s.ok(await client.get(f"{API}/contracts/{contract['id']}", headers=b.user.headers))
    await w.look("amended", sealed=False)

    first = contract["milestones"][0]
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/milestones/{first['id']}/deliverables",
                           json={"summary": BENEFICIARY, "figures": {"people_served": 36}}, headers=winner.headers), 201)
    await w.look("delivered", sealed=False)
    evaluator = await factories.signed_in("evaluator")
    today = (await s.now(client, b.admin)).date()
    evaluation = s.ok(await client.post(
        f"{API}/evaluations",
        json={"contract_id": contract["id"], "milestone_id": first["id"], "evaluator_org_id": str(evaluator.organisation_id),
              "due_date": str(today + timedelta(days=20))},
        headers=b.user.headers,
    ), 201)
    await w.look("evaluation commissioned", sealed=False)
    scores = scores_totalling(evaluation["indicators"], "86.50")
    s.ok(await client.put(f"{API}/evaluations/{evaluation['id']}/scores", json={"scores": scores, "findings": FINDINGS},
                          headers=factories.if_match(evaluator, evaluation)))
    s.ok(await client.post(f"{API}/evaluations/{evaluation['id']}/submit", headers=evaluator.headers))
    await w.look("evaluation submitted", sealed=False)
    s.ok(await client.post(f"{API}/evaluations/{evaluation['id']}/accept", headers=b.user.headers))
    await w.look("evaluation accepted", sealed=False)
    await s.advance(client, b.admin, days=10)  # the vendor's appeal window passes
    payment = s.ok(await client.post(f"{API}/contracts/{contract['id']}/milestones/{first['id']}/payments",
                                     headers={**b.user.headers, "Idempotency-Key": "scenario-m1"}), 201)
    await w.look("payment decided", sealed=False)
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/payments/{payment['id']}/confirm",
                           json={"treasury_reference": "GK-2026-0001"}, headers=b.user.headers))
    await w.look("payment confirmed", sealed=False)
    users = [b.user, b.admin, evaluator, *vendors, *p.experts]
    return Scenario(b, p, w, evaluator, contract, users)


def scores_totalling(indicators: list[dict[str, Any]], total: str) -> dict[str, str]:
    """Indicator scores in proportion to their weights, the last taking the remainder."""
    target = Decimal(total)
    scores = {i["code"]: (Decimal(str(i["weight"])) * target / 100).quantize(Decimal("0.01")) for i in indicators[:-1]}
    scores[indicators[-1]["code"]] = target - sum(scores.values(), Decimal(0))
    return {k: str(v) for k, v in scores.items()}


async def test_every_release_and_record_of_a_whole_process_validates(client):
    scenario = await run(client)
    releases, _, packages = await s.read_feed(client, limit=3)
    for package in packages:
        if package["releases"]:  # an empty page (caught up) has nothing to validate
            s.assert_valid_release_package(package)
    for release in releases:
        assert ocds.validate_release(release) == [], release["tag"]
    # Each step that changed something public, and nothing else, published one release.
    assert [r["tag"] for r in releases] == [
        ["tender"],  # published
        ["tenderAmendment"],  # the clarification (更正公告)
        ["tenderUpdate"],  # opened: bidders and prices, every bid pending review
        ["tenderUpdate"],  # the first bid found responsive (资格性 and 符合性审查): valid
        ["tenderUpdate"],
        ["tenderUpdate"],
        ["tenderUpdate", "award"],  # award notice, pending during the standstill
        ["tenderUpdate"],  # the challenge's reply, a public notice (a `complaints` document)
        ["awardUpdate"],  # contract drafted (not public yet); the award, past its standstill, in force
        ["contract"],  # signed: the contract is public from now (the tender, contracted, is still `complete`)
        ["contractAmendment"],
        ["implementation"],  # first milestone delivered
        ["implementationUpdate"],  # evaluation accepted
        ["implementationUpdate"],  # payment decided
        ["implementationUpdate"],  # payment confirmed: the transaction
    ]
    ocid = feed.ocid_of(scenario.process.id)
    assert {r["ocid"] for r in releases} == {ocid}
    dates = [ocds._instant(r["date"]) for r in releases]
    assert dates == sorted(dates)
    # Every record the service published along the way validates too.
    records = [json.loads(text) for _, _, url, text in scenario.watcher.seen if "/ocds/records/" in url and '"records"' in text]
    assert len(records) > 10
    for record in records:
        s.assert_valid_record_package(record)
    compiled = records[-1]["records"][0]["compiledRelease"]
    implementation = compiled["contracts"][0]["implementation"]
    [transaction] = implementation["transactions"]
    assert transaction["relatedImplementationMilestone"]["id"].endswith("-payment")
    assert transaction["value"]["currency"] == "CNY"
    assert compiled["contracts"][0]["value"]["amount"] == ocds_mapping.amount(Decimal(scenario.contract["amount"]))
    assert implementation["metrics"][0]["observations"][0]["measure"] == 86.5
    assert compiled["awards"][0]["status"] == "active"
    assert await db.fetchval("SELECT count(*) FROM ocds_releases") == len(releases)


async def test_no_public_response_ever_carries_what_must_stay_private(client):
    scenario = await run(client)
    seen = scenario.watcher.seen
    assert len(seen) > 100
    users = scenario.users
    hashes = [r["password_hash"] for r in await db.fetch("SELECT password_hash FROM users")]
    # The private material exists, so finding none of it outside means something.
    assert await db.fetchval("SELECT count(*) FROM bid_scores") == 15  # 5 experts × 3 bids
    assert await db.fetchval("SELECT count(*) FROM bids WHERE proposal LIKE $1", f"{s.PROPOSAL_MARKER}%") == 3
    assert await db.fetchval("SELECT count(*) FROM deliverables WHERE summary = $1", BENEFICIARY) == 1
    assert any(sealed for _, sealed, _, _ in seen) and any(not sealed for _, sealed, _, _ in seen)
    secrets = {
        "a proposal": [s.PROPOSAL_MARKER],
        "an expert's own score": list(s.EXPERT_SCORES),
        "a beneficiary's data": [BENEFICIARY, "440304195001011234", "王小明"],
        "the evaluator's findings": [FINDINGS],
        "a username": [u.user.username for u in users],
        "a user id": [str(u.user.id) for u in users],
        "a password hash": ["$argon2", *hashes],
        "a token": ["eyJhbGciOi", *(u.token for u in users)],
    }
    for step, sealed, url, text in seen:
        for what, needles in secrets.items():
            for needle in needles:
                assert needle not in text, f"{what} ({needle!r}) in {url} after '{step}'"
        if sealed:  # before the opening not even a price
            for price in PRICES:
                assert price not in text and str(float(price)) not in text, f"a sealed bid's price in {url} after '{step}'"
    # After the opening the prices are public, and the award notice's ranking shows the panel's means.
    opened = [text for step, sealed, url, text in seen if not sealed and url == f"/public/tenders/{scenario.process.id}"]
    assert all(all(price in text for price in PRICES) for text in opened)
    assert '"technical_score"' in opened[-1]


async def test_a_public_contract_shows_milestones_grades_and_payments(client):
    scenario = await run(client)
    cid = scenario.contract["id"]
    listed = s.ok(await client.get(f"{API}/public/contracts", params={"tender_id": scenario.process.id}))["items"]
    assert [c["id"] for c in listed] == [cid]
    contract = s.ok(await client.get(f"{API}/public/contracts/{cid}"))
    assert contract["status"] == "active" and contract["signed_at"] is not None
    assert contract["vendor"]["id"] == scenario.process.award["vendor_id"]
    assert Decimal(contract["amount"]) == Decimal(contract["original_amount"]) + Decimal("20000.00")
    first, *rest = contract["milestones"]
    assert first["evaluation"]["grade"] == "good" and first["evaluation"]["grade_label"] == "良"
    assert first["evaluation"]["total_score"] == "86.50"
    payment = first["payment"]
    assert payment["status"] == "confirmed" and payment["payout_ratio"] in ("0.95", "0.9500")
    assert Decimal(payment["amount"]) + Decimal(payment["withheld_amount"]) == Decimal(first["amount"])
    assert all(m["evaluation"] is None and m["payment"] is None for m in rest)
    assert sum(Decimal(m["amount"]) for m in contract["milestones"]) == Decimal(contract["amount"])
    by_vendor = s.ok(await client.get(f"{API}/public/contracts", params={"vendor_id": contract["vendor"]["id"], "status": "active"}))
    assert [c["id"] for c in by_vendor["items"]] == [cid]
