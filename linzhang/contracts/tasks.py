"""Events of the tasks domain. Quantities travel as decimal strings; dates are Asia/Shanghai dates.

Every event carries the task's state after the change (``TaskSnapshot``) with its ``revision``, which
grows by one with every change: a projection keeps the newest revision it has seen and can ignore an
older event that arrives late, whatever order the bus delivers them in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec

from linzhang.contracts.base import Event


class TaskSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    task_id: int
    revision: int
    kind: str  # target | issue | order
    title: str
    category: str | None
    status: str  # open | submitted | done
    jurisdiction_code: str  # the owner, who stays responsible
    path: str
    holder_code: str  # who holds it now: the owner, or the level it escalated to
    holder_path: str
    holder_level: str
    due_date: dt.date
    escalation_due_date: dt.date | None
    parent_id: int | None


class TaskCreated(Event, frozen=True, kw_only=True):
    task: TaskSnapshot
    target_quantity: Decimal | None
    unit: str | None
    plan_key: str | None
    created_by: str


class TaskSplit(Event, frozen=True, kw_only=True):
    task: TaskSnapshot
    child_ids: list[int]


class TaskProgressReported(Event, frozen=True, kw_only=True):
    """A leaf's cumulative figure (a repeated report carries the same figure)."""

    task: TaskSnapshot
    completed_quantity: Decimal
    target_quantity: Decimal
    reported_by: str


class TaskRolledUp(Event, frozen=True, kw_only=True):
    """A split target's figures changed because one of its parts changed."""

    task: TaskSnapshot
    completed_quantity: Decimal
    target_quantity: Decimal


class TaskCompleted(Event, frozen=True, kw_only=True):
    """The task is done: reached, finished, or (an issue) verified. Ends any escalation."""

    task: TaskSnapshot
    completed_on: dt.date
    late: bool
    completed_by: str


class TaskSubmitted(Event, frozen=True, kw_only=True):
    """An issue's holder says it is handled; the level above is to verify it."""

    task: TaskSnapshot
    submitted_by: str


class TaskSentBack(Event, frozen=True, kw_only=True):
    """Verification found an issue not properly handled; it is open again."""

    task: TaskSnapshot
    reason: str
    sent_back_by: str


class TaskEscalated(Event, frozen=True, kw_only=True):
    """Overdue work climbed one level: the new holder supervises it (督办) until the escalation due date."""

    task: TaskSnapshot
    escalation_id: int
    from_code: str
    from_level: str
    to_code: str
    to_level: str
    escalation_due_date: dt.date
    days_overdue: int
    levels_climbed: int  # levels above the owner the task now sits


class TaskCommented(Event, frozen=True, kw_only=True):
    task: TaskSnapshot
    author: str
    text: str


class TaskSupervised(Event, frozen=True, kw_only=True):
    """A supervision order (督办) from a higher level, with a new deadline."""

    task: TaskSnapshot
    supervisor: str
    supervisor_code: str
    note: str
    new_due_date: dt.date


class TaskSummonsRecorded(Event, frozen=True, kw_only=True):
    """A summons (约谈) of the owner's chiefs over this task."""

    task: TaskSnapshot
    recorded_by: str
    summoning_code: str
    held_on: dt.date
    note: str
