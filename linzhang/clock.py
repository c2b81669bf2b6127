"""The one clock every rule that depends on "now" reads (docs/adr/0013).

A process runs on the wall clock (``[clock] mode = "system"``), or, on a training instance, on a
test clock (``mode = "test"``, after Stripe's test clocks): its "now" is one row in the database, so
every server, worker and scheduler agrees; it stands still until an administrator moves it, and it
only moves forward. Pages and readiness ask :func:`is_test_clock` whether to say so.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Integer, String, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, UTCDateTime
from linzhang.db.engine import READ_ONLY_OPTION
from linzhang.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
ClockMode = Literal["system", "test"]
# The test clock is a single row; its key.
TEST_CLOCK_ROW = 1


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and catch-up runs."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class TestClockRow(Base):
    """The test clock's "now" (one row); only a training instance (``[clock] mode = "test"``) has it."""

    __tablename__ = "platform_test_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    now: Mapped[datetime] = mapped_column(UTCDateTime)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    moved_by: Mapped[str] = mapped_column(String(64))


test_clock_table = cast(Table, TestClockRow.__table__)


class TestClock:
    """A clock whose "now" is stored in the database: it stands still until moved, and moves only forward.

    Reading it is one primary-key lookup on a connection of its own, so a rule that reads the time
    inside a transaction sees the instant every other process sees. Until :meth:`start` has written the
    row (bootstrap does it) it answers the wall clock.
    """

    # Not a test case, whatever pytest guesses from the name.
    __test__ = False

    def __init__(
        self,
        engine: Engine,
        wall: Clock | None = None,
        refresh_seconds: float = 0.0,
        max_ahead: timedelta | None = None,
    ) -> None:
        self._engine = engine
        self._wall = wall or SystemClock()
        # How far past the wall clock it may be moved (None: no limit).
        self._max_ahead = max_ahead
        # A read is kept this long (monotonic seconds) before the database is asked again.
        self._refresh_seconds = refresh_seconds
        self._read: tuple[float, datetime] | None = None

    def start(self) -> None:
        """Set the clock to the wall clock's time if it has never been set (a no-op after that)."""
        try:
            with self._engine.begin() as connection:
                if connection.execute(select(test_clock_table.c.id)).first() is None:
                    at = self._wall.now()
                    connection.execute(
                        insert(test_clock_table).values(id=TEST_CLOCK_ROW, now=at, moved_at=at, moved_by="start")
                    )
        except SQLAlchemyError:
            # A database not migrated yet (or a racing process that inserted first): reading still works.
            return

    def now(self) -> datetime:
        read = self._read
        if read is not None and time.monotonic() - read[0] < self._refresh_seconds:
            return read[1]
        with self._engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as connection:
            stored: datetime | None = connection.execute(
                select(test_clock_table.c.now).where(test_clock_table.c.id == TEST_CLOCK_ROW)
            ).scalar_one_or_none()
        if stored is None:
            return self._wall.now()
        self._read = (time.monotonic(), stored)
        return stored

    def move_to(self, when: datetime, actor: str) -> datetime:
        """Move the clock forward to ``when``; an earlier instant is refused (the same one is a no-op)."""
        if when.tzinfo is None:
            raise InvalidInput(
                "时间须带时区，例如 2027-01-04T09:00:00+08:00", code="clock_time_without_zone", field="now"
            )
        try:
            when = when.astimezone(UTC)
        except OverflowError:
            raise InvalidInput("时间超出可表示的范围", code="clock_time_out_of_range", field="now") from None
        if self._max_ahead is not None and when > self._wall.now() + self._max_ahead:
            raise InvalidInput(
                f"测试时钟最多只能拨到当前实际时间之后 {self._max_ahead.days} 天",
                code="clock_too_far_ahead",
                field="now",
            )
        self.start()
        with self._engine.begin() as connection:
            query = select(test_clock_table.c.now).where(test_clock_table.c.id == TEST_CLOCK_ROW)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            current = connection.execute(query).scalar_one()
            if when < current:
                raise InvalidInput(
                    f"测试时钟只能向前拨：当前为 {current.astimezone(SHANGHAI).isoformat()}，"
                    f"不能拨回到 {when.astimezone(SHANGHAI).isoformat()}",
                    code="clock_backwards",
                    field="now",
                    current=current.isoformat(),
                )
            connection.execute(
                update(test_clock_table)
                .where(test_clock_table.c.id == TEST_CLOCK_ROW)
                .values(now=when, moved_at=self._wall.now(), moved_by=actor)
            )
        self._read = None
        return when


def is_test_clock(clock: Clock) -> bool:
    """True when ``clock`` is a training instance's test clock: pages and /readyz say so."""
    return isinstance(clock, TestClock)


def clock_mode(clock: Clock) -> ClockMode:
    return "test" if is_test_clock(clock) else "system"


def clock_for(
    mode: ClockMode, engine: Engine, refresh_seconds: float = 0.0, max_ahead: timedelta | None = None
) -> Clock:
    """The clock the settings ask for: the wall clock, or the database's test clock."""
    if mode == "test":
        clock = TestClock(engine, refresh_seconds=refresh_seconds, max_ahead=max_ahead)
        clock.start()
        return clock
    return SystemClock()
