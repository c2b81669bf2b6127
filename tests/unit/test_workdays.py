"""Working days: the official calendar, overrides, and years nobody knows yet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.settings import DEFAULTS_DIR
from linzhang.workdays import CalendarError, WorkCalendar, load_calendar

CONFIG = DEFAULTS_DIR


def test_official_holidays_and_make_up_days() -> None:
    calendar = WorkCalendar()
    assert not calendar.is_workday(dt.date(2021, 10, 1))  # 国庆节
    assert calendar.is_workday(dt.date(2021, 9, 26))  # a Sunday worked in exchange
    assert calendar.is_workday(dt.date(2021, 10, 9))  # a Saturday worked in exchange


def test_national_day_week_is_skipped() -> None:
    # Thursday 30 September 2021 plus one working day is Friday 8 October: 1-7 October are off.
    assert WorkCalendar().add_workdays(dt.date(2021, 9, 30), 1) == dt.date(2021, 10, 8)


def test_an_unknown_year_does_not_crash_and_falls_back_to_weekdays() -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(dt.date(2027, 3, 3))  # a Wednesday
    assert not calendar.is_workday(dt.date(2027, 3, 6))  # a Saturday
    assert calendar.add_workdays(dt.date(2026, 12, 30), 5) > dt.date(2026, 12, 30)


def test_shipped_overrides_cover_2027() -> None:
    calendar = load_calendar(CONFIG / "calendar.toml")
    assert not calendar.is_workday(dt.date(2027, 1, 1))
    assert calendar.is_workday(dt.date(2027, 1, 4))


def test_overrides_win_over_the_official_calendar(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("[years.2021]\nholidays = [2021-03-01]\nworkdays = [2021-03-06]\n", encoding="utf-8")
    calendar = load_calendar(path)
    assert not calendar.is_workday(dt.date(2021, 3, 1))
    assert calendar.is_workday(dt.date(2021, 3, 6))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[years.2027]\nholidays = [2026-01-01]\n", "not in 2027"),
        ("[years.2027]\nholidays = ['soon']\n", "not a date"),
        ("[years.2027]\nholidays = [2027-02-01]\nworkdays = [2027-02-01]\n", "both"),
        ("[years.2027\n", "not valid TOML"),
    ],
)
def test_bad_override_files(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CalendarError, match=words):
        load_calendar(path)


@given(st.dates(dt.date(2015, 1, 1), dt.date(2028, 12, 31)), st.integers(0, 40))
def test_adding_n_workdays_lands_on_a_workday_n_workdays_later(start: dt.date, count: int) -> None:
    calendar = WorkCalendar()
    end = calendar.add_workdays(start, count)
    assert calendar.workdays_between(start, end) == count
    if count:
        assert calendar.is_workday(end)
