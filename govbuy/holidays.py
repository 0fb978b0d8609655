"""The statutory public holidays (法定节假日) of a year, as 《全国年节及纪念日放假办法》 fixes them.

The State Council publishes each year's schedule (放假安排) late in the year before: it moves
days around the fixed holidays (调休) and adds make-up working days. What the 办法 itself fixes
is known for every year in advance: 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节 and 国庆节. Three of
them follow the lunar calendar and one a solar term; `tyme4py` computes those (Beijing time).

So a year whose schedule is not yet recorded is counted as weekends plus these days, never as
weekends alone; and a recorded schedule must contain every one of them.

Pure: no I/O, no project imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from tyme4py.lunar import LunarDay
from tyme4py.solar import SolarDay, SolarTerm

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
TOMB_SWEEPING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"


@dataclass(frozen=True)
class Revision:
    """One revision of 《全国年节及纪念日放假办法》: the holidays it gives, from the year it took
    effect."""

    source: str
    from_year: int
    spring_festival: tuple[int, ...]  # lunar days relative to 正月初一: -1 is 除夕
    labour_days: int
    lunar_festivals: bool  # 清明, 端午, 中秋


REVISIONS: tuple[Revision, ...] = (
    # 国务院令第270号 (1999): 春节 初一–初三, 劳动节 3 days, no traditional festivals.
    Revision("国务院令第270号", 2000, (0, 1, 2), 3, False),
    # 国务院令第513号 (2007, in force 2008-01-01): 除夕 instead of 初三; 劳动节 1 day; 清明, 端午, 中秋.
    Revision("国务院令第513号", 2008, (-1, 0, 1), 1, True),
    # 国务院令第644号 (2013, in force 2014-01-01): 春节 初一–初三 again.
    Revision("国务院令第644号", 2014, (0, 1, 2), 1, True),
    # 国务院令第795号 (2024, in force 2025-01-01): 春节 除夕–初三, 劳动节 1–2 May.
    Revision("国务院令第795号", 2025, (-1, 0, 1, 2), 2, True),
)

#: The first and last years the calendar arithmetic accepts (the lunar tables' range is wider).
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class StatutoryHoliday:
    day: date
    name: str
    source: str


def revision_for(year: int) -> Revision:
    """The revision of the 办法 in force in `year`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"no holiday rules for {year}: only {FIRST_YEAR}–{LAST_YEAR}")
    return [r for r in REVISIONS if r.from_year <= year][-1]


def _gregorian(day: SolarDay) -> date:
    return date(day.get_year(), day.get_month(), day.get_day())


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> tuple[StatutoryHoliday, ...]:
    """Every statutory holiday of `year`, in date order (two may share a day: 中秋 fell on
    国庆 in 2020). Weekends are not listed; a holiday on a weekend is still listed."""
    rule = revision_for(year)
    new_year_lunar = LunarDay.from_ymd(year, 1, 1)
    days: list[tuple[date, str]] = [(date(year, 1, 1), NEW_YEAR)]
    days += [(_gregorian(new_year_lunar.next(n).get_solar_day()), SPRING_FESTIVAL) for n in rule.spring_festival]
    if rule.lunar_festivals:
        days.append((_gregorian(SolarTerm.from_name(year, "清明").get_solar_day()), TOMB_SWEEPING))
        days.append((_gregorian(LunarDay.from_ymd(year, 5, 5).get_solar_day()), DRAGON_BOAT))
        days.append((_gregorian(LunarDay.from_ymd(year, 8, 15).get_solar_day()), MID_AUTUMN))
    days += [(date(year, 5, 1) + timedelta(days=n), LABOUR_DAY) for n in range(rule.labour_days)]
    days += [(date(year, 10, 1) + timedelta(days=n), NATIONAL_DAY) for n in range(3)]
    return tuple(StatutoryHoliday(d, name, rule.source) for d, name in sorted(days))


@lru_cache(maxsize=256)
def statutory_days(year: int) -> frozenset[date]:
    """The dates of `year` that are statutory holidays, whatever the schedule adds; none for a
    year outside the rules' range (such dates are refused long before they reach a period)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return frozenset()
    return frozenset(h.day for h in statutory_holidays(year))
