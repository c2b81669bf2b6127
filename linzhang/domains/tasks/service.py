"""Use cases of the tasks domain: create, split, report, complete, verify, roll up, list."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.clock import SHANGHAI, Clock
from linzhang.contracts import (
    TaskCompleted,
    TaskCreated,
    TaskProgressReported,
    TaskRolledUp,
    TaskSentBack,
    TaskSnapshot,
    TaskSplit,
    TaskSubmitted,
)
from linzhang.deadlines import days_overdue, finished_late, is_overdue
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks.escalation_rules import EscalationPolicy, load_policy
from linzhang.domains.tasks.model import (
    SplitPart,
    TaskKind,
    TaskRuleError,
    TaskState,
    TaskStatus,
    UnknownCategory,
    check_complete,
    check_new_task,
    check_progress,
    check_split,
    check_text,
    check_verify,
    excess,
    roll_up,
)
from linzhang.domains.tasks.tables import Escalation, Task, TimelineEntry
from linzhang.errors import Conflict, InvalidInput, not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorDate, CursorId64, CursorText, Page, decode_cursor, page_of
from linzhang.paths import in_subtree, path_codes
from linzhang.references import JurisdictionLookup
from linzhang.settings import config_file, default_config_dir
from linzhang.vocabularies import KINDS, STATUSES, Vocabulary, categories_at
from linzhang.workdays import WorkCalendar

SYSTEM_ACTOR = "system"
NOTE_MAX = 2000


DEFAULT_POLICY = EscalationPolicy({"township": 5, "district": 5, "city": 10}, aging_days=(3, 7, 15, 30))


@dataclass(frozen=True, slots=True)
class TasksContext:
    clock: Clock
    calendar: WorkCalendar
    lookup_jurisdiction: JurisdictionLookup
    policy: EscalationPolicy = DEFAULT_POLICY
    categories: Vocabulary = field(default_factory=lambda: categories_at(default_config_dir()))
    # The deadline of an issue filed from a report (``ProblemReported``) that names none, in working days.
    report_due_workdays: int = 10

    def today(self) -> dt.date:
        return self.clock.now().astimezone(SHANGHAI).date()


@functools.cache
def policy_at(config_dir: Path) -> EscalationPolicy:
    """The escalation policy of a config folder, read once per process."""
    return load_policy(config_file("escalation.toml", config_dir))


@dataclass(frozen=True, slots=True)
class EscalationView:
    from_code: str
    to_code: str
    at: dt.datetime
    from_name: str = ""
    to_name: str = ""


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    title: str
    kind: str
    kind_name: str  # in Chinese, beside the code (vocabulary ``kinds``)
    status: str
    status_name: str  # vocabulary ``statuses``
    category: str | None
    description: str | None
    lead_department: str | None
    cooperating_departments: list[str]
    jurisdiction_code: str
    jurisdiction_name: str
    holder_code: str
    holder_name: str
    holder_level: str
    due_date: dt.date
    escalation_due_date: dt.date | None
    overdue: bool
    days_overdue: int
    # A deadline that falls in, or is counted across, a year the working calendar does not cover.
    provisional: bool
    target_quantity: Decimal | None
    completed_quantity: Decimal
    unit: str | None
    parent_id: int | None
    children_count: int
    plan_key: str | None
    plan_point: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    done_on: dt.date | None
    submitted_on: dt.date | None
    category_name: str | None
    # 超额完成: the figure beyond the target (0 when not beyond).
    excess_quantity: Decimal
    escalations: list[EscalationView] = field(default_factory=list)

    @property
    def over_target(self) -> bool:
        return self.excess_quantity > 0


@dataclass(frozen=True, slots=True)
class TimelineView:
    id: int
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CreateTask:
    title: str
    kind: TaskKind
    jurisdiction_code: str
    due_date: dt.date | None = None
    due_in_workdays: int | None = None
    target_quantity: Decimal | None = None
    unit: str | None = None
    description: str | None = None
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
        target_quantity=task.target_quantity,
        completed_quantity=task.completed_quantity,
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
        excess_quantity=excess(task.target_quantity, task.completed_quantity),
        escalations=[
            replace(e, from_name=named.get(e.from_code, e.from_code), to_name=named.get(e.to_code, e.to_code))
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
        found[row.task_id].append(EscalationView(row.from_code, row.to_code, row.at))
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


def changed(task: Task, now: dt.datetime) -> None:
    """Every change moves the task to its next revision."""
    task.revision += 1
    task.updated_at = now


def close_escalations(session: Session, task: Task, now: dt.datetime) -> None:
    """Completing the task ends its escalation (the projections close it when they hear of it)."""
    session.execute(
        update(Escalation).where(Escalation.task_id == task.id, Escalation.closed_at.is_(None)).values(closed_at=now)
    )


def _state(task: Task) -> TaskState:
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


def _load(session: Session, principal: Principal, task_id: int, action: Action, *, lock: bool) -> Task:
    query = select(Task).where(Task.id == task_id)
    if lock:
        query = query.with_for_update()
    task = session.execute(query).scalar_one_or_none()
    if task is None:
        raise not_found("task")
    authorize(principal, action, task.jurisdiction_path, what="task")
    return task


def new_task(
    *,
    title: str,
    kind: TaskKind,
    status: TaskStatus,
    code: str,
    path: str,
    level: str,
    due_date: dt.date,
    target_quantity: Decimal | None,
    unit: str | None,
    description: str | None,
    category: str | None,
    lead_department: str | None,
    cooperating: Sequence[str],
    parent_id: int | None,
    plan_key: str | None,
    plan_point: str | None,
    actor: str,
    now: dt.datetime,
) -> Task:
    codes: list[str | None] = [*path_codes(path), None, None, None]
    return Task(
        kind=kind.value,
        status=status.value,
        revision=1,
        city_code=codes[0],
        district_code=codes[1],
        township_code=codes[2],
        village_code=codes[3],
        next_escalation_on=due_date,
        title=title,
        description=description,
        category=category,
        lead_department=lead_department,
        cooperating_departments=json.dumps(list(cooperating), ensure_ascii=False) if cooperating else None,
        jurisdiction_code=code,
        jurisdiction_path=path,
        holder_code=code,
        holder_path=path,
        holder_level=level,
        due_date=due_date,
        target_quantity=target_quantity,
        completed_quantity=Decimal(0),
        unit=unit,
        parent_id=parent_id,
        children_count=0,
        plan_key=plan_key,
        plan_point=plan_point,
        created_by=actor,
        created_at=now,
        updated_at=now,
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


def _completed_event(task: Task, today: dt.date, actor: str, now: dt.datetime) -> TaskCompleted:
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


def create_task(session: Session, principal: Principal, ctx: TasksContext, request: CreateTask) -> TaskView:
    """交办: create a task for a jurisdiction in the caller's subtree, due on a date or in N working days."""
    jurisdiction = ctx.lookup_jurisdiction(session, request.jurisdiction_code)
    if jurisdiction is None:
        raise not_found("jurisdiction", field="jurisdiction_code")
    authorize(principal, Action.ASSIGN_WORK, jurisdiction.path, what="jurisdiction", field="jurisdiction_code")
    today = ctx.today()
    if (request.due_date is None) == (request.due_in_workdays is None):
        raise InvalidInput("截止日期与工作日天数须二选一", code="due_date_ambiguous", field="due_date")
    if request.due_in_workdays is not None:
        if not 0 <= request.due_in_workdays <= 1000:
            raise InvalidInput(
                "工作日天数须在0至1000之间", code="due_in_workdays_out_of_range", field="due_in_workdays"
            )
        due_date = ctx.calendar.add_workdays(today, request.due_in_workdays)
    else:
        assert request.due_date is not None
        due_date = request.due_date
    try:
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
    task = new_task(
        title=checked.title,
        kind=checked.kind,
        status=TaskStatus.OPEN,
        code=jurisdiction.code,
        path=jurisdiction.path,
        level=jurisdiction.level,
        due_date=checked.due_date,
        target_quantity=checked.target_quantity,
        unit=checked.unit,
        description=checked.description,
        category=checked.category,
        lead_department=checked.lead_department,
        cooperating=(),
        parent_id=None,
        plan_key=None,
        plan_point=None,
        actor=principal.shown_as,
        now=now,
    )
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
        checked = check_split(_state(task), parts, children, today)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    references = jurisdictions.lookup_many(session, [part.jurisdiction_code for part in checked])
    now = ctx.clock.now()
    created: list[Task] = []
    for part in checked:
        reference = references[part.jurisdiction_code]
        assert part.due_date is not None
        created.append(
            new_task(
                title=task.title,
                kind=TaskKind.TARGET,
                status=TaskStatus.OPEN,
                code=reference.code,
                path=reference.path,
                level=reference.level,
                due_date=part.due_date,
                target_quantity=part.target_quantity,
                unit=task.unit,
                description=task.description,
                category=task.category,
                lead_department=task.lead_department,
                cooperating=json.loads(task.cooperating_departments or "[]"),
                parent_id=task.id,
                plan_key=None,
                plan_point=None,
                actor=principal.shown_as,
                now=now,
            )
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
        outcome = check_progress(_state(task), completed, reason)
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
        task.submitted_on = today
        record_change(session, task, now, principal.shown_as, "submitted", reason="target reached")
        events.append(TaskSubmitted(task=snapshot(task), submitted_by=principal.shown_as, occurred_at=now))
    elif status is TaskStatus.OPEN and was is TaskStatus.SUBMITTED:
        record_change(session, task, now, principal.shown_as, "reopened", reason="below the target after a correction")
    elif status is TaskStatus.DONE:
        # The top level has nobody above to accept its targets: reaching the figure closes them.
        task.done_on = today
        close_escalations(session, task, now)
        record_change(session, task, now, principal.shown_as, "done", reason="target reached")
        events.append(_completed_event(task, today, principal.shown_as, now))
    publish(session, *events)
    return get_task(session, principal, ctx, task_id)


def complete_task(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, note: str | None
) -> TaskView:
    """The holder says the work is finished: done (an order), or submitted for 核查 (an issue) or 验收 (a target)."""
    task = _load(session, principal, task_id, Action.REPORT, lock=True)
    today = ctx.today()
    try:
        status = check_complete(_state(task))
        checked_note = check_text(note or "", "note", NOTE_MAX, required=False)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    now = ctx.clock.now()
    task.status = status.value
    changed(task, now)
    if status is TaskStatus.SUBMITTED:
        task.submitted_on = today
        record_change(session, task, now, principal.shown_as, "submitted", note=checked_note)
        publish(session, TaskSubmitted(task=snapshot(task), submitted_by=principal.shown_as, occurred_at=now))
    else:
        task.done_on = today
        close_escalations(session, task, now)
        record_change(session, task, now, principal.shown_as, "done", note=checked_note)
        publish(session, _completed_event(task, today, principal.shown_as, now))
    return get_task(session, principal, ctx, task_id)


def verify_task(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, accepted: bool, note: str
) -> TaskView:
    """核查 of an issue or 验收 of a target by a level above: accept it (done) or send it back with the reason."""
    task = _load(session, principal, task_id, Action.VERIFY, lock=True)
    today = ctx.today()
    try:
        status, reason = check_verify(_state(task), accepted, note)
    except TaskRuleError as exc:
        raise _invalid(exc) from None
    now = ctx.clock.now()
    task.status = status.value
    changed(task, now)
    action = "accepted" if task.kind == TaskKind.TARGET.value else "verified"
    if status is TaskStatus.DONE:
        task.done_on = today
        close_escalations(session, task, now)
        record_change(session, task, now, principal.shown_as, action, note=reason)
        publish(session, _completed_event(task, today, principal.shown_as, now))
    else:
        assert reason is not None
        record_change(session, task, now, principal.shown_as, "sent_back", reason=reason)
        publish(
            session, TaskSentBack(task=snapshot(task), reason=reason, sent_back_by=principal.shown_as, occurred_at=now)
        )
    return get_task(session, principal, ctx, task_id)


def roll_up_parent(session: Session, ctx: TasksContext, parent_id: int | None) -> None:
    """Recompute a split target from its parts; if it changed, tell the bus (which rolls up the next level).

    The parent row is locked first, so parts reported at the same moment each recount with the other's
    figure; the cost is one level's parts, and the work climbs one level per delivery.
    """
    if parent_id is None:
        return
    parent = session.execute(select(Task).where(Task.id == parent_id).with_for_update()).scalar_one_or_none()
    if parent is None or parent.status == TaskStatus.DONE.value:
        return
    parts = session.execute(select(Task.completed_quantity, Task.status).where(Task.parent_id == parent_id)).all()
    total, status = roll_up([(row.completed_quantity, TaskStatus(row.status)) for row in parts])
    if total == parent.completed_quantity and status.value == parent.status:
        return
    now = ctx.clock.now()
    today = ctx.today()
    parent.completed_quantity = total
    parent.status = status.value
    changed(parent, now)
    if status is TaskStatus.DONE:
        parent.done_on = today
        close_escalations(session, parent, now)
    record_change(session, parent, now, SYSTEM_ACTOR, "rolled_up", completed_quantity=str(total), status=status.value)
    assert parent.target_quantity is not None
    events: list[Any] = [
        TaskRolledUp(
            task=snapshot(parent), completed_quantity=total, target_quantity=parent.target_quantity, occurred_at=now
        )
    ]
    if status is TaskStatus.DONE:
        record_change(session, parent, now, SYSTEM_ACTOR, "done", reason="all parts done")
        events.append(_completed_event(parent, today, SYSTEM_ACTOR, now))
    publish(session, *events)


def get_task(session: Session, principal: Principal, ctx: TasksContext, task_id: int) -> TaskView:
    task = _load(session, principal, task_id, Action.READ, lock=False)
    return views(session, [task], ctx.today(), ctx.categories, calendar=ctx.calendar)[0]


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


def task_timeline(session: Session, principal: Principal, task_id: int) -> list[TimelineView]:
    _load(session, principal, task_id, Action.READ, lock=False)
    entries = session.execute(
        select(TimelineEntry).where(TimelineEntry.task_id == task_id).order_by(TimelineEntry.id)
    ).scalars()
    return [TimelineView(e.id, e.at, e.actor, e.action, json.loads(e.detail)) for e in entries]


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
    by_due_date = False
    if filters.jurisdiction_code is not None:
        jurisdiction = ctx.lookup_jurisdiction(session, filters.jurisdiction_code)
        if jurisdiction is None:
            raise not_found("jurisdiction")
        authorize(principal, Action.READ, jurisdiction.path, what="jurisdiction")
        if filters.subtree:
            query = query.where(in_subtree(Task.jurisdiction_path, jurisdiction.path))
        else:
            query = query.where(Task.jurisdiction_code == jurisdiction.code)
            by_due_date = True
    else:
        query = query.where(in_subtree(Task.jurisdiction_path, subtree_of(principal)))
    if filters.status is not None:
        query = query.where(Task.status == filters.status.value)
    if filters.status is not TaskStatus.DONE and (filters.status is not None or filters.overdue):
        # Spelled as the open-work index's own condition, so the planner may use it with any parameters.
        query = query.where(text("tasks_tasks.status <> 'done'"))
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
    if by_due_date:
        if (after_due := decode_cursor(cursor, tuple[CursorDate, CursorId64])) is not None:
            due, last_id = after_due
            query = query.where(or_(Task.due_date > due, and_(Task.due_date == due, Task.id > last_id)))
        query = query.order_by(Task.due_date, Task.id)
        key: Any = lambda task: [task.due_date.isoformat(), task.id]  # noqa: E731
    else:
        if (after_path := decode_cursor(cursor, tuple[CursorText, CursorId64])) is not None:
            path, last_id = after_path
            query = query.where(
                or_(Task.jurisdiction_path > path, and_(Task.jurisdiction_path == path, Task.id > last_id))
            )
        query = query.order_by(Task.jurisdiction_path, Task.id)
        key = lambda task: [task.jurisdiction_path, task.id]  # noqa: E731
    tasks = list(session.execute(query.limit(limit + 1)).scalars())
    page = page_of(tasks, limit, key)
    return Page(views(session, page.items, today, ctx.categories, calendar=ctx.calendar), page.next)
