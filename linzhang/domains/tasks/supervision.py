"""What higher levels do with escalated work: the board, comments, supervision orders (督办), summons (约谈)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.contracts import TaskCommented, TaskSummonsRecorded, TaskSupervised
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks.escalation_rules import LEVELS, days_overdue
from linzhang.domains.tasks.model import TEXT_MAX, TaskRuleError, TaskStatus, check_due_date, check_text
from linzhang.domains.tasks.service import (
    TasksContext,
    TaskView,
    changed,
    escalations_of,
    get_task,
    record_change,
    snapshot,
)
from linzhang.domains.tasks.tables import Task
from linzhang.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorDate, CursorId64, decode_cursor, encode_cursor
from linzhang.paths import in_subtree, path_codes


@dataclass(frozen=True, slots=True)
class Count:
    code: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class BoardItem:
    task_id: int
    title: str
    kind: str
    category: str | None
    status: str
    origin_code: str
    holder_code: str
    holder_level: str
    due_date: dt.date
    escalation_due_date: dt.date | None
    days_overdue: int
    path: list[str]
    climb: list[str]


@dataclass(frozen=True, slots=True)
class Board:
    as_of: dt.date
    level: str
    total: int
    by_district: list[Count]
    by_category: list[Count]
    aging: list[Count]
    items: list[BoardItem]
    next: str | None


def _level_of(path: str) -> str:
    return LEVELS[len(path_codes(path)) - 1]


def escalation_board(
    session: Session, principal: Principal, ctx: TasksContext, level: str, cursor: str | None, limit: int
) -> Board:
    """Everything held at ``level`` through escalation, within the caller's subtree.

    The city's office and chiefs see the city board; a district sees what is held at its own level.
    """
    if level not in LEVELS[:-1]:
        raise InvalidInput("level is city, district or township", field="level")
    if not principal.is_admin and LEVELS.index(level) < LEVELS.index(_level_of(principal.path)):
        raise PermissionDenied(f"the {level} board is for the {level} level and above it")
    authorize(principal, Action.READ, subtree_of(principal), what="board")
    today = ctx.today()
    held = and_(
        Task.status != TaskStatus.DONE.value,
        Task.holder_level == level,
        Task.holder_code != Task.jurisdiction_code,
        in_subtree(Task.holder_path, subtree_of(principal)),
    )
    total = session.execute(select(func.count()).where(held)).scalar_one()
    districts = session.execute(
        select(Task.district_code, func.count()).where(held).group_by(Task.district_code).order_by(func.count().desc())
    ).all()
    names = jurisdictions.lookup_many(session, [code for code, _ in districts if code])
    categories = session.execute(
        select(Task.category, func.count()).where(held).group_by(Task.category).order_by(func.count().desc())
    ).all()
    bounds = list(ctx.policy.aging_days)
    bucket = case(
        *((Task.due_date >= today - dt.timedelta(days=upper), literal(index)) for index, upper in enumerate(bounds)),
        else_=literal(len(bounds)),
    )
    aging_rows: dict[int, int] = {
        int(index): int(count)
        for index, count in session.execute(select(bucket, func.count()).where(held).group_by(bucket))
    }
    labels = ctx.policy.buckets()
    query = select(Task).where(held)
    after = decode_cursor(cursor, tuple[CursorDate, CursorId64])
    if after is not None:
        due, last_id = after
        query = query.where(or_(Task.due_date > due, and_(Task.due_date == due, Task.id > last_id)))
    tasks = list(session.execute(query.order_by(Task.due_date, Task.id).limit(limit + 1)).scalars())
    more = len(tasks) > limit
    tasks = tasks[:limit]
    climbs = escalations_of(session, [task.id for task in tasks])
    items = [
        BoardItem(
            task_id=task.id,
            title=task.title,
            kind=task.kind,
            category=task.category,
            status=task.status,
            origin_code=task.jurisdiction_code,
            holder_code=task.holder_code,
            holder_level=task.holder_level,
            due_date=task.due_date,
            escalation_due_date=task.escalation_due_date,
            days_overdue=days_overdue(task.due_date, today),
            path=path_codes(task.jurisdiction_path),
            climb=[task.jurisdiction_code, *(climb.to_code for climb in climbs[task.id])],
        )
        for task in tasks
    ]
    return Board(
        as_of=today,
        level=level,
        total=total,
        by_district=[Count(code or "", names[code].name if code in names else "", count) for code, count in districts],
        by_category=[Count(category or "", category or "", count) for category, count in categories],
        aging=[Count(label, label, aging_rows.get(index, 0)) for index, label in enumerate(labels)],
        items=items,
        next=encode_cursor([tasks[-1].due_date.isoformat(), tasks[-1].id]) if more else None,
    )


def _load_open(session: Session, principal: Principal, task_id: int) -> Task:
    task = session.execute(select(Task).where(Task.id == task_id).with_for_update()).scalar_one_or_none()
    if task is None:
        raise NotFound(f"no task {task_id}")
    authorize(principal, Action.SUPERVISE, task.jurisdiction_path, what=f"task {task_id}")
    if task.status == TaskStatus.DONE.value:
        raise Conflict(f"task {task_id} is done")
    return task


def _text(value: str, field: str) -> str:
    try:
        checked = check_text(value, field, TEXT_MAX, required=True)
    except TaskRuleError as exc:
        raise InvalidInput(str(exc), field=field) from None
    assert checked is not None
    return checked


def comment(session: Session, principal: Principal, ctx: TasksContext, task_id: int, text: str) -> TaskView:
    """A higher level's comment on work below it."""
    task = _load_open(session, principal, task_id)
    body = _text(text, "text")
    now = ctx.clock.now()
    changed(task, now)
    record_change(session, task, now, principal.shown_as, "commented", text=body)
    publish(session, TaskCommented(task=snapshot(task), author=principal.shown_as, text=body, occurred_at=now))
    return get_task(session, principal, ctx, task_id)


def supervise(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, note: str, new_due_date: dt.date
) -> TaskView:
    """督办: a supervision order from above with a new deadline; past it, the work climbs again."""
    task = _load_open(session, principal, task_id)
    body = _text(note, "note")
    try:
        deadline = check_due_date(new_due_date, ctx.today(), "new_due_date")
    except TaskRuleError as exc:
        raise InvalidInput(str(exc), field="new_due_date") from None
    now = ctx.clock.now()
    task.escalation_due_date = deadline
    task.next_escalation_on = deadline
    changed(task, now)
    record_change(session, task, now, principal.shown_as, "supervised", note=body, new_due_date=deadline.isoformat())
    publish(
        session,
        TaskSupervised(
            task=snapshot(task),
            supervisor=principal.shown_as,
            supervisor_code=principal.jurisdiction_code or "",
            note=body,
            new_due_date=deadline,
            occurred_at=now,
        ),
    )
    return get_task(session, principal, ctx, task_id)


def record_summons(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, held_on: dt.date, note: str
) -> TaskView:
    """约谈: the record of a summons of the owner's chiefs over this work (held today or earlier)."""
    task = _load_open(session, principal, task_id)
    body = _text(note, "note")
    today = ctx.today()
    if held_on > today:
        raise InvalidInput("a summons is recorded once held: held_on is today or earlier", field="held_on")
    if held_on < task.created_at.date() - dt.timedelta(days=1):
        raise InvalidInput("held_on is before the task existed", field="held_on")
    now = ctx.clock.now()
    changed(task, now)
    record_change(session, task, now, principal.shown_as, "summons", held_on=held_on.isoformat(), note=body)
    publish(
        session,
        TaskSummonsRecorded(
            task=snapshot(task),
            recorded_by=principal.shown_as,
            summoning_code=principal.jurisdiction_code or "",
            held_on=held_on,
            note=body,
            occurred_at=now,
        ),
    )
    return get_task(session, principal, ctx, task_id)
