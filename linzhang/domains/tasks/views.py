"""How the tasks domain shows a task: the view of a task with its climbs and names, and its timeline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.deadlines import days_overdue, is_overdue
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks.model import TaskStatus, excess
from linzhang.domains.tasks.tables import Escalation, Task, TimelineEntry
from linzhang.quantities import OptionalQuantityOut, QuantityOut, optional_quantity, quantity
from linzhang.vocabularies import KINDS, STATUSES, Vocabulary
from linzhang.workdays import WorkCalendar


class EscalationView(msgspec.Struct, frozen=True):
    """One climb of a task: from which jurisdiction to which, when."""

    from_code: str
    from_name: str
    to_code: str
    to_name: str
    at: dt.datetime


class TaskView(msgspec.Struct, frozen=True):
    """A task as the API and the pages show it (``GET /api/v1/tasks/{id}``)."""

    id: int
    title: str
    kind: str
    kind_name: str  # in Chinese, beside the code (vocabulary ``kinds``)
    status: str
    status_name: str  # vocabulary ``statuses``
    jurisdiction_code: str
    jurisdiction_name: str
    holder_code: str
    holder_name: str
    holder_level: str
    due_date: dt.date
    escalation_due_date: dt.date | None
    overdue: bool
    days_overdue: int
    # A deadline in (or counted across) a year whose holidays nobody entered yet: it may still move.
    provisional: bool
    target_quantity: OptionalQuantityOut
    completed_quantity: QuantityOut
    unit: str | None
    parent_id: int | None
    escalations: list[EscalationView]
    category: str | None
    description: str | None
    lead_department: str | None
    cooperating_departments: list[str]
    children_count: int
    plan_key: str | None
    plan_point: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    done_on: dt.date | None
    submitted_on: dt.date | None
    category_name: str | None
    over_target: bool  # 超额完成
    # The figure beyond the target (0 when not beyond).
    excess_quantity: QuantityOut


class TimelineView(msgspec.Struct, frozen=True):
    """One change to a task: who, what, when."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]


def view(
    task: Task,
    today: dt.date,
    escalations: Sequence[EscalationView] = (),
    categories: Vocabulary | None = None,
    names: Mapping[str, str] | None = None,
    *,
    calendar: WorkCalendar,
) -> TaskView:
    """A task as the API shows it; ``names`` maps jurisdiction codes to names (see :func:`views`)."""
    named = names or {}
    done = task.status == TaskStatus.DONE.value
    return TaskView(
        id=task.id,
        title=task.title,
        kind=task.kind,
        kind_name=KINDS.name_of(task.kind),
        status=task.status,
        status_name=STATUSES.name_of(task.status),
        category=task.category,
        description=task.description,
        lead_department=task.lead_department,
        cooperating_departments=json.loads(task.cooperating_departments or "[]"),
        jurisdiction_code=task.jurisdiction_code,
        jurisdiction_name=named.get(task.jurisdiction_code, task.jurisdiction_code),
        holder_code=task.holder_code,
        holder_name=named.get(task.holder_code, task.holder_code),
        holder_level=task.holder_level,
        due_date=task.due_date,
        escalation_due_date=task.escalation_due_date,
        overdue=is_overdue(task.due_date, today, done=done),
        days_overdue=days_overdue(task.due_date, today, done=done),
        provisional=not done
        and (calendar.is_provisional(task.due_date, today) or calendar.is_provisional(task.escalation_due_date, today)),
        target_quantity=optional_quantity(task.target_quantity),
        completed_quantity=quantity(task.completed_quantity),
        unit=task.unit,
        parent_id=task.parent_id,
        children_count=task.children_count,
        plan_key=task.plan_key,
        plan_point=task.plan_point,
        created_by=task.created_by,
        created_at=task.created_at,
        updated_at=task.updated_at,
        done_on=task.done_on,
        submitted_on=task.submitted_on,
        category_name=None if task.category is None or categories is None else categories.name_of(task.category),
        over_target=excess(task.target_quantity, task.completed_quantity) > 0,
        excess_quantity=quantity(excess(task.target_quantity, task.completed_quantity)),
        escalations=[
            msgspec.structs.replace(
                e, from_name=named.get(e.from_code, e.from_code), to_name=named.get(e.to_code, e.to_code)
            )
            for e in escalations
        ],
    )


def escalations_of(session: Session, task_ids: Sequence[int]) -> dict[int, list[EscalationView]]:
    """The climbs of each task, oldest first."""
    found: dict[int, list[EscalationView]] = {task_id: [] for task_id in task_ids}
    if not task_ids:
        return found
    rows = session.execute(
        select(Escalation.task_id, Escalation.from_code, Escalation.to_code, Escalation.at)
        .where(Escalation.task_id.in_(list(task_ids)))
        .order_by(Escalation.task_id, Escalation.id)
    ).all()
    for row in rows:
        found[row.task_id].append(EscalationView(row.from_code, "", row.to_code, "", row.at))
    return found


def views(
    session: Session,
    tasks: Sequence[Task],
    today: dt.date,
    categories: Vocabulary | None = None,
    *,
    calendar: WorkCalendar,
) -> list[TaskView]:
    """Tasks as the API shows them, with their climbs and names: three queries for any number."""
    climbs = escalations_of(session, [task.id for task in tasks])
    codes = {code for task in tasks for code in (task.jurisdiction_code, task.holder_code)}
    codes.update(code for found in climbs.values() for e in found for code in (e.from_code, e.to_code))
    names = jurisdictions.names(session, sorted(codes))
    return [view(task, today, climbs[task.id], categories, names, calendar=calendar) for task in tasks]


def timeline_view(entry: TimelineEntry) -> TimelineView:
    return TimelineView(entry.id, entry.at, entry.actor, entry.action, json.loads(entry.detail))
