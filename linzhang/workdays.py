"""Working days per the official Chinese calendar (holidays and make-up workdays), with overrides.

Three layers, the later winning (docs/adr/0013):

1. the official calendar of the chinese-calendar package, which knows a fixed range of years (the
   installed version: 2004 to 2026) and raises for others;
2. ``config/calendar.toml``, shipped with the deployment: days that add to or correct the official
   calendar, and ``complete = true`` for a year whose whole schedule it holds;
3. the years the city office entered with ``linzhang calendar set-year``, kept in the database
   (``platform_calendar_years``) so every process reads them; such a year replaces the file's entries
   for that year. Each process re-reads them every ``[calendar] refresh_seconds``.

A year covered by none of them is never guessed silently: Monday to Friday count as working days so
nothing that computes a deadline fails, but :meth:`WorkCalendar.uncovered_years` reports it
(readiness, start-up, the office's pages) and :meth:`WorkCalendar.is_provisional` marks a deadline
that falls in or reaches across it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import chinese_calendar
import structlog
from sqlalchemy import Engine, Integer, String, Table, Text, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from linzhang.db.base import Base, UTCDateTime
from linzhang.db.engine import READ_ONLY_OPTION

OfficialLookup = Callable[[dt.date], bool | None]
log = structlog.get_logger("linzhang.calendar")
# The years a year's coverage is reported for: this one and the next (deadlines reach that far).
YEARS_AHEAD_REPORTED = 1


class CalendarError(ValueError):
    """config/calendar.toml, or a year's entry, is not usable."""


# The years the installed chinese-calendar knows (its own check recomputes this range on every call).
OFFICIAL_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def official_workday(day: dt.date) -> bool | None:
    """The official answer, or None for a year the package does not know (chinese_calendar.is_workday's rule)."""
    if day.year not in OFFICIAL_YEARS:
        return None
    return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)


def official_holiday_name(day: dt.date) -> str | None:
    """The official holiday's Chinese name for a day off (春节 ...), when the package knows it."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if not is_holiday or name is None:
        return None
    for holiday in chinese_calendar.Holiday:
        if holiday.value == name:
            return str(holiday.chinese)
    return str(name)


@dataclass(frozen=True, slots=True)
class YearEntry:
    """A year's schedule as the office entered it: weekdays off, and weekend days worked (调休)."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    entered_by: str = ""
    entered_at: dt.datetime | None = None


def check_year_entry(year: int, holidays: Iterable[dt.date], workdays: Iterable[dt.date]) -> YearEntry:
    """A year's entry, or :class:`CalendarError` naming the first day that does not belong."""
    off, worked = frozenset(holidays), frozenset(workdays)
    for kind, days in (("holidays", off), ("workdays", worked)):
        for day in sorted(days):
            if day.year != year:
                raise CalendarError(f"{kind}: {day} 不在 {year} 年内")
    both = off & worked
    if both:
        raise CalendarError(f"{min(both)} 不能既是假日又是调休工作日")
    return YearEntry(year, off, worked)


EntrySource = Callable[[], Mapping[int, YearEntry]]


@dataclass(frozen=True, slots=True)
class _Layers:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    complete_years: frozenset[int]
    entered: Mapping[int, YearEntry]
    official: OfficialLookup

    def is_workday(self, day: dt.date) -> bool:
        entry = self.entered.get(day.year)
        if entry is not None:
            if day in entry.workdays:
                return True
            if day in entry.holidays:
                return False
        else:
            if day in self.workdays:
                return True
            if day in self.holidays:
                return False
        official = self.official(day)
        return day.weekday() < 5 if official is None else official

    def covers(self, year: int) -> bool:
        return year in self.entered or year in self.complete_years or self.official(dt.date(year, 1, 1)) is not None


class WorkCalendar:
    """The working-day calendar a process counts deadlines with (see the module's docstring)."""

    def __init__(
        self,
        holidays: frozenset[dt.date] = frozenset(),
        workdays: frozenset[dt.date] = frozenset(),
        official: OfficialLookup = official_workday,
        *,
        complete_years: frozenset[int] = frozenset(),
        entries: EntrySource | None = None,
        refresh_seconds: float = 30.0,
    ) -> None:
        self._layers = _Layers(holidays, workdays, complete_years, {}, official)
        self._entries = entries
        self._refresh_seconds = refresh_seconds
        self._read_at: float | None = None
        self._lock = threading.Lock()

    # -- the office's entries, re-read now and then ------------------------------------------------

    def refresh(self) -> None:
        """Read the office's entries now (``linzhang calendar set-year`` calls it after writing)."""
        if self._entries is None:
            return
        with self._lock:
            try:
                entered = dict(self._entries())
            except SQLAlchemyError as exc:
                # A database not migrated yet, or briefly away: keep what was read before.
                log.warning("calendar.entries_unreadable", error=type(exc).__name__)
                entered = dict(self._layers.entered)
            layers = self._layers
            self._layers = _Layers(layers.holidays, layers.workdays, layers.complete_years, entered, layers.official)
            self._read_at = time.monotonic()

    def _current(self) -> _Layers:
        if self._entries is not None and (
            self._read_at is None or time.monotonic() - self._read_at >= self._refresh_seconds
        ):
            self.refresh()
        return self._layers

    # -- counting -------------------------------------------------------------------------------

    def is_workday(self, day: dt.date) -> bool:
        return self._current().is_workday(day)

    def add_workdays(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself when ``count`` is 0)."""
        if count < 0:
            raise ValueError("count must not be negative")
        layers = self._current()
        day = start
        remaining = count
        while remaining:
            day += dt.timedelta(days=1)
            if layers.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not after ``start``)."""
        layers = self._current()
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += layers.is_workday(day)
        return count

    # -- coverage -------------------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """Whether the year's holidays and make-up workdays are known (officially, in the file, or entered)."""
        return self._current().covers(year)

    def source_of(self, year: int) -> str:
        """Where the year's schedule comes from: ``office``, ``file``, ``official`` or ``none``."""
        layers = self._current()
        if year in layers.entered:
            return "office"
        if year in layers.complete_years:
            return "file"
        if layers.official(dt.date(year, 1, 1)) is not None:
            return "official"
        return "none"

    def uncovered_years(self, today: dt.date) -> list[int]:
        """This year and the next, those not covered: what readiness, start-up and the office's banner report."""
        layers = self._current()
        return [year for year in range(today.year, today.year + YEARS_AHEAD_REPORTED + 1) if not layers.covers(year)]

    def is_provisional(self, deadline: dt.date | None, today: dt.date) -> bool:
        """A deadline in an uncovered year, or one whose working days from today reach across one."""
        if deadline is None:
            return False
        layers = self._current()
        # A future deadline counts working days from today to it; a past one only its own year's.
        first = today.year if deadline >= today else deadline.year
        return any(not layers.covers(year) for year in range(first, deadline.year + 1))

    def last_covered_year(self, today: dt.date) -> int:
        """The last year of the unbroken run of covered years from this one (this year - 1 if it is not)."""
        layers = self._current()
        year = today.year
        while layers.covers(year):
            year += 1
        return year - 1

    def days_of(self, year: int) -> tuple[list[dt.date], list[dt.date]]:
        """The year's weekdays off (holidays) and weekend days worked (make-up workdays), in order."""
        layers = self._current()
        holidays, workdays = [], []
        day = dt.date(year, 1, 1)
        while day.year == year:
            worked = layers.is_workday(day)
            if day.weekday() < 5 and not worked:
                holidays.append(day)
            elif day.weekday() >= 5 and worked:
                workdays.append(day)
            day += dt.timedelta(days=1)
        return holidays, workdays


def load_calendar(
    path: Path,
    official: OfficialLookup = official_workday,
    *,
    entries: EntrySource | None = None,
    refresh_seconds: float = 30.0,
) -> WorkCalendar:
    """Read ``[years.YYYY] holidays = [...]  workdays = [...]  complete = true|false``; a missing file means none."""
    if not path.is_file():
        return WorkCalendar(official=official, entries=entries, refresh_seconds=refresh_seconds)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: not valid TOML: {exc}") from None
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    complete: set[int] = set()
    for year, entry in raw.get("years", {}).items():
        for key, target in (("holidays", holidays), ("workdays", workdays)):
            for day in entry.get(key, []):
                if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                    raise CalendarError(f"{path}: years.{year}.{key}: {day!r} is not a date")
                if str(day.year) != str(year):
                    raise CalendarError(f"{path}: years.{year}.{key}: {day} is not in {year}")
                target.add(day)
        flag = entry.get("complete", False)
        if not isinstance(flag, bool):
            raise CalendarError(f"{path}: years.{year}.complete: {flag!r} is not true or false")
        if flag:
            complete.add(int(year))
    both = holidays & workdays
    if both:
        raise CalendarError(f"{path}: {min(both)} is both a holiday and a workday")
    return WorkCalendar(
        frozenset(holidays),
        frozenset(workdays),
        official,
        complete_years=frozenset(complete),
        entries=entries,
        refresh_seconds=refresh_seconds,
    )


# -- the office's entries in the database ----------------------------------------------------------


class CalendarYearRow(Base):
    """A year's holidays and make-up workdays as the city office entered them (``linzhang calendar``)."""

    __tablename__ = "platform_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # JSON lists of ISO dates.
    holidays: Mapped[str] = mapped_column(Text)
    workdays: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


calendar_years_table = cast(Table, CalendarYearRow.__table__)


def _dates(text: str) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(day) for day in json.loads(text))


def entries_in(engine: Engine) -> EntrySource:
    """A source of the years the office entered, read from ``engine``'s database."""

    def read() -> Mapping[int, YearEntry]:
        with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
            rows = connection.execute(select(calendar_years_table)).all()
        return {
            row.year: YearEntry(row.year, _dates(row.holidays), _dates(row.workdays), row.entered_by, row.entered_at)
            for row in rows
        }

    return read


def enter_year(session: Session, entry: YearEntry, actor: str, now: dt.datetime) -> None:
    """Store a year's schedule, replacing what was entered for that year before."""
    session.execute(delete(calendar_years_table).where(calendar_years_table.c.year == entry.year))
    session.execute(
        insert(calendar_years_table).values(
            year=entry.year,
            holidays=json.dumps(sorted(day.isoformat() for day in entry.holidays)),
            workdays=json.dumps(sorted(day.isoformat() for day in entry.workdays)),
            entered_by=actor,
            entered_at=now,
        )
    )


@dataclass(frozen=True, slots=True)
class YearReport:
    """What ``linzhang calendar show`` prints for a year."""

    year: int
    covered: bool
    source: str
    holidays: list[tuple[dt.date, str | None]] = field(default_factory=list)
    workdays: list[dt.date] = field(default_factory=list)


def report_year(calendar: WorkCalendar, year: int) -> YearReport:
    holidays, workdays = calendar.days_of(year)
    return YearReport(
        year,
        calendar.covers(year),
        calendar.source_of(year),
        [(day, official_holiday_name(day)) for day in holidays],
        workdays,
    )
