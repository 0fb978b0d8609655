"""Periods as the law counts them, over the API: the standstill ends at 24:00 Beijing time of its
last day, and recording a year's holiday schedule recounts every open period that had counted
that year by the fallback — a window given to a party only ever ends later, a bid deadline that
became too short is moved as a public change, and each party concerned is told.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from govbuy import database as db
from govbuy.holidays import statutory_holidays
from govbuy.rules import SHANGHAI
from tests import factories
from tests.procurement import support as s

API = "/api/v1"
PRICES = ["480000.00", "495000.00", "510000.00"]
LOWEST = {"method": "public_tender", "evaluation_method": "lowest_price", "price_weight": None, "criteria": []}


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


async def stand_at(client, w, moment: datetime) -> None:
    await s.advance_past(client, w.admin, moment, seconds=0)


async def awarded_at(client, w, moment: datetime):
    """A lowest-price public tender, opened, and awarded at `moment` (Beijing time)."""
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, **LOWEST)
    await stand_at(client, w, moment)
    r = await client.post(f"{API}/tenders/{tender['id']}/award", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    return tender, vendors, r.json()


async def challenge(client, tender, vendor):
    return await client.post(f"{API}/tenders/{tender['id']}/challenges", json={"grounds": "评审结果有误"}, headers=vendor.headers)


@pytest.mark.parametrize("service_instant", [bj(2026, 11, 10, 10)])
async def test_a_challenge_is_accepted_until_24_00_of_the_last_day(client):
    """Awarded Tue 2026-12-08: notice period 12-09 (87号令 Art. 69), then 7 working days of 质疑
    (实施条例 Art. 53) to Fri 12-18; accepted at 23:59 that day, refused at 00:00:01 the next."""
    w = await s.world()
    tender, vendors, award = await awarded_at(client, w, bj(2026, 12, 8, 10))
    assert award["standstill_until"] == "2026-12-19T00:00:00+08:00"
    assert (award["standstill_last_day"], award["time_zone"]) == ("2026-12-18", "Asia/Shanghai")
    assert award["calendar_warning"] is None

    await stand_at(client, w, bj(2026, 12, 18, 23, 59))
    r = await challenge(client, tender, vendors[1])
    assert r.status_code == 201, r.text
    # the bureau's answer is due 7 working days later: 12-21 … Tue 12-29, until 24:00
    assert (r.json()["reply_due"], r.json()["reply_last_day"]) == ("2026-12-30T00:00:00+08:00", "2026-12-29")
    assert r.json()["reply_overdue"] is False

    await stand_at(client, w, bj(2026, 12, 19, 0, 0, 1))
    r = await challenge(client, tender, vendors[2])
    assert (r.status_code, r.json()["code"]) == (409, "standstill_over")
    assert "24:00 of 2026-12-18" in r.json()["detail"]


def schedule_2027_bridging_4_january() -> dict:
    """A whole 2027 schedule that also gives Mon 4 January off, worked back on Sat 9 January."""
    days_off = sorted({str(h.day) for h in statutory_holidays(2027)} | {"2027-01-02", "2027-01-03", "2027-01-04"})
    return {"holidays": days_off, "workdays": ["2027-01-09"], "source": "国务院办公厅关于2027年部分节假日安排的通知",
            "reason": "2027年放假安排公布"}


async def notified(entity_id: str, event: str) -> set:
    rows = await db.fetch("SELECT organisation_id FROM notifications WHERE entity_id = $1 AND event = $2", entity_id, event)
    return {r["organisation_id"] for r in rows}


@pytest.mark.parametrize("service_instant", [bj(2026, 11, 20, 10)])
async def test_recording_2027_extends_the_standstill_and_a_deadline_that_counted_the_guess(client):
    w = await s.world()
    # Awarded Wed 2026-12-23 with 2027 unrecorded: notice 12-24, then 12-25 … 12-31, (元旦 off),
    # Mon 01-04, Tue 01-05 → the standstill ends at 24:00 of 01-05, with the warning.
    tender, vendors, award = await awarded_at(client, w, bj(2026, 12, 23, 10))
    assert (award["standstill_until"], award["standstill_last_day"]) == ("2027-01-06T00:00:00+08:00", "2027-01-05")
    assert "2027" in award["calendar_warning"]

    # An inquiry published Tue 12-29 with its deadline at the earliest the fallback allows:
    # 12-30, 12-31, (元旦), Mon 01-04 → 09:30 on 01-04.
    await stand_at(client, w, bj(2026, 12, 29, 10))
    body = s.tender_body(w, bj(2027, 1, 4, 9, 30), method="inquiry", evaluation_method="lowest_price",
                         price_weight=None, criteria=[], ceiling_amount="300000.00")
    r = await client.post(f"{API}/tenders", json=body, headers=w.bureau.headers)
    assert r.status_code == 201, r.text
    inquiry = (await client.post(f"{API}/tenders/{r.json()['id']}/publish", headers=w.bureau.headers)).json()
    assert inquiry["status"] == "published" and "2027" in inquiry["calendar_warning"]
    [bidder] = await factories.many_signed_in("vendor", 1)
    assert (await s.bid(client, inquiry["id"], bidder, "280000.00")).status_code == 201
    releases_before = await db.fetchval("SELECT count(*) FROM ocds_releases WHERE tender_id = $1", inquiry["id"])

    # The State Council's 2027 schedule is recorded: Mon 01-04 is off too.
    r = await client.put(f"{API}/calendar/2027", json=schedule_2027_bridging_4_january(), headers=w.admin.headers)
    assert r.status_code == 200, r.text
    moved = {(c["entity_id"], c["period"]): c for c in r.json()["recomputed"]}
    assert set(moved) == {(tender["id"], "standstill_until"), (inquiry["id"], "bid_deadline")}
    # the standstill: 12-24 (notice), 12-25 … 12-31 (5), 01-05 (6), 01-06 (7) → 24:00 of 01-06
    standstill = moved[(tender["id"], "standstill_until")]
    assert (standstill["before"], standstill["after"], standstill["last_day"]) == (
        "2027-01-06T00:00:00+08:00", "2027-01-07T00:00:00+08:00", "2027-01-06")
    # the inquiry: 12-30, 12-31, 01-05 → the earliest deadline day is 01-05, at the same 09:30
    deadline = moved[(inquiry["id"], "bid_deadline")]
    assert (deadline["before"], deadline["after"]) == ("2027-01-04T09:30:00+08:00", "2027-01-05T09:30:00+08:00")

    read_award = (await client.get(f"{API}/tenders/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert read_award["standstill_until"] == "2027-01-07T00:00:00+08:00" and read_award["calendar_warning"] is None
    read_inquiry = (await client.get(f"{API}/public/tenders/{inquiry['id']}")).json()
    assert read_inquiry["bid_deadline"] == "2027-01-05T09:30:00+08:00" and read_inquiry["calendar_warning"] is None
    # the change is public (a new release of the inquiry) and audited
    assert await db.fetchval("SELECT count(*) FROM ocds_releases WHERE tender_id = $1", inquiry["id"]) > releases_before
    actions = {r["action"] for r in await db.fetch("SELECT action FROM audit_events WHERE entity_id = ANY($1::text[])",
                                                  [tender["id"], inquiry["id"]])}
    assert {"tender.standstill_extended", "tender.deadline_extended"} <= actions
    # each party concerned is told
    assert await notified(inquiry["id"], "tender.deadline_extended") == {w.bureau.organisation_id, bidder.organisation_id}
    assert await notified(tender["id"], "tender.standstill_extended") == {w.bureau.organisation_id, *(v.organisation_id for v in vendors)}

    # Mon 01-04 at 10:00, past the announced deadline: the inquiry still takes a bid.
    await stand_at(client, w, bj(2027, 1, 4, 10))
    [late] = await factories.many_signed_in("vendor", 1)
    assert (await s.bid(client, inquiry["id"], late, "275000.00")).status_code == 201
    # Wed 01-06, after the guessed end of the standstill: a bidder may still challenge; no contract yet.
    await stand_at(client, w, bj(2027, 1, 6, 10))
    assert (await challenge(client, tender, vendors[1])).status_code == 201
    r = await client.post(f"{API}/contracts", json={"tender_id": tender["id"], "start_date": "2027-02-01"}, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "standstill_active")
    [too_late] = await factories.many_signed_in("vendor", 1)
    r = await s.bid(client, inquiry["id"], too_late, "270000.00")
    assert (r.status_code, r.json()["code"]) == (409, "bid_deadline_passed")


@pytest.mark.parametrize("service_instant", [bj(2026, 11, 20, 10)])
async def test_a_window_never_ends_sooner_than_announced(client):
    """A schedule that works Saturday 2027-01-02 would end the standstill a day sooner: the
    announced end stands."""
    w = await s.world()
    _, _, award = await awarded_at(client, w, bj(2026, 12, 23, 10))
    days_off = sorted(str(h.day) for h in statutory_holidays(2027))
    r = await client.put(f"{API}/calendar/2027", json={"holidays": days_off, "workdays": ["2027-01-02"]}, headers=w.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["recomputed"] == []
    read = (await client.get(f"{API}/tenders/{award['tender_id']}/award", headers=w.bureau.headers)).json()
    assert read["standstill_until"] == award["standstill_until"] == "2027-01-06T00:00:00+08:00"
    assert read["calendar_warning"] is None


@pytest.mark.parametrize("service_instant", [bj(2026, 12, 29, 10)])
async def test_recording_2027_extends_an_open_appeal_window(client):
    """Accepted Tue 12-29: appeal until 12-30, 12-31, (元旦), 01-04, 01-05, 01-06 → 24:00 of
    01-06; with Mon 01-04 off too, until 24:00 of 01-07. The vendor and the bureau are told."""
    award, contract = await factories.contract_from_award(client)
    milestone = contract["milestones"][0]
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], milestone["id"], "88.00")
    assert (evaluation["appeal_deadline"], evaluation["appeal_last_day"]) == ("2027-01-07T00:00:00+08:00", "2027-01-06")
    admin = await factories.signed_in("admin")
    r = await client.put(f"{API}/calendar/2027", json=schedule_2027_bridging_4_january(), headers=admin.headers)
    assert r.status_code == 200, r.text
    [change] = r.json()["recomputed"]
    assert (change["entity_type"], change["period"], change["after"]) == ("evaluation", "appeal_deadline", "2027-01-08T00:00:00+08:00")
    read = (await client.get(f"{API}/evaluations/{evaluation['id']}", headers=award.vendor.headers)).json()
    assert (read["appeal_deadline"], read["appeal_last_day"], read["status"]) == ("2027-01-08T00:00:00+08:00", "2027-01-07", "accepted")
    assert await notified(evaluation["id"], "evaluation.appeal_window_extended") == {award.vendor.organisation_id, award.bureau.organisation_id}
