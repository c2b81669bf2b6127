"""Events of the tasks domain. Quantities travel as decimal strings; dates are Asia/Shanghai dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from linzhang.contracts.base import Event


class TaskCreated(Event, frozen=True, kw_only=True):
    task_id: int
    kind: str  # target | issue | order
    title: str
    category: str | None
    jurisdiction_code: str
    path: str
    holder_code: str
    holder_path: str
    due_date: dt.date
    parent_id: int | None
    target_quantity: Decimal | None
    unit: str | None
    plan_key: str | None
    created_by: str


class TaskSplit(Event, frozen=True, kw_only=True):
    task_id: int
    path: str
    child_ids: list[int]


class TaskProgressReported(Event, frozen=True, kw_only=True):
    """A leaf's cumulative figure (a repeated report carries the same figure)."""

    task_id: int
    parent_id: int | None
    path: str
    completed_quantity: Decimal
    target_quantity: Decimal
    reported_by: str


class TaskRolledUp(Event, frozen=True, kw_only=True):
    """A split target's figures changed because one of its parts changed."""

    task_id: int
    parent_id: int | None
    path: str
    completed_quantity: Decimal
    target_quantity: Decimal
    status: str


class TaskCompleted(Event, frozen=True, kw_only=True):
    """The task is done: reached, finished, or (an issue) verified."""

    task_id: int
    parent_id: int | None
    kind: str
    category: str | None
    jurisdiction_code: str
    path: str
    due_date: dt.date
    completed_on: dt.date
    late: bool
    completed_by: str


class TaskSubmitted(Event, frozen=True, kw_only=True):
    """An issue's holder says it is handled; the level above is to verify it."""

    task_id: int
    jurisdiction_code: str
    path: str
    submitted_by: str


class TaskSentBack(Event, frozen=True, kw_only=True):
    """Verification found an issue not properly handled; it is open again."""

    task_id: int
    jurisdiction_code: str
    path: str
    reason: str
    sent_back_by: str
