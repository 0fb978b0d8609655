"""The service clock and the recorded working-day calendar."""

from __future__ import annotations

from datetime import date, datetime

from govbuy import clock
from tests import factories


async def test_the_package_years_are_seeded_with_their_make_up_days(client):
    admin = await factories.signed_in("admin")
    year = (await client.get("/api/v1/calendar/2026", headers=admin.headers)).json()
    assert "2026-10-01" in year["holidays"]
    assert "2026-02-14" in year["workdays"]  # Saturday worked before the Spring Festival
    day = (await client.get("/api/v1/calendar/days/2026-02-14", headers=admin.headers)).json()
    assert day == {"date": "2026-02-14", "working_day": True, "schedule_known": True}


async def test_an_unannounced_year_is_weekends_only_and_says_so(client):
    admin = await factories.signed_in("admin")
    day = (await client.get("/api/v1/calendar/days/2027-10-01", headers=admin.headers)).json()
    assert day == {"date": "2027-10-01", "working_day": True, "schedule_known": False}


async def test_an_admin_records_a_new_years_schedule(client):
    admin = await factories.signed_in("admin")
    response = await client.put(
        "/api/v1/calendar/2027",
        headers=admin.headers,
        json={"holidays": ["2027-10-01", "2027-10-04", "2027-10-05"], "workdays": ["2027-09-26"], "source": "国务院办公厅通知"},
    )
    assert response.status_code == 200, response.text
    calendar = await clock.work_calendar()
    assert not calendar.is_working_day(date(2027, 10, 1))
    assert calendar.is_working_day(date(2027, 9, 26))
    assert 2027 in calendar.known_years


async def test_an_inconsistent_schedule_is_refused(client):
    admin = await factories.signed_in("admin")
    response = await client.put(
        "/api/v1/calendar/2027",
        headers=admin.headers,
        json={"holidays": ["2028-01-01"], "workdays": ["2027-10-06"]},
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
