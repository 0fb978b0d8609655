"""Kernel rules: the violation type every domain's rules raise, the status-transition check,
money parsing and rounding, and the working-day calendar (工作日) arithmetic with the way the
law counts periods.

Pure: no I/O; the only project import is the statutory-holiday table (`govbuy.holidays`, also
pure). Domain `rules.py` modules import this one and nothing else of the project's but other
rules.

How a period is counted (《民法典》 Arts. 201, 203, which 政府采购法 and its 实施条例 follow):
the day on which it starts is not counted, it runs from the next day, and it ends at 24:00 of
its last day. A period of working days skips weekends and holidays; its last day is a working
day. Every time here is Asia/Shanghai: the service's date is the date in Beijing.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from govbuy.holidays import StatutoryHoliday, statutory_days, statutory_holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME_ZONE = "Asia/Shanghai"
FEN = Decimal("0.01")


class RuleViolation(Exception):
    """A business rule refused an input or a transition.

    `code` is the stable snake_case code clients see in problem+json; `status` is the HTTP
    status it maps to (422 bad input, 409 state conflict); `errors` carries per-field details.
    """

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int = 422,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.errors = errors


def conflict(code: str, detail: str, **kw: Any) -> RuleViolation:
    """A violation that is a state conflict (409) rather than bad input."""
    return RuleViolation(code, detail, status=409, **kw)


def check_transition(
    kind: str,
    transitions: Mapping[Any, Collection[Any]],
    current: Any,
    target: Any,
    *,
    code: str = "invalid_status_transition",
) -> None:
    """Refuse a status change that `transitions` (status → the statuses it may become) does not
    allow: a state conflict (409). `code` is the one the caller's clients already know."""
    if target not in transitions[current]:
        raise conflict(code, f"The {kind} is '{current}': it cannot become '{target}'.")


def as_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a Decimal, int or numeric string; None when it is not one.

    The one parser of money, weights, percentages and scores. Floats are refused: a binary
    fraction is not the amount the user typed (0.1 is 0.1000000000000000055…).
    """
    if isinstance(value, bool | float):
        return None
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            return None
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def has_at_most_two_places(number: Decimal) -> bool:
    try:
        return number == number.quantize(FEN)
    except InvalidOperation:  # too many digits for the context: certainly not money or a score
        return False


def to_fen(amount: Decimal) -> Decimal:
    """Round a yuan amount to the fen, half-up: the one place money is rounded."""
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


# --- working days ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkCalendar:
    """The official PRC working-day calendar.

    For a year in `known_years` the recorded schedule decides: `holidays` are the days off it
    lists (weekends inside a holiday span may be listed too), `workdays` its make-up working days
    (调休) on weekends. For any other year the calendar is a guess: weekends and the statutory
    holidays of 《全国年节及纪念日放假办法》 are off, the 调休 moves are unknown.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    known_years: frozenset[int] = field(default_factory=frozenset)

    def is_known(self, year: int) -> bool:
        return year in self.known_years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year not in self.known_years and day in statutory_days(day.year):
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start` (n ≥ 1); periods count from the next day."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many of a period have elapsed by `end`."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def guessed_years(self, start: date, end: date) -> list[int]:
        """Years touched by [start, end] for which the schedule is not known."""
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if y not in self.known_years]

    def with_year(self, year: int, holidays: frozenset[date], workdays: frozenset[date]) -> WorkCalendar:
        """This calendar with `year`'s schedule recorded (replacing any recorded before)."""
        return WorkCalendar(
            holidays=frozenset(d for d in self.holidays if d.year != year) | holidays,
            workdays=frozenset(d for d in self.workdays if d.year != year) | workdays,
            known_years=self.known_years | {year},
        )


def missing_statutory_holidays(
    year: int, holidays: frozenset[date], workdays: frozenset[date]
) -> list[StatutoryHoliday]:
    """The statutory holidays a year's schedule would make working days: one on a weekday it
    does not list as a day off, or one it lists as a make-up working day.

    A State Council schedule only ever moves days around the holidays the 办法 fixes; one that
    would have people work on any of them is incomplete, not a schedule
    (`calendar_schedule_incomplete`). A holiday on a weekend may be left unlisted: it is a day
    off anyway (the 2012 schedule, for one, does not list Saturday 23 June, 端午).
    """
    return [
        h
        for h in statutory_holidays(year)
        if h.day in workdays or (h.day not in holidays and h.day.weekday() < 5)
    ]


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware datetime."""
    return moment.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """00:00 of a calendar day in Asia/Shanghai."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def end_of_day(day: date) -> datetime:
    """The instant a calendar day ends in Asia/Shanghai (midnight of the next day)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def last_day(period_end: datetime) -> date:
    """The last day a period ending at `period_end` (a 24:00) includes, in Beijing: what people
    name when they say "until the 18th"."""
    return local_date(period_end - timedelta(microseconds=1))


def working_period_end(calendar: WorkCalendar, start: datetime, n: int) -> datetime:
    """End of a period of n working days that starts the day after `start`: 24:00 of its n-th
    working day (民法典 Arts. 201, 203). A party may act until that instant, not at it."""
    return end_of_day(calendar.add_working_days(local_date(start), n))


def calendar_period_end(start: datetime, days: int) -> datetime:
    """End of a period of n calendar days that starts the day after `start` (24:00 of its last
    day)."""
    return end_of_day(local_date(start) + timedelta(days=days))


def calendar_warning(calendar: WorkCalendar, start: datetime, end: datetime) -> str | None:
    """The warning every response carries when a period used a year with no known schedule."""
    years = calendar.guessed_years(local_date(start), local_date(end))
    if not years:
        return None
    listed = ", ".join(str(y) for y in years)
    return (
        f"No official holiday schedule is recorded for {listed}: working days were counted as "
        "Monday to Friday less the statutory holidays of 《全国年节及纪念日放假办法》, without the "
        "State Council's make-up days (调休), so this date may differ from the legal one."
    )


# --- regions (行政区划代码) ------------------------------------------------------------------


def region_prefix(regulator_region: str) -> str:
    """What every region a regulator of `regulator_region` (a 6-digit 行政区划代码) oversees
    starts with: a province (XX0000) its whole province, a city (XXXX00) its districts, a
    district itself (政府采购法 Art. 13: 各级人民政府财政部门 supervise their own level)."""
    if regulator_region.endswith("0000"):
        return regulator_region[:2]
    if regulator_region.endswith("00"):
        return regulator_region[:4]
    return regulator_region


def region_covers(regulator_region: str, region: str) -> bool:
    return region.startswith(region_prefix(regulator_region))


# --- passwords -------------------------------------------------------------------------------

# zxcvbn's estimate, 0 (guessable in under 10³ guesses) to 4 (over 10¹⁰): 3 and above is "safely
# unguessable" against an online attack with throttling (NIST SP 800-63B §5.1.1.2 asks for a check
# against commonly used, expected or compromised values; zxcvbn carries those dictionaries).
MIN_PASSWORD_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # what zxcvbn reads; a longer passphrase is judged by its first 72 characters


def check_password(password: str, username: str) -> None:
    """A new password: no control characters (a NUL cannot be typed and breaks tools), not the
    username nor containing it, and not guessable (common passwords, repeats, sequences,
    keyboard walks, dates). Spaces count as typed: passwords are never trimmed. CPU-bound for a few
    milliseconds: call it off the event loop."""
    import unicodedata

    from zxcvbn import zxcvbn

    errors: list[dict[str, str]] = []
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in password):
        errors.append({"field": "password", "message": "no control or invisible characters"})
    name = username.strip().casefold()
    if name and name in password.casefold():
        errors.append({"field": "password", "message": "may not contain the username"})
    if not errors:
        estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[username])
        if estimate["score"] < MIN_PASSWORD_SCORE:
            hint = estimate["feedback"].get("warning") or "add more words or characters that do not follow a pattern"
            errors.append({"field": "password", "message": f"too easy to guess: {hint}"})
    if errors:
        raise RuleViolation("weak_password", "choose another password: " + "; ".join(e["message"] for e in errors),
                            errors=errors)


# --- sign-in back-off -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """How failed sign-ins slow further attempts: `free` failures cost nothing, then each attempt
    waits `first_delay` seconds after the last failure, twice as long with each further failure,
    at most `max_delay` (OWASP: throttle, do not lock out)."""

    free: int
    first_delay: int
    max_delay: int

    def delay(self, failures: int) -> int:
        """Seconds an attempt must wait after the last of `failures` failures."""
        if failures < self.free:
            return 0
        # The exponent is bounded so that a long run of failures cannot build a huge integer.
        return min(self.max_delay, self.first_delay * 2 ** min(failures - self.free, 40))

    def wait(self, failures: int, last_failure: datetime | None, now: datetime) -> int:
        """Whole seconds until an attempt is admitted again (0: now)."""
        if last_failure is None:
            return 0
        remaining = (last_failure + timedelta(seconds=self.delay(failures)) - now).total_seconds()
        return max(0, math.ceil(remaining))
