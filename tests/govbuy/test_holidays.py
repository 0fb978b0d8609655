"""The statutory holidays of 《全国年节及纪念日放假办法》, computed from the lunar calendar and
the solar terms, checked against every official schedule `chinesecalendar` knows; and the
fallback calendar that counts them for a year with no recorded schedule."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from govbuy.holidays import (
    DRAGON_BOAT,
    LABOUR_DAY,
    MID_AUTUMN,
    NATIONAL_DAY,
    NEW_YEAR,
    SPRING_FESTIVAL,
    TOMB_SWEEPING,
    statutory_holidays,
)
from govbuy.rules import WorkCalendar, missing_statutory_holidays

# chinesecalendar's names for the same holidays.
PACKAGE_NAMES = {
    NEW_YEAR: "New Year's Day",
    SPRING_FESTIVAL: "Spring Festival",
    TOMB_SWEEPING: "Tomb-sweeping Day",
    LABOUR_DAY: "Labour Day",
    DRAGON_BOAT: "Dragon Boat Festival",
    MID_AUTUMN: "Mid-autumn Festival",
    NATIONAL_DAY: "National Day",
}
PACKAGE_YEARS = sorted({d.year for d in chinese_calendar.constants.holidays})


def test_the_package_knows_2004_to_2026_at_least():
    assert PACKAGE_YEARS[0] <= 2004 and PACKAGE_YEARS[-1] >= 2026


@pytest.mark.parametrize("year", PACKAGE_YEARS)
def test_every_statutory_holiday_is_a_day_off_in_the_official_schedule(year):
    """Each day the 办法 in force that year fixes (the lunar ones included) is a holiday of the
    State Council's schedule, under that holiday's name (or the one it coincided with)."""
    holidays = statutory_holidays(year)
    names_by_day: dict[date, set[str]] = {}
    for h in holidays:
        names_by_day.setdefault(h.day, set()).add(PACKAGE_NAMES[h.name])
    for day, names in names_by_day.items():
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        assert on_holiday and not chinese_calendar.is_workday(day), day
        if name is None:  # a weekend inside the span that the package leaves unnamed (2012-06-23)
            assert day.weekday() >= 5, day
            continue
        # 2009-10-03 was 中秋 inside 国庆; 2020-10-01 both at once: the package names one of them.
        coinciding = {PACKAGE_NAMES[MID_AUTUMN], PACKAGE_NAMES[NATIONAL_DAY]}
        assert name in names or (names & coinciding and name in coinciding), (day, name, names)


@pytest.mark.parametrize("year", PACKAGE_YEARS)
def test_the_lunar_holidays_fall_where_the_official_schedule_puts_them(year):
    """春节, 清明, 端午 and 中秋 each lie inside the official span of that holiday."""
    for h in statutory_holidays(year):
        if h.name in (SPRING_FESTIVAL, TOMB_SWEEPING, DRAGON_BOAT, MID_AUTUMN):
            assert chinese_calendar.get_holiday_detail(h.day)[0], (h.day, h.name)


def test_the_revisions_of_the_measures():
    def names(year: int) -> list[str]:
        return [h.name for h in statutory_holidays(year)]

    # 1999: 春节 3 days, 劳动节 3 days, no traditional festivals
    assert names(2005).count(SPRING_FESTIVAL) == 3 and names(2005).count(LABOUR_DAY) == 3
    assert TOMB_SWEEPING not in names(2005)
    # 2008: 除夕, 初一, 初二; 清明, 端午, 中秋; 劳动节 1 day
    assert [h.day for h in statutory_holidays(2010) if h.name == SPRING_FESTIVAL] == [
        date(2010, 2, 13), date(2010, 2, 14), date(2010, 2, 15)
    ]
    assert names(2010).count(LABOUR_DAY) == 1
    # 2014: 初一–初三
    assert [h.day for h in statutory_holidays(2020) if h.name == SPRING_FESTIVAL] == [
        date(2020, 1, 25), date(2020, 1, 26), date(2020, 1, 27)
    ]
    # 2025 (国务院令第795号): 除夕–初三, 劳动节 1–2 May: 13 days in all
    assert len(statutory_holidays(2027)) == 13
    assert {h.source for h in statutory_holidays(2027)} == {"国务院令第795号"}


@pytest.mark.parametrize(
    ("year", "spring_festival", "tomb_sweeping", "dragon_boat", "mid_autumn"),
    [
        # 除夕 … 初三, from the lunar calendar; 清明 is the solar term's day.
        (2027, [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)],
         date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)),
        (2030, [date(2030, 2, 2), date(2030, 2, 3), date(2030, 2, 4), date(2030, 2, 5)],
         date(2030, 4, 5), date(2030, 6, 5), date(2030, 9, 12)),
    ],
)
def test_the_fallback_for_an_unrecorded_year_marks_the_statutory_holidays(
    year, spring_festival, tomb_sweeping, dragon_boat, mid_autumn
):
    guess = WorkCalendar()  # nothing recorded: weekends and the statutory holidays
    off = [date(year, 1, 1), *spring_festival, tomb_sweeping, date(year, 5, 1), date(year, 5, 2),
           dragon_boat, mid_autumn, date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)]
    for day in off:
        assert not guess.is_working_day(day), day
    assert guess.is_working_day(date(year, 10, 8)) is (date(year, 10, 8).weekday() < 5)
    assert guess.guessed_years(date(year, 1, 1), date(year, 12, 31)) == [year]


def test_a_recorded_schedule_decides_its_year_and_the_fallback_no_longer_applies():
    # A (hypothetical) 2027 schedule that works Saturday 2027-02-20 and gives Mon 02-08 … Thu 02-11 off.
    statutory = {h.day for h in statutory_holidays(2027)}
    days_off = frozenset(statutory | {date(2027, 2, 9), date(2027, 2, 10), date(2027, 2, 11)})
    calendar = WorkCalendar().with_year(2027, days_off, frozenset({date(2027, 2, 20)}))
    assert calendar.is_known(2027)
    assert not calendar.is_working_day(date(2027, 2, 10))
    assert calendar.is_working_day(date(2027, 2, 20))
    assert missing_statutory_holidays(2027, days_off, frozenset()) == []


def test_a_schedule_missing_a_statutory_day_or_working_one_is_incomplete():
    statutory = {h.day for h in statutory_holidays(2027)}
    without_eve = frozenset(statutory - {date(2027, 2, 5)})
    assert [(h.day, h.name) for h in missing_statutory_holidays(2027, without_eve, frozenset())] == [
        (date(2027, 2, 5), SPRING_FESTIVAL)
    ]
    worked = missing_statutory_holidays(2027, frozenset(statutory), frozenset({date(2027, 5, 1)}))
    assert [(h.day, h.name) for h in worked] == [(date(2027, 5, 1), LABOUR_DAY)]
    # an empty schedule: every statutory day on a weekday is missing (2027-02-06/07 are a weekend)
    missing = missing_statutory_holidays(2027, frozenset(), frozenset())
    assert [h.day for h in missing] == sorted(d for d in statutory if d.weekday() < 5)
    assert len(missing) == 7


@pytest.mark.parametrize("year", PACKAGE_YEARS)
def test_every_schedule_the_package_seeds_is_complete(year):
    holidays = frozenset(d for d in chinese_calendar.constants.holidays if d.year == year)
    workdays = frozenset(d for d in chinese_calendar.constants.workdays if d.year == year)
    assert missing_statutory_holidays(year, holidays, workdays) == []
