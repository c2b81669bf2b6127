"""Working days: the official calendar, overrides, and years nobody knows yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.settings import DEFAULTS_DIR
from linzhang.workdays import (
    CalendarError,
    WorkCalendar,
    YearEntry,
    check_year_entry,
    load_calendar,
    official_workday,
)

CONFIG = DEFAULTS_DIR
# The last year the installed chinese-calendar knows (2026 for 1.11.0).
LAST = max(chinese_calendar.holidays).year


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


def test_shipped_overrides_know_new_year_2027_but_not_the_whole_year() -> None:
    calendar = load_calendar(CONFIG / "calendar.toml")
    assert not calendar.is_workday(dt.date(2027, 1, 1))
    assert calendar.is_workday(dt.date(2027, 1, 4))
    # One day is not a schedule: 2027 stays uncovered until its holidays are entered.
    assert not calendar.covers(2027)


def test_the_official_calendar_covers_the_years_the_installed_package_knows() -> None:
    calendar = WorkCalendar()
    last = LAST
    assert calendar.covers(last)
    assert not calendar.covers(last + 1)
    assert calendar.source_of(last) == "official"
    assert calendar.uncovered_years(dt.date(last, 12, 1)) == [last + 1]
    assert calendar.uncovered_years(dt.date(last - 1, 6, 1)) == []
    assert calendar.last_covered_year(dt.date(last, 6, 1)) == last


def test_a_complete_year_in_the_file_is_covered(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("[years.2027]\nholidays = [2027-02-08]\ncomplete = true\n", encoding="utf-8")
    calendar = load_calendar(path)
    assert calendar.covers(2027)
    assert calendar.source_of(2027) == "file"
    assert not calendar.covers(2028)


def entered(*entries: YearEntry) -> Callable[[], Mapping[int, YearEntry]]:
    return lambda: {entry.year: entry for entry in entries}


def test_spring_festival_2027_is_a_working_day_only_until_the_office_enters_it() -> None:
    store: dict[int, YearEntry] = {}
    calendar = WorkCalendar(entries=lambda: dict(store), refresh_seconds=3600)
    friday, festival = dt.date(2027, 2, 5), dt.date(2027, 2, 8)
    assert calendar.is_workday(festival)  # Monday-Friday guessed ...
    assert calendar.add_workdays(friday, 1) == festival
    assert calendar.is_provisional(festival, friday)  # ... and marked provisional
    store[2027] = check_year_entry(2027, [festival + dt.timedelta(days=n) for n in range(5)], [dt.date(2027, 2, 20)])
    assert calendar.is_workday(festival)  # not re-read before refresh_seconds
    calendar.refresh()
    assert not calendar.is_workday(festival)
    assert calendar.is_workday(dt.date(2027, 2, 20))  # a Saturday worked in exchange
    assert calendar.add_workdays(friday, 1) == dt.date(2027, 2, 15)
    assert not calendar.is_provisional(dt.date(2027, 2, 15), friday)
    assert calendar.source_of(2027) == "office"


def test_the_offices_entry_replaces_the_files_entries_for_its_year(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text("[years.2027]\nholidays = [2027-03-01]\n", encoding="utf-8")
    calendar = load_calendar(path, entries=entered(check_year_entry(2027, [dt.date(2027, 3, 2)], [])))
    assert calendar.is_workday(dt.date(2027, 3, 1))
    assert not calendar.is_workday(dt.date(2027, 3, 2))


def test_entries_are_read_again_after_refresh_seconds() -> None:
    reads: list[int] = []

    def source() -> Mapping[int, YearEntry]:
        reads.append(1)
        return {}

    calendar = WorkCalendar(entries=source, refresh_seconds=0)
    calendar.is_workday(dt.date(2027, 1, 4))
    calendar.is_workday(dt.date(2027, 1, 5))
    assert len(reads) == 2
    patient = WorkCalendar(entries=source, refresh_seconds=3600)
    patient.is_workday(dt.date(2027, 1, 4))
    patient.is_workday(dt.date(2027, 1, 5))
    assert len(reads) == 3


@pytest.mark.parametrize(
    ("deadline", "today", "provisional"),
    [
        (dt.date(2026, 12, 31), dt.date(2026, 12, 1), False),  # in a covered year
        (dt.date(2027, 1, 8), dt.date(2026, 12, 28), True),  # falls in an uncovered year
        (dt.date(2028, 1, 8), dt.date(2026, 12, 28), True),  # counted across one
        (dt.date(2021, 3, 3), dt.date(2026, 12, 1), False),  # long past, in a covered year
        (dt.date(2021, 3, 3), dt.date(2027, 3, 1), False),  # past: only its own year matters
        (None, dt.date(2027, 3, 1), False),
    ],
)
def test_provisional_deadlines(deadline: dt.date | None, today: dt.date, provisional: bool) -> None:
    assert WorkCalendar().is_provisional(deadline, today) is provisional


def test_a_years_entry_keeps_to_its_year() -> None:
    with pytest.raises(CalendarError, match="不在 2027 年内"):
        check_year_entry(2027, [dt.date(2026, 12, 31)], [])
    with pytest.raises(CalendarError, match="既是假日又是调休工作日"):
        check_year_entry(2027, [dt.date(2027, 2, 8)], [dt.date(2027, 2, 8)])


@given(st.dates(dt.date(2004, 1, 1), dt.date(LAST, 12, 31)), st.dates(dt.date(2004, 1, 1), dt.date(LAST, 12, 31)))
def test_deadlines_within_the_official_years_are_never_provisional(deadline: dt.date, today: dt.date) -> None:
    assert not WorkCalendar().is_provisional(deadline, today)


@given(
    st.dates(dt.date(LAST + 1, 1, 1), dt.date(LAST + 4, 12, 31)),
    st.dates(dt.date(2020, 1, 1), dt.date(LAST + 4, 12, 31)),
)
def test_deadlines_in_unknown_years_are_always_provisional(deadline: dt.date, today: dt.date) -> None:
    assert WorkCalendar().is_provisional(deadline, today)


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


@given(st.dates(dt.date(2004, 1, 1), dt.date(LAST, 12, 31)))
def test_the_official_lookup_gives_the_packages_answer(day: dt.date) -> None:
    assert official_workday(day) is chinese_calendar.is_workday(day)


def test_the_official_lookup_knows_no_year_outside_the_package() -> None:
    assert official_workday(dt.date(LAST + 1, 2, 8)) is None
    assert official_workday(dt.date(2003, 12, 31)) is None
