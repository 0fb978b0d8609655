"""A public tender from publication to a signed contract over HTTP, as the law runs it when
suppliers contest it (政府采购法 Arts. 52–58; 财政部令第94号):

1. four bids, a drawn panel, reviews, scores; the award notice names the best-ranked bid;
2. the third-ranked bidder challenges the result (质疑): the winner's references are false. The
   purchaser upholds it: the winner's bid is found non-responsive and, with three responsive bids
   left, the award goes to the next candidate (94号令 Art. 16);
3. the former winner challenges the new result; the purchaser dismisses it;
4. it complains to the region's regulator (投诉, 94号令 Art. 17), which accepts the complaint,
   suspends the procurement (no contract meanwhile: `procurement_suspended`) and decides it
   (dismissed), which ends the suspension (94号令 Arts. 21, 28, 29);
5. past the new award's standstill, the contract is signed with the second winner.

Every notice — the procurement notice, both results, both replies and the decision — is listed
at `/public/notices` with a stable URL, reads in full, and appears in the OCDS feed as a document
of the process; every release package and the record validate against OCDS 1.1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from govbuy.public import feed
from govbuy.settings import get_settings
from tests import factories
from tests.public import support as s

API = "/api/v1"
PRICES = ["880000.00", "905000.00", "930000.00", "955000.00"]


async def regulator(b: s.Bureau) -> factories.SignedIn:
    org = await factories.organisation("bureau", "市财政局政府采购监督管理处", region_code=b.region_code)
    return await factories.signed_in("regulator", org)


async def test_a_contested_tender_from_publication_to_contract(client):
    b = await s.bureau(client, region_code="440305")
    p = await s.published(client, b)
    vendors = await factories.many_signed_in("vendor", len(PRICES))
    for vendor, price in zip(vendors, PRICES):
        await s.bid(client, p, vendor, price)
    by_org = {str(v.organisation_id): v for v in vendors}
    await s.pass_deadline(client, p)
    first = await s.score_and_award(client, p)
    ranking = sorted(first["ranking"], key=lambda line: line["rank"])
    winner, runner_up, third = (by_org[line["vendor_id"]] for line in ranking[:3])
    assert first["vendor_id"] == str(winner.organisation_id)

    # 2. Upheld: the winner's bid is non-responsive, the award goes to the next candidate.
    upheld = s.ok(await client.post(f"{API}/tenders/{p.id}/challenges",
                                    json={"kind": "result", "grounds": "中标人提供的类似项目业绩合同系伪造"},
                                    headers=third.headers), 201)
    assert upheld["concerned_bid_ids"] == [first["winning_bid_id"]]
    upheld = s.ok(await client.post(f"{API}/tenders/{p.id}/challenges/{upheld['id']}/resolve",
                                    json={"outcome": "upheld", "reply": "经核实，中标人业绩合同与备案不符，其投标无效"},
                                    headers=b.user.headers))
    assert upheld["remedy"] == "next_candidate" and upheld["remedy_effect"]["tender_status"] == "awarded"
    second = s.ok(await client.get(f"{API}/tenders/{p.id}/award", headers=b.user.headers))
    assert second["id"] != first["id"] and second["vendor_id"] == str(runner_up.organisation_id)
    assert [line["rank"] for line in second["ranking"]] == [1, 2, 3]

    # 3. Dismissed: the former winner challenges the new result.
    dismissed = s.ok(await client.post(f"{API}/tenders/{p.id}/challenges",
                                       json={"kind": "result", "grounds": "我方业绩真实，撤销原中标结果的依据不足"},
                                       headers=winner.headers), 201)
    dismissed = s.ok(await client.post(f"{API}/tenders/{p.id}/challenges/{dismissed['id']}/resolve",
                                       json={"outcome": "dismissed", "reply": "经复核，原答复所依据的备案材料属实，质疑不成立"},
                                       headers=b.user.headers))
    assert dismissed["status"] == "dismissed"

    # 4. The complaint: accepted, the procurement suspended, decided.
    complaint = s.ok(await client.post(f"{API}/complaints",
                                       json={"challenge_id": dismissed["id"], "grounds": "采购人未听取我方陈述即认定业绩虚假"},
                                       headers=winner.headers), 201)
    reg = await regulator(b)
    s.ok(await client.post(f"{API}/complaints/{complaint['id']}/accept", headers=reg.headers))
    s.ok(await client.post(f"{API}/complaints/{complaint['id']}/suspend", json={"reason": "投诉事项可能影响采购结果"},
                           headers=reg.headers))
    await s.advance(client, b.admin, days=15)  # past the standstill; the suspension still holds
    start = (await s.now(client, b.user)).date() + timedelta(days=1)
    refused = await client.post(f"{API}/contracts", json={"tender_id": p.id, "start_date": str(start)}, headers=b.user.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "procurement_suspended")
    decision = s.ok(await client.post(f"{API}/complaints/{complaint['id']}/decide",
                                      json={"outcome": "dismissed", "decision": "采购人已依法核实业绩材料，投诉缺乏事实依据，予以驳回"},
                                      headers=reg.headers))
    assert decision["status"] == "decided" and decision["suspended"] is False

    # 5. The contract, with the second winner.
    assert datetime.fromisoformat(second["standstill_until"]) <= await s.now(client, b.user)
    contract = s.ok(await client.post(f"{API}/contracts", json={"tender_id": p.id, "start_date": str(start)},
                                      headers=b.user.headers), 201)
    assert contract["vendor_id"] == str(runner_up.organisation_id)
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/sign", headers=runner_up.headers))
    s.ok(await client.post(f"{API}/contracts/{contract['id']}/sign", headers=b.user.headers))

    # Every notice, listed newest first with its stable URL, and read in full.
    listed = s.ok(await client.get(f"{API}/public/notices", params={"tender_id": p.id}))["items"]
    assert [(n["type"], n["id"]) for n in listed] == [
        ("contract", contract["id"]),
        ("complaint_decision", complaint["id"]),
        ("challenge_reply", dismissed["id"]),
        ("result", second["id"]),
        ("challenge_reply", upheld["id"]),
        ("result", first["id"]),
        ("tender", p.id),
    ]
    public_url = get_settings().public_url
    for notice in listed:
        assert notice["url"] == f"{public_url}/api/v1/public/notices/{notice['id']}"
        assert notice["ocid"] == feed.ocid_of(p.id) and notice["region_code"] == b.region_code
    read = {n["id"]: s.ok(await client.get(f"{API}/public/notices/{n['id']}")) for n in listed}
    assert read[upheld["id"]]["outcome"] == "upheld" and read[upheld["id"]]["remedy"] == "next_candidate"
    assert "中标人业绩合同与备案不符" in read[upheld["id"]]["text"]
    assert read[upheld["id"]]["party"]["id"] == str(third.organisation_id)
    assert read[dismissed["id"]]["outcome"] == "dismissed" and read[dismissed["id"]]["remedy"] is None
    assert read[complaint["id"]]["subject"] == "采购人未听取我方陈述即认定业绩虚假"
    assert "投诉缺乏事实依据" in read[complaint["id"]]["text"]
    assert "已因质疑或投诉成立而撤销" in read[first["id"]]["text"]
    only_replies = s.ok(await client.get(f"{API}/public/notices", params={"type": "challenge_reply", "tender_id": p.id}))
    assert [n["id"] for n in only_replies["items"]] == [dismissed["id"], upheld["id"]]
    first_page = s.ok(await client.get(f"{API}/public/notices", params={"tender_id": p.id, "limit": 4}))
    assert len(first_page["items"]) == 4 and first_page["next_cursor"]
    rest = s.ok(await client.get(f"{API}/public/notices", params={"tender_id": p.id, "cursor": first_page["next_cursor"]}))
    assert [n["id"] for n in first_page["items"] + rest["items"]] == [n["id"] for n in listed]

    # The OCDS feed: every package valid; the record's compiled release carries every notice.
    releases, _, packages = await s.read_feed(client, limit=4)
    assert releases
    for package in packages:
        if package["releases"]:
            s.assert_valid_release_package(package)
    record = await s.record(client, feed.ocid_of(p.id))
    s.assert_valid_record_package(record)
    compiled = record["records"][0]["compiledRelease"]
    documents = {d["id"]: d for d in compiled["tender"]["documents"]}
    assert {d: documents[d]["documentType"] for d in documents} == {
        p.id: "tenderNotice",
        upheld["id"]: "complaints",
        dismissed["id"]: "complaints",
        complaint["id"]: "complaints",
    }
    assert all(documents[n["id"]]["url"] == n["url"] for n in listed if n["id"] in documents)
    awards = {a["id"]: a for a in compiled["awards"]}
    assert awards[first["id"]]["status"] == "cancelled" and awards[second["id"]]["status"] == "active"
    assert [d["documentType"] for d in awards[second["id"]]["documents"]] == ["awardNotice"]
    statuses = {d["tenderers"][0]["id"]: d["status"] for d in compiled["bids"]["details"]}
    assert statuses == {str(v.organisation_id): ("disqualified" if v is winner else "valid") for v in vendors}
    assert compiled["contracts"][0]["status"] == "active"
    assert [d["documentType"] for d in compiled["contracts"][0]["documents"]] == ["contractNotice"]
