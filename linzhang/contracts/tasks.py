"""Events of the tasks domain. Quantities travel as decimal strings; dates are Asia/Shanghai dates.

Every event carries the task's state after the change (``TaskSnapshot``) with its ``revision``, which
grows by one with every change: a projection keeps the newest revision it has seen and can ignore an
older event that arrives late, whatever order the bus delivers them in.

Fields added after an event's first release have defaults, so a stored event of the same version
still decodes; a change that would break a reader gets a new version instead.
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
    """A leaf's cumulative figure (a repeated report carries the same figure).

    A correction before acceptance (验收) is a report like any other; one that lowers the figure
    carries its ``reason``. Reaching the target puts the task (snapshot status) in ``submitted``.
    """

    task: TaskSnapshot
    completed_quantity: Decimal
    target_quantity: Decimal
    reported_by: str
    previous_quantity: Decimal | None = None  # the figure before this report
    reason: str | None = None  # why the figure was corrected (required when it went down)


class TaskRolledUp(Event, frozen=True, kw_only=True):
    """A split target's figures changed because one of its parts changed."""

    task: TaskSnapshot
    completed_quantity: Decimal
    target_quantity: Decimal


class TaskCompleted(Event, frozen=True, kw_only=True):
    """The task is done: an order finished, an issue verified (核查), a target accepted (验收) or, split,
    all its parts accepted. Ends any escalation. ``completed_on`` is the day it became done; ``late``
    compares with the due date the day the owner submitted the work (``submitted_on``) when it was
    submitted, so a verifier's delay is not the owner's."""

    task: TaskSnapshot
    completed_on: dt.date
    late: bool
    completed_by: str
    submitted_on: dt.date | None = None


class TaskSubmitted(Event, frozen=True, kw_only=True):
    """The owner says the work is finished: the level above is to verify the issue (核查) or accept the
    target (验收). Submitted work waits for its verifier and does not escalate."""

    task: TaskSnapshot
    submitted_by: str


class TaskSentBack(Event, frozen=True, kw_only=True):
    """核查 or 验收 found the work not properly done; it is open again, with the reason."""

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


class TaskSummonsPlanned(Event, frozen=True, kw_only=True):
    """A summons (约谈) of the owner's chiefs is scheduled: it waits in the summoned jurisdiction's inbox."""

    task: TaskSnapshot
    summons_id: int
    planned_by: str
    summoning_code: str
    summoned_code: str
    summoned_path: str
    planned_on: dt.date
    place: str
    attendees: list[str] = msgspec.field(default_factory=list)


class TaskSummonsRecorded(Event, frozen=True, kw_only=True):
    """A summons (约谈) of the owner's chiefs over this task was held; ``note`` is its minutes.

    ``summons_id`` names the planned summons it records (None for one recorded without a plan).
    """

    task: TaskSnapshot
    recorded_by: str
    summoning_code: str
    held_on: dt.date
    note: str
    summons_id: int | None = None
    summoned_code: str | None = None
    place: str | None = None
    attendees: list[str] = msgspec.field(default_factory=list)
