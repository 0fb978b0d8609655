"""The inbox: what the service told an organisation, unread first then newest, read marks, and
nobody reads another organisation's."""

from __future__ import annotations

from datetime import timedelta

from govbuy import clock, notifications
from govbuy import database as db
from tests import factories


async def test_the_inbox_lists_unread_first_pages_by_keyset_and_marks_read(client):
    bureau, other = await factories.signed_in("bureau"), await factories.signed_in("bureau")
    now = await clock.now()
    async with db.transaction():
        for n in range(5):
            await notifications.record([bureau.organisation_id], "tender.deadline_moved", "tender", f"t{n}",
                                       f"投标截止时间顺延（第{n}次）", now + timedelta(seconds=n))
        await notifications.record([other.organisation_id], "tender.deadline_moved", "tender", "x", "别人的", now)
    inbox = (await client.get("/api/v1/notifications", headers=bureau.headers)).json()["items"]
    assert [i["entity_id"] for i in inbox] == ["t4", "t3", "t2", "t1", "t0"]
    r = await client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=bureau.headers)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    first = (await client.get("/api/v1/notifications", params={"limit": 2}, headers=bureau.headers)).json()
    rest = (await client.get("/api/v1/notifications", params={"cursor": first["next_cursor"]}, headers=bureau.headers)).json()
    assert [i["entity_id"] for i in first["items"] + rest["items"]] == ["t3", "t2", "t1", "t0", "t4"]  # the read one last
    unread = (await client.get("/api/v1/notifications", params={"unread": "true"}, headers=bureau.headers)).json()["items"]
    assert len(unread) == 4
    assert (await client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=other.headers)).status_code == 404
    assert [i["message"] for i in (await client.get("/api/v1/notifications", headers=other.headers)).json()["items"]] == ["别人的"]
