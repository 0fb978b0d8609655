"""Kernel schemas: accounts, tokens, calendar, sandbox clock, audit events, and the base
model every request schema derives from (unknown fields are refused, strings trimmed, dates
kept to a window)."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from govbuy.rules import SHANGHAI

MONEY_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,2})?$"


def _money(value: Any) -> Any:
    """Money arrives as a string of yuan ("1500000.00"); a JSON number could be a binary float."""
    if isinstance(value, str):
        if not re.fullmatch(MONEY_PATTERN, value):
            raise ValueError('money is a string of yuan with at most two decimals, e.g. "1500000.00"')
        return Decimal(value)
    if isinstance(value, (int, float)):
        raise ValueError('money travels as a JSON string, e.g. "1500000.00", never as a number')
    return value  # a Decimal from Python code or a database row


# Money travels as a JSON string with two decimals ("1500000.00"), never as a float; the
# OpenAPI document says so (a string with that pattern), and input is held to it.
def _in_beijing(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI) if value.tzinfo is not None else value


#: An instant given in Beijing time (+08:00): the end of a period reads as the midnight it is,
#: "2026-12-19T00:00:00+08:00", not as 16:00 UTC of the day before.
BeijingTime = Annotated[datetime, AfterValidator(_in_beijing)]

Money = Annotated[
    Decimal,
    BeforeValidator(_money),
    Field(
        max_digits=16,
        decimal_places=2,
        ge=0,
        json_schema_extra={"type": "string", "pattern": MONEY_PATTERN, "examples": ["1500000.00"]},
    ),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]


#: The earliest date a request may carry: nothing this service records happened before it.
EARLIEST_DATE = date(2000, 1, 1)
#: How far past the service's date a request may reach: the longest period anything here runs
#: (a recurring contract: three years) with room to spare.
YEARS_AHEAD = 10
DATE_OUT_OF_RANGE = "date_out_of_range"

#: The service's date (Asia/Shanghai) while a request body is read: the app's request class sets
#: it before the body is validated. Unset when code builds an input itself, which has no
#: window to keep but the earliest date.
request_today: ContextVar[date | None] = ContextVar("request_today", default=None)


def latest_date(today: date) -> date:
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def _out_of_window(value: date) -> str | None:
    """Why a date or instant of a request falls outside the window, or None."""
    day = value
    if isinstance(value, datetime):
        try:
            day = value.astimezone(SHANGHAI).date() if value.tzinfo is not None else value.date()
        except OverflowError:  # 9999-12-31T23:00-14:00 has no date in Beijing
            return f"{value.isoformat()} is past the end of the calendar"
    if day < EARLIEST_DATE:
        return f"{value.isoformat()} is before {EARLIEST_DATE}"
    today = request_today.get()
    if today is not None and day > latest_date(today):
        return f"{value.isoformat()} is after {latest_date(today)} (the service's date + {YEARS_AHEAD} years)"
    return None


def _check_dates(value: Any) -> None:
    for item in value if isinstance(value, (list, tuple, set, frozenset)) else (value,):
        if isinstance(item, date) and (why := _out_of_window(item)):
            raise PydanticCustomError(DATE_OUT_OF_RANGE, f"{DATE_OUT_OF_RANGE}: {why}")


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped, and every date
    and instant in them falls between EARLIEST_DATE and YEARS_AHEAD years past the service's
    date (422 date_out_of_range): a year 9999 would pass every rule and then overflow whatever
    adds a period to it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _dates_in_window(cls, value: Any) -> Any:
        _check_dates(value)
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


OrganisationKind = Literal["platform", "bureau", "vendor", "evaluator", "supervisor"]
Role = Literal["admin", "bureau", "vendor", "expert", "evaluator", "regulator", "supervisor"]


# A password is taken exactly as typed: never trimmed (the model's whitespace stripping does not
# apply to it), so that "  correct horse" and "correct horse" are different passwords.
Password = Annotated[str, StringConstraints(strip_whitespace=False)]


class TokenRequest(Input):
    username: str = Field(min_length=1, max_length=64)
    password: Password = Field(min_length=1, max_length=256)


class TokenResponse(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OrganisationCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    uscc: str | None = Field(default=None, max_length=40, description="统一社会信用代码")
    region_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="行政区划代码")


class OrganisationRead(Output):
    id: UUID
    name: str
    kind: OrganisationKind
    uscc: str | None
    region_code: str | None
    created_at: datetime
    version: int


class PasswordChange(Input):
    current_password: Password = Field(min_length=1, max_length=256)
    new_password: Password = Field(min_length=10, max_length=256, description="the rules of a new user's password")


class UserCreate(Input):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: Password = Field(
        min_length=10, max_length=256, description="not guessable, without the username or control characters (weak_password)"
    )
    organisation_id: UUID
    role: Role
    full_name: str | None = Field(
        None, min_length=1, max_length=64, description="姓名: an expert's is published in award notices (87号令 Art. 69)"
    )


class UserRead(Output):
    id: UUID
    username: str
    full_name: str | None
    organisation_id: UUID
    role: Role
    active: bool
    created_at: datetime


class MeRead(Output):
    user: UserRead
    organisation: OrganisationRead


class CalendarYearWrite(Input):
    holidays: list[date] = Field(
        max_length=60,
        description="every day off of the year's schedule (放假): it must contain each statutory holiday "
        "of 《全国年节及纪念日放假办法》; weekend days inside a holiday span may be listed too",
    )
    workdays: list[date] = Field(default_factory=list, max_length=20, description="make-up working days (调休上班)")
    source: str = Field(
        default="State Council notice", min_length=1, max_length=100,
        description="the notice the schedule comes from, e.g. 国务院办公厅关于2027年部分节假日安排的通知",
    )
    reason: str | None = Field(default=None, max_length=500, description="why it is recorded (or corrected), for the audit log")


class CalendarYearRead(Output):
    year: int
    holidays: list[date]
    workdays: list[date]
    source: str
    updated_at: datetime


class PeriodChange(Output):
    """A stored period that recording a year's schedule moved."""

    entity_type: str
    entity_id: str
    period: str = Field(description="the field that moved: bid_deadline, standstill_until, reply_due, appeal_deadline")
    before: BeijingTime
    after: BeijingTime
    last_day: date = Field(description="the last day the period now includes (Asia/Shanghai)")


class CalendarYearRecorded(CalendarYearRead):
    recomputed: list[PeriodChange] = Field(
        description="open periods that had counted this year by the fallback and now end later; "
        "a window given to a party never ends sooner than announced"
    )


class StatutoryHolidayRead(Output):
    day: date
    name: str = Field(description="元旦, 春节, 清明节, 劳动节, 端午节, 中秋节 or 国庆节")
    source: str = Field(description="the revision of 《全国年节及纪念日放假办法》 that fixes it")


class ClockAdvance(Input):
    advance_days: int = Field(default=0, ge=0, le=3650)
    advance_seconds: int = Field(default=0, ge=0, le=86400 * 3650)


class ClockRead(Output):
    now: BeijingTime = Field(description="the service's instant, given in Beijing time")
    today: date = Field(description="the service's own date: the date in Asia/Shanghai, never the UTC date")
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    sandbox: bool


class NotificationRead(Output):
    """Something the service told the caller's organisation: a change it did not make itself that
    gives it a duty, a right or a result (a deadline moved, a tampered bid found)."""

    id: UUID
    event: str
    entity_type: str
    entity_id: str
    message: str
    details: dict[str, Any]
    created_at: BeijingTime
    read_at: BeijingTime | None


class AuditEventRead(Output):
    seq: int
    id: UUID
    occurred_at: datetime
    actor_user_id: UUID | None
    actor_username: str
    actor_role: str | None = Field(description="the role the actor acted in (none for the system and for events of hash version 1)")
    organisation_id: UUID | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash_version: int = Field(description="1: SHA-256 over some fields (events before the key); 2: HMAC-SHA256 over every field")
    key_id: str | None = Field(description="names the audit key of a version-2 hash")
    hash: str


class ChainVerification(Output):
    ok: bool
    checked: int = Field(description="events whose hash this verification recomputed")
    first_broken: int | None = None
    reason: str | None = None
    from_checkpoint: int | None = Field(
        default=None, description="the seq of the checkpoint the walk started from; null: from the first event"
    )
    verified_through: int | None = Field(
        default=None, description="the chain is whole up to this event (its seq), when ok"
    )


class Health(Output):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"] | None = None
    embedded_server: Literal["running", "stopped", "not used"] | None = None
    owed_releases: int | None = Field(
        default=None, description="processes whose latest change still owes its OCDS release (`govbuy retry-releases`)"
    )
