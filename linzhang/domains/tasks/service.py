"""Use cases of the tasks domain: create, split, report, complete, verify, read.

Each authorizes (``identity.scope.authorize``), loads, applies the pure rules of ``model.py``, writes
(``records.py``) and publishes its events (``events.py``) in the caller's transaction. The views are in
``views.py``, the listing in ``listing.py``, the roll-ups in ``rollup.py``, the context in ``context.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.api.schemas import CodeField, OptionalTargetQuantity, limited_text
from linzhang.bus import publish
from linzhang.contracts import TaskProgressReported, TaskSentBack, TaskSplit
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.events import created_event, snapshot
from linzhang.domains.tasks.model import (
    CheckedTask,
    SplitPart,
    TaskKind,
    TaskRuleError,
    TaskStatus,
    UnknownCategory,
    check_complete,
    check_new_task,
    check_progress,
    check_split,
    check_text,
    check_verify,
    due_date_of,
)
from linzhang.domains.tasks.records import changed, finish, record_change, submit, task_row, task_state
from linzhang.domains.tasks.tables import Task, TimelineEntry
from linzhang.domains.tasks.views import TaskView, TimelineView, timeline_view, views
from linzhang.errors import Conflict, InvalidInput, not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.vocabularies import Vocabulary

NOTE_MAX = 2000


class NewTask(msgspec.Struct, forbid_unknown_fields=True):
    """交办 of a new task (``POST /api/v1/tasks``): due on a date or in N working days, one of the two."""

    title: Annotated[str, limited_text(200, "标题")]
    kind: TaskKind
    jurisdiction_code: CodeField
    due_date: dt.date | None = None
    due_in_workdays: int | None = None
    target_quantity: OptionalTargetQuantity = None
    unit: Annotated[str | None, limited_text(20, "单位（如 亩）", required=False)] = None
    description: Annotated[str | None, limited_text(4000, "说明", required=False)] = None
    category: str | None = None
    lead_department: str | None = None


def _invalid(exc: TaskRuleError, categories: Vocabulary | None = None) -> InvalidInput | Conflict:
    if exc.conflict:
        return Conflict(str(exc), code=exc.code)
    extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
    if isinstance(exc, UnknownCategory) and categories is not None:
        allowed = [{"code": term.code, "name": term.name} for term in categories.terms]
        named = "、".join(f"{term.code}（{term.name}）" for term in categories.terms)
        detail = f"类别“{exc.given}”不在类别表中，可选：{named}"
        return InvalidInput(detail, code=exc.code, allowed=allowed, **extra)
    return InvalidInput(str(exc), code=exc.code, **extra)


def _load(session: Session, principal: Principal, task_id: int, action: Action, *, lock: bool) -> Task:
    query = select(Task).where(Task.id == task_id)
    if lock:
        query = query.with_for_update()
    task = session.execute(query).scalar_one_or_none()
    if task is None:
        raise not_found("task")
    authorize(principal, action, task.jurisdiction_path, what="task")
    return task


def create_task(session: Session, principal: Principal, ctx: TasksContext, request: NewTask) -> TaskView:
    """交办: create a task for a jurisdiction in the caller's subtree, due on a date or in N working days."""
    jurisdiction = ctx.lookup_jurisdiction(session, request.jurisdiction_code)
    if jurisdiction is None:
        raise not_found("jurisdiction", field="jurisdiction_code")
    authorize(principal, Action.ASSIGN_WORK, jurisdiction.path, what="jurisdiction", field="jurisdiction_code")
    today = ctx.today()
    try:
        due_date = due_date_of(request.due_date, request.due_in_workdays, today, ctx.calendar.add_workdays)
        checked = check_new_task(
            title=request.title,
            kind=request.kind,
            due_date=due_date,
            today=today,
            target_quantity=request.target_quantity,
            unit=request.unit,
            description=request.description,
            category=request.category,
            lead_department=request.lead_department,
            categories=ctx.categories.codes,
        )
    except TaskRuleError as exc:
        raise _invalid(exc, ctx.categories) from None
    now = ctx.clock.now()
    task = task_row(checked, jurisdiction, actor=principal.shown_as, now=now)
    session.add(task)
    session.flush()
    record_change(session, task, now, principal.shown_as, "created", kind=task.kind, due_date=task.due_date.isoformat())
    publish(session, created_event(task, now))
    return views(session, [task], today, ctx.categories, calendar=ctx.calendar)[0]


def split_task(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, parts: Sequence[SplitPart]
) -> list[TaskView]:
    """层层压实: split a target among the direct children of its jurisdiction, all or nothing."""
    task = _load(session, principal, task_id, Action.ASSIGN_WORK, lock=True)
    today = ctx.today()
    children = jurisdictions.children(session, task.jurisdiction_code)
    try:
        checked = check_split(task_state(task), parts, children, today)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    references = jurisdictions.lookup_many(session, [part.jurisdiction_code for part in checked])
    now = ctx.clock.now()
    created: list[Task] = []
    for part in checked:
        reference = references[part.jurisdiction_code]
        assert part.due_date is not None
        fields = CheckedTask(
            title=task.title,
            kind=TaskKind.TARGET,
            due_date=part.due_date,
            target_quantity=part.target_quantity,
            unit=task.unit,
            description=task.description,
            category=task.category,
            lead_department=task.lead_department,
        )
        cooperating = json.loads(task.cooperating_departments or "[]")
        created.append(
            task_row(fields, reference, actor=principal.shown_as, now=now, parent_id=task.id, cooperating=cooperating)
        )
    session.add_all(created)
    task.children_count = len(created)
    changed(task, now)
    session.flush()
    record_change(
        session,
        task,
        now,
        principal.shown_as,
        "split",
        parts=[
            {"task_id": c.id, "jurisdiction_code": c.jurisdiction_code, "target_quantity": str(c.target_quantity)}
            for c in created
        ],
    )
    for child in created:
        record_change(session, child, now, principal.shown_as, "created", split_from=task.id)
    publish(
        session,
        TaskSplit(task=snapshot(task), child_ids=[c.id for c in created], occurred_at=now),
        *(created_event(child, now) for child in created),
    )
    return views(session, created, today, ctx.categories, calendar=ctx.calendar)


def report_progress(
    session: Session,
    principal: Principal,
    ctx: TasksContext,
    task_id: int,
    completed: Decimal,
    note: str | None,
    reason: str | None = None,
) -> TaskView:
    """A leaf target's cumulative figure, reported by the jurisdiction that holds it; a repeat changes nothing.

    Reaching the target submits it for acceptance (验收) by the level above. Until then the owner may
    correct the figure; a lower figure needs a ``reason`` and is on the timeline and rolls up like any
    report, and one below the target opens the target again.
    """
    task = _load(session, principal, task_id, Action.REPORT, lock=True)
    today = ctx.today()
    try:
        outcome = check_progress(task_state(task), completed, reason)
        checked_note = check_text(note or "", "note", NOTE_MAX, required=False)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    quantity, status = outcome.quantity, outcome.status
    if quantity == task.completed_quantity and status.value == task.status:
        return get_task(session, principal, ctx, task_id)  # a retried report
    now = ctx.clock.now()
    previous = task.completed_quantity
    was = TaskStatus(task.status)
    task.completed_quantity = quantity
    task.status = status.value
    changed(task, now)
    record_change(
        session,
        task,
        now,
        principal.shown_as,
        "corrected" if outcome.lowered else "progress",
        completed_quantity=str(quantity),
        previous=str(previous),
        note=checked_note,
        **({"reason": outcome.reason} if outcome.reason else {}),
    )
    assert task.target_quantity is not None
    events: list[Any] = [
        TaskProgressReported(
            task=snapshot(task),
            completed_quantity=quantity,
            target_quantity=task.target_quantity,
            reported_by=principal.shown_as,
            previous_quantity=previous,
            reason=outcome.reason,
            occurred_at=now,
        )
    ]
    if status is TaskStatus.SUBMITTED and was is not TaskStatus.SUBMITTED:
        events.append(submit(session, task, today, now, principal.shown_as, reason="target reached"))
    elif status is TaskStatus.OPEN and was is TaskStatus.SUBMITTED:
        record_change(session, task, now, principal.shown_as, "reopened", reason="below the target after a correction")
    elif status is TaskStatus.DONE:
        # The top level has nobody above to accept its targets: reaching the figure closes them.
        events.append(finish(session, task, today, now, principal.shown_as, reason="target reached"))
    publish(session, *events)
    return get_task(session, principal, ctx, task_id)


def complete_task(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, note: str | None
) -> TaskView:
    """The holder says the work is finished: done (an order), or submitted for 核查 (an issue) or 验收 (a target)."""
    task = _load(session, principal, task_id, Action.REPORT, lock=True)
    today = ctx.today()
    try:
        status = check_complete(task_state(task))
        checked_note = check_text(note or "", "note", NOTE_MAX, required=False)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    now = ctx.clock.now()
    task.status = status.value
    changed(task, now)
    if status is TaskStatus.SUBMITTED:
        publish(session, submit(session, task, today, now, principal.shown_as, note=checked_note))
    else:
        publish(session, finish(session, task, today, now, principal.shown_as, note=checked_note))
    return get_task(session, principal, ctx, task_id)


def verify_task(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, accepted: bool, note: str
) -> TaskView:
    """核查 of an issue or 验收 of a target by a level above: accept it (done) or send it back with the reason."""
    task = _load(session, principal, task_id, Action.VERIFY, lock=True)
    today = ctx.today()
    try:
        status, reason = check_verify(task_state(task), accepted, note)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    now = ctx.clock.now()
    task.status = status.value
    changed(task, now)
    action = "accepted" if task.kind == TaskKind.TARGET.value else "verified"
    if status is TaskStatus.DONE:
        publish(session, finish(session, task, today, now, principal.shown_as, action, note=reason))
    else:
        assert reason is not None
        record_change(session, task, now, principal.shown_as, "sent_back", reason=reason)
        publish(
            session, TaskSentBack(task=snapshot(task), reason=reason, sent_back_by=principal.shown_as, occurred_at=now)
        )
    return get_task(session, principal, ctx, task_id)


def get_task(session: Session, principal: Principal, ctx: TasksContext, task_id: int) -> TaskView:
    task = _load(session, principal, task_id, Action.READ, lock=False)
    return views(session, [task], ctx.today(), ctx.categories, calendar=ctx.calendar)[0]


def task_timeline(session: Session, principal: Principal, task_id: int) -> list[TimelineView]:
    _load(session, principal, task_id, Action.READ, lock=False)
    entries = session.execute(
        select(TimelineEntry).where(TimelineEntry.task_id == task_id).order_by(TimelineEntry.id)
    ).scalars()
    return [timeline_view(entry) for entry in entries]
