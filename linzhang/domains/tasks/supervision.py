"""What higher levels do with escalated work: the board, comments, supervision orders (督办), summons (约谈)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

import msgspec
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.clock import SHANGHAI
from linzhang.contracts import TaskCommented, TaskSummonsPlanned, TaskSummonsRecorded, TaskSupervised
from linzhang.deadlines import days_overdue
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.events import snapshot
from linzhang.domains.tasks.listing import BY_DUE_DATE
from linzhang.domains.tasks.model import (
    PLACE_MAX,
    TEXT_MAX,
    TaskRuleError,
    TaskStatus,
    check_summons_held,
    check_summons_plan,
    check_supervision,
    check_text,
)
from linzhang.domains.tasks.records import changed, record_change
from linzhang.domains.tasks.service import get_task
from linzhang.domains.tasks.tables import Escalation, Summons, Task
from linzhang.domains.tasks.views import TaskView, escalations_of
from linzhang.errors import Conflict, InvalidInput, NotFound, not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.paths import in_subtree, path_codes
from linzhang.vocabularies import KINDS, STATUSES
from linzhang.vocabularies import LEVEL_CODES as LEVELS


class Count(msgspec.Struct, frozen=True):
    code: str
    name: str
    count: int


class BoardItem(msgspec.Struct, frozen=True):
    task_id: int
    title: str
    kind: str
    kind_name: str
    category: str | None
    category_name: str | None
    status: str
    status_name: str
    origin_code: str
    origin_name: str
    holder_code: str
    holder_name: str
    holder_level: str
    due_date: dt.date
    escalation_due_date: dt.date | None
    days_overdue: int
    path: list[str]
    path_names: list[str]
    climb: list[str]
    climb_names: list[str]


class Board(msgspec.Struct, frozen=True):
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
    session: Session,
    principal: Principal,
    ctx: TasksContext,
    level: str,
    cursor: str | None,
    limit: int,
    district_code: str | None = None,
) -> Board:
    """Everything held at ``level`` through escalation, within the caller's subtree.

    The city's office and chiefs see the city board; a district sees what is held at its own level.
    With ``district_code``, only the work owned within that district (a click on a district's bar).
    """
    if level not in LEVELS[:-1]:
        raise InvalidInput(
            "层级须为 city（市）、district（区县）或 township（乡镇街道）", code="level_invalid", field="level"
        )
    authorize(principal, Action.READ_BOARD, subtree_of(principal), what="board", level_depth=LEVELS.index(level) + 1)
    today = ctx.today()
    held = and_(
        Task.status != TaskStatus.DONE.value,
        Task.holder_level == level,
        Task.holder_code != Task.jurisdiction_code,
        in_subtree(Task.holder_path, subtree_of(principal)),
    )
    if district_code is not None:
        _check_district(session, principal, district_code)
        held = and_(held, Task.district_code == district_code)
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
    page = BY_DUE_DATE.page(session, select(Task).where(held), cursor, limit, scalars=True)
    tasks: list[Task] = page.items
    climbs = escalations_of(session, [task.id for task in tasks])
    paths = {task.id: path_codes(task.jurisdiction_path) for task in tasks}
    ladders = {task.id: [task.jurisdiction_code, *(climb.to_code for climb in climbs[task.id])] for task in tasks}
    # One query names every jurisdiction on the page: paths, climbs and holders.
    named = jurisdictions.names(
        session,
        sorted(
            {code for codes in (*paths.values(), *ladders.values()) for code in codes} | {t.holder_code for t in tasks}
        ),
    )
    items = [
        BoardItem(
            task_id=task.id,
            title=task.title,
            kind=task.kind,
            kind_name=KINDS.name_of(task.kind),
            category=task.category,
            category_name=_category_name(ctx, task.category),
            status=task.status,
            status_name=STATUSES.name_of(task.status),
            origin_code=task.jurisdiction_code,
            origin_name=named.get(task.jurisdiction_code, task.jurisdiction_code),
            holder_code=task.holder_code,
            holder_name=named.get(task.holder_code, task.holder_code),
            holder_level=task.holder_level,
            due_date=task.due_date,
            escalation_due_date=task.escalation_due_date,
            days_overdue=days_overdue(task.due_date, today, done=task.status == TaskStatus.DONE.value),
            path=paths[task.id],
            path_names=[named.get(code, code) for code in paths[task.id]],
            climb=ladders[task.id],
            climb_names=[named.get(code, code) for code in ladders[task.id]],
        )
        for task in tasks
    ]
    return Board(
        as_of=today,
        level=level,
        total=total,
        by_district=[Count(code or "", names[code].name if code in names else "", count) for code, count in districts],
        by_category=[
            Count(category or "", _category_name(ctx, category) or "", count) for category, count in categories
        ],
        aging=[Count(label, label, aging_rows.get(index, 0)) for index, label in enumerate(labels)],
        items=items,
        next=page.next,
    )


def _category_name(ctx: TasksContext, category: str | None) -> str | None:
    """A category's Chinese name (config/categories.toml); a code the vocabulary lacks stays as it is."""
    return None if category is None else ctx.categories.name_of(category)


def _check_district(session: Session, principal: Principal, code: str) -> None:
    district = jurisdictions.lookup(session, code)
    if district is None or district.level != "district":
        raise not_found("jurisdiction")
    authorize(principal, Action.READ, district.path, what="jurisdiction")


class WeekCount(msgspec.Struct, frozen=True):
    week_start: dt.date  # a Monday
    count: int


def escalations_per_week(
    session: Session, principal: Principal, ctx: TasksContext, level: str, year: int, district_code: str | None = None
) -> list[WeekCount]:
    """How many climbs reached ``level`` in each week of ``year`` (Asia/Shanghai), within the caller's subtree.

    Every week of the year is listed, empty ones with 0, up to the current week in the current year.
    """
    if level not in LEVELS[:-1]:
        raise InvalidInput("层级须为 city、district 或 township", code="invalid_level", field="level")
    authorize(principal, Action.READ, subtree_of(principal), what="board")
    start = dt.datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    query = select(Escalation.at).where(
        Escalation.to_level == level,
        in_subtree(Escalation.to_path, subtree_of(principal)),
        Escalation.at >= start,
        Escalation.at < end,
    )
    if district_code is not None:
        _check_district(session, principal, district_code)
        query = query.join(Task, Task.id == Escalation.task_id).where(Task.district_code == district_code)
    counts: Counter[dt.date] = Counter()
    for (at,) in session.execute(query):
        day = at.astimezone(SHANGHAI).date()
        counts[day - dt.timedelta(days=day.weekday())] += 1
    first = dt.date(year, 1, 1)
    week = first - dt.timedelta(days=first.weekday())
    last = min(dt.date(year, 12, 31), ctx.today()) if year == ctx.today().year else dt.date(year, 12, 31)
    weeks = []
    while week <= last:
        weeks.append(WeekCount(week, counts.get(week, 0)))
        week += dt.timedelta(days=7)
    return weeks


def _load_open(
    session: Session, principal: Principal, task_id: int, action: Action = Action.OVERSEE, *, allow_done: bool = False
) -> Task:
    task = session.execute(select(Task).where(Task.id == task_id).with_for_update()).scalar_one_or_none()
    if task is None:
        raise not_found("task")
    authorize(principal, action, task.jurisdiction_path, what="task", holder_path=task.holder_path)
    if task.status == TaskStatus.DONE.value and not allow_done:
        raise Conflict("任务已完成", code="task_done")
    return task


def _text(value: str, field: str) -> str:
    try:
        checked = check_text(value, field, TEXT_MAX, required=True)
    except TaskRuleError as exc:
        raise InvalidInput(str(exc), code=exc.code, field=field) from None
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
    """督办: the holder of escalated work, or a level above it, sets a new deadline; past it, the work climbs again.

    The deadline is a working day, not in the past, at most ``supervision_max_workdays`` working days
    ahead (config/escalation.toml). The work stays with its holder: supervision never moves it down.
    """
    task = _load_open(session, principal, task_id, Action.SUPERVISE)
    body = _text(note, "note")
    today = ctx.today()
    try:
        deadline = check_supervision(
            status=TaskStatus(task.status),
            owner_level=_level_of(task.jurisdiction_path),
            holder_level=task.holder_level,
            new_due_date=new_due_date,
            today=today,
            latest=ctx.calendar.add_workdays(today, ctx.policy.supervision_max_workdays),
            is_workday=ctx.calendar.is_workday,
        )
    except TaskRuleError as exc:
        if exc.conflict:
            raise Conflict(str(exc), code=exc.code) from None
        raise InvalidInput(str(exc), code=exc.code, field="new_due_date") from None
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


@dataclass(frozen=True, slots=True)
class SummonsRequest:
    """约谈: planned (``planned_on``, ``place``, ``attendees``) or recorded as held (``held_on``, ``minutes``)."""

    planned_on: dt.date | None = None
    held_on: dt.date | None = None
    place: str | None = None
    attendees: tuple[str, ...] = ()
    minutes: str | None = None


class SummonsView(msgspec.Struct, frozen=True):
    id: int
    task_id: int
    status: str  # planned | held
    summoning_code: str
    summoning_name: str
    summoned_code: str
    summoned_name: str
    planned_on: dt.date | None
    held_on: dt.date | None
    place: str | None
    attendees: list[str]
    minutes: str | None
    created_by: str
    created_at: dt.datetime


def _summons_view(session: Session, summons: Summons) -> SummonsView:
    names = jurisdictions.lookup_many(session, [summons.summoning_code, summons.summoned_code])
    return SummonsView(
        id=summons.id,
        task_id=summons.task_id,
        status=summons.status,
        summoning_code=summons.summoning_code,
        summoning_name=names[summons.summoning_code].name if summons.summoning_code in names else "",
        summoned_code=summons.summoned_code,
        summoned_name=names[summons.summoned_code].name if summons.summoned_code in names else "",
        planned_on=summons.planned_on,
        held_on=summons.held_on,
        place=summons.place,
        attendees=json.loads(summons.attendees or "[]"),
        minutes=summons.minutes,
        created_by=summons.created_by,
        created_at=summons.created_at,
    )


def _rule(exc: TaskRuleError) -> InvalidInput | Conflict:
    if exc.conflict:
        return Conflict(str(exc), code=exc.code)
    return InvalidInput(str(exc), code=exc.code, **({"field": exc.field} if exc.field else {}))


def _summoning_code(principal: Principal, task: Task) -> str:
    """Who summons: the caller's jurisdiction (an administrator acts for the level above the owner)."""
    if principal.jurisdiction_code:
        return principal.jurisdiction_code
    codes = path_codes(task.jurisdiction_path)
    return codes[-2] if len(codes) > 1 else codes[-1]


def summon(
    session: Session, principal: Principal, ctx: TasksContext, task_id: int, request: SummonsRequest
) -> SummonsView:
    """约谈 of the owner's chiefs by a level above: scheduled ahead, or recorded once held.

    A planned summons waits in the summoned jurisdiction's inbox until it is recorded as held
    (:func:`record_summons_held`); a task has one planned summons at a time.
    """
    task = _load_open(session, principal, task_id)
    today = ctx.today()
    now = ctx.clock.now()
    if request.planned_on is None and request.held_on is None:
        raise InvalidInput(
            "约谈须填写安排日期（planned_on）或举行日期（held_on）", code="date_required", field="planned_on"
        )
    summoning_code = _summoning_code(principal, task)
    if request.held_on is not None:
        try:
            held_on, minutes, attendees = check_summons_held(
                held_on=request.held_on,
                today=today,
                earliest=_earliest(task),
                minutes=request.minutes,
                attendees=request.attendees,
            )
            place = check_text(request.place or "", "place", PLACE_MAX, required=False)
        except TaskRuleError as exc:
            raise _rule(exc) from None
        summons = _new_summons(task, principal, summoning_code, now, status="held", attendees=attendees)
        summons.planned_on, summons.held_on, summons.place, summons.minutes = (
            request.planned_on,
            held_on,
            place,
            minutes,
        )
        session.add(summons)
        session.flush()
        _publish_held(session, principal, task, summons, now)
        return _summons_view(session, summons)
    assert request.planned_on is not None
    try:
        plan = check_summons_plan(
            planned_on=request.planned_on, today=today, place=request.place, attendees=request.attendees
        )
    except TaskRuleError as exc:
        raise _rule(exc) from None
    pending = session.execute(
        select(Summons.id).where(Summons.task_id == task.id, Summons.status == "planned")
    ).scalar_one_or_none()
    if pending is not None:
        raise Conflict(
            f"该任务已安排约谈（编号 {pending}），请先登记其举行情况",
            code="summons_already_planned",
            summons_id=pending,
        )
    summons = _new_summons(task, principal, summoning_code, now, status="planned", attendees=plan.attendees)
    summons.planned_on, summons.place = plan.planned_on, plan.place
    session.add(summons)
    session.flush()
    changed(task, now)
    record_change(
        session,
        task,
        now,
        principal.shown_as,
        "summons_planned",
        summons_id=summons.id,
        planned_on=plan.planned_on.isoformat(),
        place=plan.place,
        attendees=list(plan.attendees),
    )
    publish(
        session,
        TaskSummonsPlanned(
            task=snapshot(task),
            summons_id=summons.id,
            planned_by=principal.shown_as,
            summoning_code=summoning_code,
            summoned_code=summons.summoned_code,
            summoned_path=summons.summoned_path,
            planned_on=plan.planned_on,
            place=plan.place,
            attendees=list(plan.attendees),
            occurred_at=now,
        ),
    )
    return _summons_view(session, summons)


def record_summons_held(
    session: Session,
    principal: Principal,
    ctx: TasksContext,
    task_id: int,
    summons_id: int,
    held_on: dt.date,
    minutes: str,
    attendees: tuple[str, ...] | None = None,
) -> SummonsView:
    """Record that a planned 约谈 was held, with its minutes: it leaves the summoned jurisdiction's inbox."""
    task = _load_open(session, principal, task_id, allow_done=True)
    summons = session.execute(
        select(Summons).where(Summons.id == summons_id, Summons.task_id == task.id).with_for_update()
    ).scalar_one_or_none()
    if summons is None:
        raise NotFound(f"任务 {task_id} 没有编号为 {summons_id} 的约谈", code="summons_not_found")
    if summons.status == "held":
        raise Conflict(f"约谈 {summons_id} 已于 {summons.held_on} 登记举行", code="summons_already_held")
    try:
        checked_on, checked_minutes, checked_attendees = check_summons_held(
            held_on=held_on,
            today=ctx.today(),
            earliest=_earliest(task),
            minutes=minutes,
            attendees=attendees if attendees is not None else json.loads(summons.attendees or "[]"),
        )
    except TaskRuleError as exc:
        raise _rule(exc) from None
    now = ctx.clock.now()
    summons.status = "held"
    summons.held_on = checked_on
    summons.minutes = checked_minutes
    summons.attendees = json.dumps(list(checked_attendees), ensure_ascii=False)
    summons.updated_at = now
    _publish_held(session, principal, task, summons, now)
    return _summons_view(session, summons)


def list_summonses(session: Session, principal: Principal, task_id: int) -> list[SummonsView]:
    """The summonses over a task, planned and held, oldest first."""
    task = session.get(Task, task_id)
    if task is None:
        raise not_found("task")
    authorize(principal, Action.READ, task.jurisdiction_path, what="task")
    rows = session.execute(select(Summons).where(Summons.task_id == task_id).order_by(Summons.id)).scalars()
    return [_summons_view(session, summons) for summons in rows]


def _earliest(task: Task) -> dt.date:
    return task.created_at.date() - dt.timedelta(days=1)


def _new_summons(
    task: Task, principal: Principal, summoning_code: str, now: dt.datetime, *, status: str, attendees: tuple[str, ...]
) -> Summons:
    return Summons(
        task_id=task.id,
        status=status,
        summoning_code=summoning_code,
        summoned_code=task.jurisdiction_code,
        summoned_path=task.jurisdiction_path,
        attendees=json.dumps(list(attendees), ensure_ascii=False),
        created_by=principal.shown_as,
        created_at=now,
        updated_at=now,
    )


def _publish_held(session: Session, principal: Principal, task: Task, summons: Summons, now: dt.datetime) -> None:
    assert summons.held_on is not None
    assert summons.minutes is not None
    attendees = json.loads(summons.attendees or "[]")
    changed(task, now)
    record_change(
        session,
        task,
        now,
        principal.shown_as,
        "summons",
        summons_id=summons.id,
        held_on=summons.held_on.isoformat(),
        note=summons.minutes,
        place=summons.place,
        attendees=attendees,
    )
    publish(
        session,
        TaskSummonsRecorded(
            task=snapshot(task),
            recorded_by=principal.shown_as,
            summoning_code=summons.summoning_code,
            held_on=summons.held_on,
            note=summons.minutes,
            summons_id=summons.id,
            summoned_code=summons.summoned_code,
            place=summons.place,
            attendees=attendees,
            occurred_at=now,
        ),
    )
