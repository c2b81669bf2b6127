"""The integration events of the tasks domain as a task's row gives them (``linzhang.contracts.tasks``)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from linzhang.contracts import TaskCompleted, TaskCreated, TaskSnapshot
from linzhang.deadlines import finished_late
from linzhang.domains.tasks.tables import Task


class TaskFields(Protocol):
    """What a snapshot is made of: a ``Task``, or a row of the task table's :data:`SNAPSHOT_COLUMNS`."""

    id: int
    revision: int
    kind: str
    title: str
    category: str | None
    status: str
    jurisdiction_code: str
    jurisdiction_path: str
    holder_code: str
    holder_path: str
    holder_level: str
    due_date: dt.date
    escalation_due_date: dt.date | None
    parent_id: int | None


SNAPSHOT_COLUMNS = tuple(TaskFields.__annotations__)


def snapshot(task: TaskFields) -> TaskSnapshot:
    return TaskSnapshot(
        task_id=task.id,
        revision=task.revision,
        kind=task.kind,
        title=task.title,
        category=task.category,
        status=task.status,
        jurisdiction_code=task.jurisdiction_code,
        path=task.jurisdiction_path,
        holder_code=task.holder_code,
        holder_path=task.holder_path,
        holder_level=task.holder_level,
        due_date=task.due_date,
        escalation_due_date=task.escalation_due_date,
        parent_id=task.parent_id,
    )


def created_event(task: Task, now: dt.datetime) -> TaskCreated:
    return TaskCreated(
        task=snapshot(task),
        target_quantity=task.target_quantity,
        unit=task.unit,
        plan_key=task.plan_key,
        created_by=task.created_by,
        occurred_at=now,
    )


def completed_event(task: Task, today: dt.date, actor: str, now: dt.datetime) -> TaskCompleted:
    # Judged by the day the owner submitted the work, when it was submitted: the verifier's delay is not theirs.
    finished_on = task.submitted_on or today
    return TaskCompleted(
        task=snapshot(task),
        completed_on=today,
        late=finished_late(task.due_date, finished_on),
        completed_by=actor,
        submitted_on=task.submitted_on,
        occurred_at=now,
    )
