"""Listing tasks: the filters, the two orders a listing comes in, and reading several tasks at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.model import TaskKind, TaskStatus
from linzhang.domains.tasks.tables import Task
from linzhang.domains.tasks.views import TaskView, views
from linzhang.errors import not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorDate, CursorId64, CursorText, Keyset, Page
from linzhang.paths import in_subtree

# One jurisdiction's own tasks, most urgent first; a subtree in path order, which its index serves.
BY_DUE_DATE = Keyset(
    (Task.due_date, Task.id), tuple[CursorDate, CursorId64], lambda task: [task.due_date.isoformat(), task.id]
)
BY_PATH = Keyset(
    (Task.jurisdiction_path, Task.id), tuple[CursorText, CursorId64], lambda task: [task.jurisdiction_path, task.id]
)


def open_work() -> ColumnElement[bool]:
    """Not done, spelled as the open-work index's own condition (the value inline, not a parameter), so
    the planner may use that partial index whatever the other parameters are."""
    return Task.status != literal(TaskStatus.DONE.value, literal_execute=True)


@dataclass(frozen=True, slots=True)
class TaskFilter:
    jurisdiction_code: str | None = None
    subtree: bool = False
    status: TaskStatus | None = None
    kind: TaskKind | None = None
    overdue: bool | None = None
    parent_id: int | None = None
    plan_key: str | None = None


def list_tasks(
    session: Session, principal: Principal, ctx: TasksContext, filters: TaskFilter, cursor: str | None, limit: int
) -> Page[TaskView]:
    """Tasks the principal may see. One jurisdiction's own tasks come most urgent first (due date);
    a subtree comes in path order, which its index serves without sorting."""
    today = ctx.today()
    query = select(Task)
    order: Keyset[Any] = BY_PATH
    if filters.jurisdiction_code is not None:
        jurisdiction = ctx.lookup_jurisdiction(session, filters.jurisdiction_code)
        if jurisdiction is None:
            raise not_found("jurisdiction")
        authorize(principal, Action.READ, jurisdiction.path, what="jurisdiction")
        if filters.subtree:
            query = query.where(in_subtree(Task.jurisdiction_path, jurisdiction.path))
        else:
            query = query.where(Task.jurisdiction_code == jurisdiction.code)
            order = BY_DUE_DATE
    else:
        query = query.where(in_subtree(Task.jurisdiction_path, subtree_of(principal)))
    if filters.status is not None:
        query = query.where(Task.status == filters.status.value)
    if filters.status is not TaskStatus.DONE and (filters.status is not None or filters.overdue):
        query = query.where(open_work())
    if filters.kind is not None:
        query = query.where(Task.kind == filters.kind.value)
    if filters.parent_id is not None:
        query = query.where(Task.parent_id == filters.parent_id)
    if filters.plan_key is not None:
        query = query.where(Task.plan_key == filters.plan_key)
    if filters.overdue is True:
        query = query.where(Task.status != TaskStatus.DONE.value, Task.due_date < today)
    elif filters.overdue is False:
        query = query.where(or_(Task.status == TaskStatus.DONE.value, Task.due_date >= today))
    page = order.page(session, query, cursor, limit, scalars=True)
    return Page(views(session, page.items, today, ctx.categories, calendar=ctx.calendar), page.next)


def get_tasks(
    session: Session, principal: Principal, ctx: TasksContext, task_ids: Sequence[int]
) -> dict[int, TaskView]:
    """The tasks among ``task_ids`` the principal may read, by id (others are left out, as if missing)."""
    if not task_ids:
        return {}
    tasks = session.execute(
        select(Task).where(Task.id.in_(set(task_ids)), in_subtree(Task.jurisdiction_path, subtree_of(principal)))
    ).scalars()
    return {view.id: view for view in views(session, list(tasks), ctx.today(), ctx.categories, calendar=ctx.calendar)}
