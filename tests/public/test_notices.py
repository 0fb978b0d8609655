"""The public notices of a contract (DESIGN §8): a contract is public once both parties signed,
never as a draft; its signature, each accepted evaluation and its termination are notices."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests import factories

API = "/api/v1"


async def notices_of(client, tender_id) -> list[dict]:
    r = await client.get(f"{API}/public/notices", params={"tender_id": str(tender_id)})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_contract_is_public_once_signed_and_its_acceptances_and_termination_are_notices(client):
    award, draft = await factories.contract_from_award(client, sign=False)
    assert (await client.get(f"{API}/public/contracts/{draft['id']}")).status_code == 404
    listed = (await client.get(f"{API}/public/contracts", params={"tender_id": str(award.tender_id)})).json()["items"]
    assert listed == []
    assert [n["type"] for n in await notices_of(client, award.tender_id)] == ["result", "tender"]  # no contract notice
    for party in (award.bureau, award.vendor):
        assert (await client.post(f"{API}/contracts/{draft['id']}/sign", headers=party.headers)).status_code == 200
    public = await client.get(f"{API}/public/contracts/{draft['id']}")
    assert public.status_code == 200 and public.json()["status"] == "active"
    milestone = draft["milestones"][0]
    evaluation = await factories.accepted_evaluation(client, award, draft["id"], milestone["id"], "85")
    r = await client.post(f"{API}/contracts/{draft['id']}/terminate", json={"reason": "服务对象整体迁出辖区", "for_cause": False},
                          headers=award.bureau.headers)
    assert r.status_code == 200, r.text
    notices = await notices_of(client, award.tender_id)
    assert [n["type"] for n in notices] == ["termination", "acceptance", "contract", "result", "tender"]
    by_type = {n["type"]: n for n in notices}
    assert by_type["contract"]["id"] == draft["id"] and by_type["acceptance"]["id"] == evaluation["id"]
    acceptance = (await client.get(f"{API}/public/notices/{evaluation['id']}")).json()
    assert "第三方绩效评价得分 85.00 分，等级良" in acceptance["text"] and acceptance["subject"] == milestone["title"]
    termination = (await client.get(urlsplit(by_type["termination"]["url"]).path)).json()
    assert termination["type"] == "termination" and "服务对象整体迁出辖区" in termination["text"]
    only = (await client.get(f"{API}/public/notices", params={"type": "acceptance", "tender_id": str(award.tender_id)})).json()
    assert [n["id"] for n in only["items"]] == [evaluation["id"]]
