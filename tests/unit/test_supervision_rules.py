"""督办: only escalated, open work; a deadline that is a working day, not past, at most N working days ahead."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linzhang.domains.tasks.model import TaskRuleError, TaskStatus, check_supervision
from linzhang.vocabularies import LEVEL_CODES as LEVEL_ORDER
from linzhang.workdays import WorkCalendar

CALENDAR = WorkCalendar()
TODAY = dt.date(2021, 3, 1)  # a Monday
MAX_WORKDAYS = 20


def supervise(
    new_due: dt.date,
    *,
    status: TaskStatus = TaskStatus.OPEN,
    owner: str = "village",
    holder: str = "township",
    today: dt.date = TODAY,
) -> dt.date:
    return check_supervision(
        status=status,
        owner_level=owner,
        holder_level=holder,
        new_due_date=new_due,
        today=today,
        latest=CALENDAR.add_workdays(today, MAX_WORKDAYS),
        is_workday=CALENDAR.is_workday,
    )


def test_the_2100_deadline_and_the_unescalated_order_are_refused() -> None:
    with pytest.raises(TaskRuleError, match="最迟") as too_far:
        supervise(dt.date(2100, 12, 31))
    assert too_far.value.code == "deadline_too_far"
    assert too_far.value.field == "new_due_date"
    with pytest.raises(TaskRuleError, match="未升级") as unescalated:
        supervise(TODAY + dt.timedelta(days=3), holder="village")
    assert unescalated.value.conflict


def test_past_and_rest_days_are_refused() -> None:
    with pytest.raises(TaskRuleError, match="早于今天"):
        supervise(TODAY - dt.timedelta(days=1))
    with pytest.raises(TaskRuleError, match="不是工作日"):
        supervise(dt.date(2021, 3, 6))  # a Saturday
    with pytest.raises(TaskRuleError, match="不是工作日"):
        supervise(dt.date(2021, 4, 5))  # 清明节
    with pytest.raises(TaskRuleError, match="办理中"):
        supervise(TODAY, status=TaskStatus.SUBMITTED)


@given(
    st.dates(dt.date(2021, 1, 1), dt.date(2025, 12, 31)),
    st.integers(-30, 60),
    st.sampled_from(LEVEL_ORDER),
    st.sampled_from(LEVEL_ORDER),
)
def test_an_accepted_deadline_is_always_within_bounds(today: dt.date, offset: int, owner: str, holder: str) -> None:
    new_due = today + dt.timedelta(days=offset)
    try:
        deadline = supervise(new_due, owner=owner, holder=holder, today=today)
    except TaskRuleError:
        return
    # Supervised work is held above its owner; the deadline is a working day from today to N working days on.
    assert LEVEL_ORDER.index(holder) < LEVEL_ORDER.index(owner)
    assert deadline == new_due
    assert today <= deadline <= CALENDAR.add_workdays(today, MAX_WORKDAYS)
    assert CALENDAR.is_workday(deadline)
    assert CALENDAR.workdays_between(today, deadline) <= MAX_WORKDAYS
