"""What a change to a task writes: the new row, the next revision, the timeline, the closed escalations."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from linzhang.contracts import TaskCompleted, TaskSubmitted
from linzhang.domains.tasks.events import completed_event, snapshot
from linzhang.domains.tasks.model import CheckedTask, TaskKind, TaskState, TaskStatus
from linzhang.domains.tasks.tables import Escalation, Task, TimelineEntry
from linzhang.paths import path_codes
from linzhang.references import JurisdictionRef


def task_row(
    fields: CheckedTask,
    at: JurisdictionRef,
    *,
    actor: str,
    now: dt.datetime,
    parent_id: int | None = None,
    plan_key: str | None = None,
    plan_point: str | None = None,
    cooperating: Sequence[str] = (),
) -> Task:
    """The row of a new open task at a jurisdiction, held there, from its checked fields."""
    codes: list[str | None] = [*path_codes(at.path), None, None, None]
    return Task(
        kind=fields.kind.value,
        status=TaskStatus.OPEN.value,
        revision=1,
        city_code=codes[0],
        district_code=codes[1],
        township_code=codes[2],
        village_code=codes[3],
        next_escalation_on=fields.due_date,
        title=fields.title,
        description=fields.description,
        category=fields.category,
        lead_department=fields.lead_department,
        cooperating_departments=json.dumps(list(cooperating), ensure_ascii=False) if cooperating else None,
        jurisdiction_code=at.code,
        jurisdiction_path=at.path,
        holder_code=at.code,
        holder_path=at.path,
        holder_level=at.level,
        due_date=fields.due_date,
        target_quantity=fields.target_quantity,
        completed_quantity=Decimal(0),
        unit=fields.unit,
        parent_id=parent_id,
        children_count=0,
        plan_key=plan_key,
        plan_point=plan_point,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


def changed(task: Task, now: dt.datetime) -> None:
    """Every change moves the task to its next revision."""
    task.revision += 1
    task.updated_at = now


def close_escalations(session: Session, task: Task, now: dt.datetime) -> None:
    """Completing the task ends its escalation (the projections close it when they hear of it)."""
    session.execute(
        update(Escalation).where(Escalation.task_id == task.id, Escalation.closed_at.is_(None)).values(closed_at=now)
    )


def task_state(task: Task) -> TaskState:
    """What the pure rules of ``model.py`` need to know of a task."""
    return TaskState(
        kind=TaskKind(task.kind),
        status=TaskStatus(task.status),
        target_quantity=task.target_quantity,
        completed_quantity=task.completed_quantity,
        due_date=task.due_date,
        has_children=task.children_count > 0,
        has_level_above=len(path_codes(task.jurisdiction_path)) > 1,
    )


def record_change(session: Session, task: Task, at: dt.datetime, actor: str, action: str, **detail: Any) -> None:
    session.add(
        TimelineEntry(
            task_id=task.id,
            at=at,
            actor=actor,
            action=action,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )


def finish(
    session: Session, task: Task, today: dt.date, now: dt.datetime, actor: str, action: str = "done", **detail: Any
) -> TaskCompleted:
    """The task is done today: its escalation ends, the timeline says so; the event to publish."""
    task.done_on = today
    close_escalations(session, task, now)
    record_change(session, task, now, actor, action, **detail)
    return completed_event(task, today, actor, now)


def submit(session: Session, task: Task, today: dt.date, now: dt.datetime, actor: str, **detail: Any) -> TaskSubmitted:
    """The task awaits 核查 or 验收 from today; the event to publish."""
    task.submitted_on = today
    record_change(session, task, now, actor, "submitted", **detail)
    return TaskSubmitted(task=snapshot(task), submitted_by=actor, occurred_at=now)
