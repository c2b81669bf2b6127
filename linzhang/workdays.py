"""Working days per the official Chinese calendar (holidays and make-up workdays), with overrides.

The official calendar comes from the chinese-calendar package, which knows a fixed range of years
and raises for others (2027 today). ``config/calendar.toml`` adds or corrects days; for a year
neither knows, Monday to Friday are working days, so nothing that computes a deadline ever fails.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar

OfficialLookup = Callable[[dt.date], bool | None]


class CalendarError(ValueError):
    """config/calendar.toml is not usable."""


def official_workday(day: dt.date) -> bool | None:
    """The official answer, or None for a year the package does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    official: OfficialLookup = field(default=official_workday)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        official = self.official(day)
        return day.weekday() < 5 if official is None else official

    def add_workdays(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself when ``count`` is 0)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not after ``start``)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


def load_calendar(path: Path, official: OfficialLookup = official_workday) -> WorkCalendar:
    """Read ``[years.YYYY] holidays = [...]  workdays = [...]`` overrides; a missing file means none."""
    if not path.is_file():
        return WorkCalendar(official=official)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: not valid TOML: {exc}") from None
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for year, entry in raw.get("years", {}).items():
        for key, target in (("holidays", holidays), ("workdays", workdays)):
            for day in entry.get(key, []):
                if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                    raise CalendarError(f"{path}: years.{year}.{key}: {day!r} is not a date")
                if str(day.year) != str(year):
                    raise CalendarError(f"{path}: years.{year}.{key}: {day} is not in {year}")
                target.add(day)
    both = holidays & workdays
    if both:
        raise CalendarError(f"{path}: {min(both)} is both a holiday and a workday")
    return WorkCalendar(frozenset(holidays), frozenset(workdays), official)
