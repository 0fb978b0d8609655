"""Every date and instant a request carries falls between 2000-01-01 and the service's date
+ 10 years (issue 19), kept by the `Input` base schema: anything else is 422
`date_out_of_range` naming the field. The class is checked schema by schema — every date field
of every JSON endpoint's body, found in the app's routes — and over the API."""

from __future__ import annotations

import types
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from govbuy.schemas import DATE_OUT_OF_RANGE, EARLIEST_DATE, Input, latest_date, request_today
from tests import factories
from tests.govbuy.test_bad_input import assert_problem
from tests.govbuy.test_request_bodies import JSON_ENDPOINTS
from tests.procurement import support as s

TODAY = date(2026, 12, 8)  # the service's date while a body is validated, in the unit tests
BEIJING = timezone(timedelta(hours=8))


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def date_fields(model: type[BaseModel], path: tuple = ()) -> list[tuple[tuple, type]]:
    """(path, date or datetime) of every date field of a body schema, nested models and lists
    included; a list's path goes through its first item."""
    found = []
    for name, field in model.model_fields.items():
        found += _walk(field.annotation, path + (name,))
    return found


def _walk(annotation: Any, path: tuple) -> list[tuple[tuple, type]]:
    origin = get_origin(annotation)
    if annotation in (date, datetime):
        return [(path, annotation)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return date_fields(annotation, path)
    if origin is Annotated:
        return _walk(get_args(annotation)[0], path)
    if origin in (Union, types.UnionType):
        return [f for arg in get_args(annotation) for f in _walk(arg, path)]
    if origin in (list, tuple, set, frozenset):
        return [f for arg in get_args(annotation) if arg is not Ellipsis for f in _walk(arg, path + (0,))]
    if origin is dict:
        return _walk(get_args(annotation)[1], path + ("key",))
    return []


def _nested_models(model: type[BaseModel], seen: set) -> set:
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        for arg in _models(field.annotation):
            _nested_models(arg, seen)
    return seen


BODY_MODELS = sorted(
    {m for e in JSON_ENDPOINTS for m in _models(e.handler.parsed_fn_signature.parameters["data"].annotation)},
    key=lambda m: m.__qualname__,
)
DATED = [(m, path, kind) for m in BODY_MODELS for path, kind in date_fields(m)]


def payload(path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    inner = payload(tuple(rest), value)
    return [inner] if head == 0 else {head: inner}


def field_loc(path: tuple) -> tuple:
    """Where the error stands: the field, for a list of dates the list itself."""
    while path and path[-1] == 0:
        path = path[:-1]
    return path


def out_of_range(kind: type) -> list[str]:
    latest = latest_date(TODAY)
    if kind is date:
        return ["9999-12-31", "1999-12-31", "0001-01-01", (latest + timedelta(days=1)).isoformat()]
    return [
        "9999-12-31T00:00:00+08:00",
        "9999-12-31T23:00:00-14:00",  # no Beijing date at all
        "1999-12-31T23:59:59+08:00",
        "1999-12-31T15:59:59+00:00",  # 23:59:59 in Beijing, the day before the window
        datetime.combine(latest + timedelta(days=1), datetime.min.time(), BEIJING).isoformat(),
        f"{latest.isoformat()}T16:00:00+00:00",  # 00:00 of the day after, in Beijing
    ]


def test_the_bodies_have_date_fields():
    assert len(DATED) >= 10
    names = {f"{m.__name__}.{'.'.join(map(str, p))}" for m, p, _ in DATED}
    assert {"TenderCreate.bid_deadline", "ContractCreate.start_date", "CalendarYearWrite.holidays.0"} <= names


def test_every_model_of_a_request_body_is_an_input():
    models = set()
    for model in BODY_MODELS:
        _nested_models(model, models)
    assert [m.__qualname__ for m in models if not issubclass(m, Input)] == []


@pytest.mark.parametrize(("model", "path", "kind"), DATED, ids=[f"{m.__name__}.{'.'.join(map(str, p))}" for m, p, _ in DATED])
def test_every_date_field_of_every_body_is_kept_to_the_window(model, path, kind):
    token = request_today.set(TODAY)
    try:
        for value in out_of_range(kind):
            with pytest.raises(ValidationError) as refused:
                model.model_validate(payload(path, value))
            at_field = [e for e in refused.value.errors() if e["loc"] == field_loc(path)]
            assert [e["type"] for e in at_field] == [DATE_OUT_OF_RANGE], (value, refused.value.errors())
    finally:
        request_today.reset(token)


@pytest.mark.parametrize(("model", "path", "kind"), DATED, ids=[f"{m.__name__}.{'.'.join(map(str, p))}" for m, p, _ in DATED])
def test_the_window_ends_are_in_it(model, path, kind):
    latest = latest_date(TODAY)
    ends = (
        [EARLIEST_DATE.isoformat(), latest.isoformat()]
        if kind is date
        else ["2000-01-01T00:00:00+08:00", f"{latest.isoformat()}T23:59:59+08:00", f"{latest.isoformat()}T15:59:59+00:00"]
    )
    token = request_today.set(TODAY)
    try:
        for value in ends:
            try:
                model.model_validate(payload(path, value))
            except ValidationError as refused:
                assert [e for e in refused.errors() if e["type"] == DATE_OUT_OF_RANGE] == [], value
    finally:
        request_today.reset(token)


def test_ten_years_from_a_29_february_is_the_28th():
    assert latest_date(date(2028, 2, 29)) == date(2038, 2, 28)


# --- over the API ------------------------------------------------------------------------------


async def test_a_bid_deadline_in_the_year_9999_is_date_out_of_range(client):
    w = await s.world()
    for deadline in ("9999-12-31T00:00:00+08:00", "1999-06-01T00:00:00+08:00"):
        body = s.tender_body(w, datetime.now(BEIJING), bid_deadline=deadline)
        problem = assert_problem(await client.post("/api/v1/tenders", json=body, headers=w.bureau.headers), 422, DATE_OUT_OF_RANGE)
        assert [e["field"] for e in problem["errors"]] == ["bid_deadline"]
    assert await s.count("tenders") == 0


async def test_a_contract_starting_in_the_year_9999_is_date_out_of_range(client):
    bureau = await factories.fast_user("bureau")
    body = {"tender_id": str(uuid.uuid4()), "start_date": "9999-12-31"}
    problem = assert_problem(await client.post("/api/v1/contracts", json=body, headers=bureau.headers), 422, DATE_OUT_OF_RANGE)
    assert problem["errors"][0]["field"] == "start_date" and "start_date" in problem["detail"]


async def test_dates_out_of_range_are_refused_on_several_endpoints(client):
    admin = await factories.fast_user("admin")
    bureau = await factories.fast_user("bureau")
    vendor = await factories.organisation("vendor")
    writes = [
        (admin, "PUT", "/api/v1/calendar/2027", {"holidays": ["2027-01-01", "9999-12-31"]}, "holidays"),
        (admin, "POST", f"/api/v1/vendors/{vendor.id}/assessment-grades", {"grade": "4A", "awarded_on": "1999-12-31"}, "awarded_on"),
        (admin, "POST", f"/api/v1/vendors/{vendor.id}/credit-list-entries", {"list": "serious_dishonesty", "reason": "x", "listed_on": "3000-01-01"}, "listed_on"),
        (bureau, "POST", "/api/v1/evaluations", {"contract_id": str(uuid.uuid4()), "milestone_id": str(uuid.uuid4()), "evaluator_org_id": str(uuid.uuid4()), "due_date": "9999-12-31"}, "due_date"),
    ]
    for who, method, url, body, field in writes:
        problem = assert_problem(await client.request(method, url, json=body, headers=who.headers), 422, DATE_OUT_OF_RANGE)
        assert [e["field"] for e in problem["errors"]] == [field], url


async def test_the_window_follows_the_service_clock(client):
    """Its upper end is the service's date + 10 years, the date in Beijing: moving the sandbox
    clock moves it."""
    admin = await factories.fast_user("admin")
    bureau = await factories.fast_user("bureau")
    latest = latest_date(await s.today(client, admin))
    body = {"tender_id": str(uuid.uuid4()), "start_date": (latest + timedelta(days=1)).isoformat()}
    assert_problem(await client.post("/api/v1/contracts", json=body, headers=bureau.headers), 422, DATE_OUT_OF_RANGE)
    await s.advance(client, admin, days=1)
    # In the window now: the body is read, and the tender looked up (it exists nowhere).
    assert_problem(await client.post("/api/v1/contracts", json=body, headers=bureau.headers), 404, "not_found")


async def test_a_date_out_of_range_beside_other_faults_is_invalid_input_listing_them_all(client):
    bureau = await factories.fast_user("bureau")
    body = {"tender_id": "not-a-uuid", "start_date": "9999-12-31"}
    problem = assert_problem(await client.post("/api/v1/contracts", json=body, headers=bureau.headers), 422, "invalid_input")
    assert {e["field"] for e in problem["errors"]} == {"tender_id", "start_date"}
