"""One answer to "is it overdue?": from 00:00 Asia/Shanghai the day after the (inclusive) due date."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from linzhang.clock import SHANGHAI
from linzhang.deadlines import days_overdue, finished_late, is_overdue, local_day, overdue_from

DUE = dt.date(2021, 6, 30)


def test_overdue_from_midnight_in_shanghai_the_day_after_the_due_date() -> None:
    assert overdue_from(DUE) == dt.datetime(2021, 7, 1, 0, 0, tzinfo=SHANGHAI)
    # 23:59 on the due date in Shanghai is 15:59 UTC: not overdue; 00:00 the next day (16:00 UTC) is.
    assert not is_overdue(DUE, local_day(dt.datetime(2021, 6, 30, 15, 59, tzinfo=dt.UTC)))
    assert is_overdue(DUE, local_day(dt.datetime(2021, 6, 30, 16, 0, tzinfo=dt.UTC)))


def test_days_overdue_counts_from_the_day_after_and_never_once_done() -> None:
    assert days_overdue(DUE, DUE) == 0
    assert days_overdue(DUE, dt.date(2021, 7, 1)) == 1
    assert days_overdue(DUE, dt.date(2021, 6, 1)) == 0
    assert days_overdue(DUE, dt.date(2026, 6, 1), done=True) == 0
    assert not is_overdue(DUE, dt.date(2026, 6, 1), done=True)


def test_finished_late_is_after_the_due_date() -> None:
    assert not finished_late(DUE, DUE)
    assert finished_late(DUE, dt.date(2021, 7, 1))


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)), st.integers(-4000, 4000))
def test_overdue_and_days_overdue_agree(due: dt.date, offset: int) -> None:
    today = due + dt.timedelta(days=offset)
    assert is_overdue(due, today) == (days_overdue(due, today) > 0)
    assert days_overdue(due, today) == max(0, offset)
    assert is_overdue(due, today) == (dt.datetime.combine(today, dt.time(0), tzinfo=SHANGHAI) >= overdue_from(due))
