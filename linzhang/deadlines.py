"""One answer to "is it overdue?", shared by the task view, the inbox, the board and the assessments.

``due_date`` is a calendar date in Asia/Shanghai and is inclusive: work that is not done is overdue
from 00:00 (Asia/Shanghai) the day after it. ``days_overdue`` counts the calendar days since then,
the first overdue day being day 1. Work that is done is never overdue. The holder's escalation
deadline (督办期限) is a separate date, shown beside this one and never mixed into it.
"""

from __future__ import annotations

import datetime as dt

from linzhang.clock import SHANGHAI


def local_day(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an instant."""
    return moment.astimezone(SHANGHAI).date()


def overdue_from(due_date: dt.date) -> dt.datetime:
    """The instant work due on ``due_date`` becomes overdue: 00:00 Asia/Shanghai the day after."""
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)


def is_overdue(due_date: dt.date, today: dt.date, *, done: bool = False) -> bool:
    """Whether work due on ``due_date`` is overdue on ``today`` (never once it is done)."""
    return not done and today > due_date


def days_overdue(due_date: dt.date, today: dt.date, *, done: bool = False) -> int:
    """Calendar days the work is overdue on ``today``: 0 until the day after ``due_date``, then 1, 2 ..."""
    return (today - due_date).days if is_overdue(due_date, today, done=done) else 0


def finished_late(due_date: dt.date, finished_on: dt.date) -> bool:
    """Whether work finished on ``finished_on`` was finished after its (inclusive) due date."""
    return finished_on > due_date
