"""The service clock and the recorded working-day calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from govbuy import clock
from govbuy import database as db
from govbuy.holidays import statutory_holidays
from tests import factories


async def test_the_package_years_are_seeded_with_their_make_up_days(client):
    admin = await factories.signed_in("admin")
    year = (await client.get("/api/v1/calendar/2026", headers=admin.headers)).json()
    assert "2026-10-01" in year["holidays"]
    assert "2026-02-14" in year["workdays"]  # Saturday worked before the Spring Festival
    day = (await client.get("/api/v1/calendar/days/2026-02-14", headers=admin.headers)).json()
    assert day == {"date": "2026-02-14", "working_day": True, "schedule_known": True, "statutory_holiday": None}


async def unrecorded_year() -> int:
    """The first year after every seeded schedule."""
    return await db.fetchval("SELECT max(year) + 1 FROM calendar_years")


async def test_an_unannounced_year_counts_the_statutory_holidays_and_says_so(client):
    admin = await factories.signed_in("admin")
    year = await unrecorded_year()
    for day, name in ((date(year, 1, 1), "元旦"), (date(year, 10, 1), "国庆节"), (date(year, 5, 2), "劳动节")):
        read = (await client.get(f"/api/v1/calendar/days/{day}", headers=admin.headers)).json()
        assert read == {"date": str(day), "working_day": False, "schedule_known": False, "statutory_holiday": name}
    ordinary = date(year, 3, 10)
    read = (await client.get(f"/api/v1/calendar/days/{ordinary}", headers=admin.headers)).json()
    assert read["working_day"] is (ordinary.weekday() < 5) and read["statutory_holiday"] is None


async def test_the_statutory_holidays_of_a_year_are_listed(client):
    admin = await factories.signed_in("admin")
    listed = (await client.get("/api/v1/calendar/2027/statutory-holidays", headers=admin.headers)).json()
    assert [(h["day"], h["name"]) for h in listed if h["name"] == "春节"] == [
        ("2027-02-05", "春节"), ("2027-02-06", "春节"), ("2027-02-07", "春节"), ("2027-02-08", "春节"),
    ]
    assert len(listed) == 13 and {h["source"] for h in listed} == {"国务院令第795号"}


def schedule_2027(*extra_off: str, workdays: tuple[str, ...] = ()) -> dict:
    """A whole 2027 schedule: every statutory holiday, and the days off and make-up days given."""
    statutory = [str(h.day) for h in statutory_holidays(2027)]
    return {"holidays": sorted({*statutory, *extra_off}), "workdays": list(workdays),
            "source": "国务院办公厅关于2027年部分节假日安排的通知", "reason": "国务院办公厅通知已发布"}


async def test_an_admin_records_a_new_years_schedule(client):
    admin = await factories.signed_in("admin")
    response = await client.put(
        "/api/v1/calendar/2027", headers=admin.headers,
        json=schedule_2027("2027-10-04", "2027-10-05", workdays=("2027-09-26",)),
    )
    assert response.status_code == 200, response.text
    assert response.json()["recomputed"] == []
    calendar = await clock.work_calendar()
    assert not calendar.is_working_day(date(2027, 10, 1))
    assert not calendar.is_working_day(date(2027, 10, 5))
    assert calendar.is_working_day(date(2027, 9, 26))
    assert 2027 in calendar.known_years
    day = (await client.get("/api/v1/calendar/days/2027-10-05", headers=admin.headers)).json()
    assert day == {"date": "2027-10-05", "working_day": False, "schedule_known": True, "statutory_holiday": None}
    # who recorded it, from which notice, and why
    event = await db.fetchrow("SELECT * FROM audit_events WHERE action = 'calendar.recorded' AND entity_id = '2027'")
    assert event["actor_user_id"] == admin.user.id
    assert event["after"]["source"] == "国务院办公厅关于2027年部分节假日安排的通知"
    assert event["after"]["reason"] == "国务院办公厅通知已发布"


async def test_an_empty_schedule_is_refused(client):
    admin = await factories.signed_in("admin")
    response = await client.put("/api/v1/calendar/2028", headers=admin.headers, json={"holidays": [], "workdays": []})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "calendar_schedule_incomplete"
    # every statutory holiday of 2028 that falls on a weekday is named
    assert "2028-01-26 春节" in body["detail"] and "2028-10-02 国庆节" in body["detail"]
    assert "2028-01-01" not in body["detail"]  # a Saturday: a day off anyway
    assert all(e["field"] == "holidays" for e in body["errors"])
    assert (await client.get("/api/v1/calendar/days/2028-10-02", headers=admin.headers)).json()["schedule_known"] is False


async def test_a_schedule_without_the_spring_festival_is_refused(client):
    admin = await factories.signed_in("admin")
    body = schedule_2027()
    body["holidays"] = [d for d in body["holidays"] if d not in ("2027-02-05", "2027-02-08")]
    response = await client.put("/api/v1/calendar/2027", headers=admin.headers, json=body)
    assert (response.status_code, response.json()["code"]) == (422, "calendar_schedule_incomplete")
    assert "2027-02-05 春节" in response.json()["detail"] and "2027-02-08 春节" in response.json()["detail"]
    assert 2027 not in (await clock.load_calendar()).known_years


async def test_a_statutory_holiday_cannot_be_a_make_up_working_day(client):
    admin = await factories.signed_in("admin")
    body = schedule_2027(workdays=("2027-05-01",))
    body["holidays"].remove("2027-05-01")
    response = await client.put("/api/v1/calendar/2027", headers=admin.headers, json=body)
    assert (response.status_code, response.json()["code"]) == (422, "calendar_schedule_incomplete")
    assert response.json()["errors"] == [
        {"field": "workdays", "message": "2027-05-01 (劳动节) is a statutory holiday (国务院令第795号) and cannot be a make-up working day"}
    ]


@pytest.mark.parametrize("service_instant", [datetime.fromisoformat("2027-01-01T00:00:30+08:00")])
async def test_the_clock_says_the_service_date_in_beijing(client, service_instant):
    """At 00:00:30 on 1 January in Beijing it is still 31 December in UTC: the API gives the
    service's own date, so no client derives it from UTC."""
    vendor = await factories.signed_in("vendor")
    read = (await client.get("/api/v1/sandbox/clock", headers=vendor.headers)).json()
    assert read["today"] == "2027-01-01" and read["time_zone"] == "Asia/Shanghai"
    now = datetime.fromisoformat(read["now"])
    assert now.utcoffset() == timedelta(hours=8)
    assert now.astimezone(UTC).date() == date(2026, 12, 31)
    assert abs((now - service_instant).total_seconds()) < 30


async def test_an_inconsistent_schedule_is_refused(client):
    admin = await factories.signed_in("admin")
    response = await client.put(
        "/api/v1/calendar/2027",
        headers=admin.headers,
        json={**schedule_2027(), "holidays": ["2028-01-01"], "workdays": ["2027-10-06"]},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_calendar"
    messages = " ".join(e["message"] for e in body["errors"])
    assert "2028-01-01 is not in 2027" in messages and "2027-10-06 is a weekday" in messages


async def test_only_an_admin_records_the_calendar(client):
    bureau = await factories.signed_in("bureau")
    response = await client.put("/api/v1/calendar/2027", headers=bureau.headers, json={"holidays": []})
    assert response.status_code == 403


async def test_the_sandbox_clock_moves_forward_for_everyone(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.signed_in("vendor")
    before = datetime.fromisoformat((await client.get("/api/v1/sandbox/clock", headers=vendor.headers)).json()["now"])
    moved = await client.post("/api/v1/sandbox/clock", headers=admin.headers, json={"advance_days": 10})
    assert moved.status_code == 200
    after = datetime.fromisoformat((await client.get("/api/v1/sandbox/clock", headers=vendor.headers)).json()["now"])
    assert 10 * 86400 <= (after - before).total_seconds() < 10 * 86400 + 60


async def test_the_clock_cannot_move_backwards(client):
    admin = await factories.signed_in("admin")
    response = await client.post("/api/v1/sandbox/clock", headers=admin.headers, json={"advance_days": -1})
    assert response.status_code == 422


async def test_the_clock_does_not_move_outside_sandbox_mode(client, monkeypatch):
    from govbuy.settings import get_settings

    admin = await factories.signed_in("admin")
    monkeypatch.setenv("GOVBUY_SANDBOX", "0")
    get_settings.cache_clear()
    try:
        response = await client.post("/api/v1/sandbox/clock", headers=admin.headers, json={"advance_days": 1})
    finally:
        monkeypatch.setenv("GOVBUY_SANDBOX", "1")
        get_settings.cache_clear()
    assert response.status_code == 403
    assert response.json()["code"] == "sandbox_only"
