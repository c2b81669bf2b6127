"""REST endpoints of the tasks domain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from linzhang.api.schemas import (
    CodeField,
    CompletedQuantity,
    EscalationLevelQuery,
    Id64,
    OptionalId64,
    OptionalJurisdictionCode,
    OptionalTargetQuantity,
    PageLimit,
    QuantityOut,
    TargetQuantity,
    Year,
    documented,
    limited_text,
    page_size,
)
from linzhang.container import Container
from linzhang.domains.tasks import escalation, service, supervision
from linzhang.domains.tasks.model import SplitPart, TaskKind, TaskStatus
from linzhang.identity import Action, Principal, authorize


class EscalationOut(msgspec.Struct):
    from_code: str
    from_name: str
    to_code: str
    to_name: str
    at: dt.datetime


class TaskOut(msgspec.Struct):
    id: int
    title: str
    kind: str
    kind_name: str
    status: str
    status_name: str
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
    target_quantity: QuantityOut | None
    completed_quantity: QuantityOut
    unit: str | None
    parent_id: int | None
    escalations: list[EscalationOut]
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
    excess_quantity: QuantityOut


class TaskPage(msgspec.Struct):
    items: list[TaskOut]
    next: str | None


class TaskList(msgspec.Struct):
    items: list[TaskOut]


class NewTask(msgspec.Struct, forbid_unknown_fields=True):
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


class Part(msgspec.Struct, forbid_unknown_fields=True):
    jurisdiction_code: CodeField
    target_quantity: TargetQuantity
    due_date: dt.date | None = None


class Split(msgspec.Struct, forbid_unknown_fields=True):
    parts: Annotated[list[Part], documented("各部分（至少一个）", min_items=1)]


class Progress(msgspec.Struct, forbid_unknown_fields=True):
    completed_quantity: CompletedQuantity
    note: str | None = None
    reason: str | None = None  # required when the figure goes down (a correction before 验收)


class Completion(msgspec.Struct, forbid_unknown_fields=True):
    note: str | None = None


class Verification(msgspec.Struct, forbid_unknown_fields=True):
    accepted: bool
    note: str = ""


class TimelineOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]


class Timeline(msgspec.Struct):
    items: list[TimelineOut]


def number(value: Decimal) -> int | float:
    """A quantity as a JSON number: four decimal places at most, well within a double's exact range."""
    return int(value) if value == value.to_integral_value() else float(value)


def task_out(view: service.TaskView) -> TaskOut:
    return TaskOut(
        id=view.id,
        title=view.title,
        kind=view.kind,
        kind_name=view.kind_name,
        status=view.status,
        status_name=view.status_name,
        jurisdiction_code=view.jurisdiction_code,
        jurisdiction_name=view.jurisdiction_name,
        holder_code=view.holder_code,
        holder_name=view.holder_name,
        holder_level=view.holder_level,
        due_date=view.due_date,
        escalation_due_date=view.escalation_due_date,
        overdue=view.overdue,
        provisional=view.provisional,
        target_quantity=None if view.target_quantity is None else number(view.target_quantity),
        completed_quantity=number(view.completed_quantity),
        unit=view.unit,
        parent_id=view.parent_id,
        escalations=[EscalationOut(e.from_code, e.from_name, e.to_code, e.to_name, e.at) for e in view.escalations],
        category=view.category,
        description=view.description,
        lead_department=view.lead_department,
        cooperating_departments=view.cooperating_departments,
        children_count=view.children_count,
        plan_key=view.plan_key,
        plan_point=view.plan_point,
        created_by=view.created_by,
        created_at=view.created_at,
        updated_at=view.updated_at,
        done_on=view.done_on,
        submitted_on=view.submitted_on,
        category_name=view.category_name,
        over_target=view.over_target,
        excess_quantity=number(view.excess_quantity),
        days_overdue=view.days_overdue,
    )


def _context(container: Container) -> service.TasksContext:
    return container.context(service.TasksContext)


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]

    @post("/", sync_to_thread=True)
    def create(
        self, data: JSONBody[NewTask], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> TaskOut:
        """交办: a target, an issue or an order for a jurisdiction in the caller's subtree."""
        request = service.CreateTask(
            title=data.title,
            kind=data.kind,
            jurisdiction_code=data.jurisdiction_code,
            due_date=data.due_date,
            due_in_workdays=data.due_in_workdays,
            target_quantity=data.target_quantity,
            unit=data.unit,
            description=data.description,
            category=data.category,
            lead_department=data.lead_department,
        )
        with container.transaction() as session:
            return task_out(service.create_task(session, principal, _context(container), request))

    @get("/", sync_to_thread=True)
    def list_tasks(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        jurisdiction_code: FromQuery[OptionalJurisdictionCode] = None,
        subtree: FromQuery[bool] = False,
        status: FromQuery[TaskStatus | None] = None,
        kind: FromQuery[TaskKind | None] = None,
        overdue: FromQuery[bool | None] = None,
        parent_id: FromQuery[OptionalId64] = None,
        plan_key: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> TaskPage:
        """Tasks in the caller's subtree; one jurisdiction's own are sorted by due date."""
        filters = service.TaskFilter(jurisdiction_code, subtree, status, kind, overdue, parent_id, plan_key)
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_tasks(session, principal, _context(container), filters, cursor, size)
        return TaskPage([task_out(view) for view in page.items], page.next)

    @get("/{task_id:int}", sync_to_thread=True)
    def get_task(
        self, task_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> TaskOut:
        """One task in the caller's subtree, with its figures, deadline and state."""
        with container.reading() as session:
            return task_out(service.get_task(session, principal, _context(container), task_id))

    @get("/{task_id:int}/timeline", sync_to_thread=True)
    def timeline(
        self, task_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> Timeline:
        """Every change to the task: who, what, when."""
        with container.reading() as session:
            entries = service.task_timeline(session, principal, task_id)
        return Timeline([TimelineOut(e.id, e.at, e.actor, e.action, e.detail) for e in entries])

    @post("/{task_id:int}/split", sync_to_thread=True)
    def split(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Split],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskList:
        """层层压实: split a target among direct children; the parts sum to the whole."""
        parts = [SplitPart(p.jurisdiction_code, p.target_quantity, p.due_date) for p in data.parts]
        with container.transaction() as session:
            views = service.split_task(session, principal, _context(container), task_id, parts)
        return TaskList([task_out(view) for view in views])

    @post("/{task_id:int}/progress", status_code=200, sync_to_thread=True)
    def progress(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Progress],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskOut:
        """A leaf target's cumulative figure (a retry is harmless); reaching the target submits it for 验收.

        Until accepted the owner may correct the figure; a lower figure needs a ``reason``.
        """
        with container.transaction() as session:
            view = service.report_progress(
                session, principal, _context(container), task_id, data.completed_quantity, data.note, data.reason
            )
        return task_out(view)

    @post("/{task_id:int}/complete", status_code=200, sync_to_thread=True)
    def complete(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Completion],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskOut:
        """Finished: done (an order), or submitted for 核查 (an issue) or 验收 (a target that reached its figure)."""
        with container.transaction() as session:
            return task_out(service.complete_task(session, principal, _context(container), task_id, data.note))

    @post("/{task_id:int}/verify", status_code=200, sync_to_thread=True)
    def verify(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Verification],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskOut:
        """核查 of an issue or 验收 of a target by a level above: accept (done) or send back (open, with the note)."""
        with container.transaction() as session:
            view = service.verify_task(session, principal, _context(container), task_id, data.accepted, data.note)
        return task_out(view)


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, limited_text(4000, "意见")]


class SuperviseIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, limited_text(4000, "督办意见")]
    new_due_date: dt.date


class SummonsIn(msgspec.Struct, forbid_unknown_fields=True):
    planned_on: dt.date | None = None
    held_on: dt.date | None = None
    place: str | None = None
    attendees: list[str] = msgspec.field(default_factory=list)
    minutes: str | None = None
    note: str | None = None  # the minutes, by their first name


class SummonsHeldIn(msgspec.Struct, forbid_unknown_fields=True):
    held_on: dt.date
    minutes: str
    attendees: list[str] | None = None


class SummonsOut(msgspec.Struct):
    id: int
    task_id: int
    status: str
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


class SummonsList(msgspec.Struct):
    items: list[SummonsOut]


def summons_out(view: supervision.SummonsView) -> SummonsOut:
    return SummonsOut(
        id=view.id,
        task_id=view.task_id,
        status=view.status,
        summoning_code=view.summoning_code,
        summoning_name=view.summoning_name,
        summoned_code=view.summoned_code,
        summoned_name=view.summoned_name,
        planned_on=view.planned_on,
        held_on=view.held_on,
        place=view.place,
        attendees=view.attendees,
        minutes=view.minutes,
        created_by=view.created_by,
        created_at=view.created_at,
    )


class SupervisionController(Controller):
    """Higher levels act on work below them: comment, 督办 with a new deadline, record a 约谈."""

    path = "/tasks"
    tags = ["escalation"]

    @post("/{task_id:int}/comments", sync_to_thread=True)
    def comment(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[CommentIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskOut:
        """Add a comment to a task's timeline (any chief or office that can read the task)."""
        with container.transaction() as session:
            return task_out(supervision.comment(session, principal, _context(container), task_id, data.text))

    @post("/{task_id:int}/supervise", status_code=200, sync_to_thread=True)
    def supervise(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[SuperviseIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskOut:
        """督办: a supervision order with a new deadline; past it, the work climbs again."""
        with container.transaction() as session:
            view = supervision.supervise(session, principal, _context(container), task_id, data.note, data.new_due_date)
        return task_out(view)

    @post("/{task_id:int}/summons", sync_to_thread=True)
    def summons(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[SummonsIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> SummonsOut:
        """约谈 of the owner's chiefs: scheduled (planned_on, place, attendees) or recorded as held (held_on, minutes).

        A planned summons shows in the summoned jurisdiction's inbox until its holding is recorded.
        """
        request = supervision.SummonsRequest(
            planned_on=data.planned_on,
            held_on=data.held_on,
            place=data.place,
            attendees=tuple(data.attendees),
            minutes=data.minutes if data.minutes is not None else data.note,
        )
        with container.transaction() as session:
            view = supervision.summon(session, principal, _context(container), task_id, request)
        return summons_out(view)

    @get("/{task_id:int}/summons", sync_to_thread=True)
    def list_summonses(
        self, task_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> SummonsList:
        """The summonses over a task, planned and held."""
        with container.reading() as session:
            return SummonsList([summons_out(v) for v in supervision.list_summonses(session, principal, task_id)])

    @post("/{task_id:int}/summons/{summons_id:int}/held", status_code=200, sync_to_thread=True)
    def summons_held(
        self,
        task_id: FromPath[Id64],
        summons_id: FromPath[Id64],
        data: JSONBody[SummonsHeldIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> SummonsOut:
        """Record that a planned 约谈 was held, with its minutes."""
        attendees = None if data.attendees is None else tuple(data.attendees)
        with container.transaction() as session:
            view = supervision.record_summons_held(
                session, principal, _context(container), task_id, summons_id, data.held_on, data.minutes, attendees
            )
        return summons_out(view)


class SweepIn(msgspec.Struct, forbid_unknown_fields=True):
    as_of: dt.datetime | None = None


class SweepOut(msgspec.Struct):
    escalated: int
    as_of: dt.datetime
    sweep_id: str


class CountOut(msgspec.Struct):
    code: str
    name: str
    count: int


class BoardItemOut(msgspec.Struct):
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


class BoardOut(msgspec.Struct):
    as_of: dt.date
    level: str
    total: int
    by_district: list[CountOut]
    by_category: list[CountOut]
    aging: list[CountOut]
    items: list[BoardItemOut]
    next: str | None


class WeekCountOut(msgspec.Struct):
    week_start: dt.date
    count: int


class WeeklyOut(msgspec.Struct):
    level: str
    year: int
    items: list[WeekCountOut]


class EscalationController(Controller):
    path = "/escalations"
    tags = ["escalation"]

    @post("/sweep", status_code=200, sync_to_thread=True)
    def sweep(
        self, data: JSONBody[SweepIn], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> SweepOut:
        """Run one escalation sweep as of a time (default now); an as_of before the last sweep is refused."""
        authorize(principal, Action.RUN_SWEEP)
        skew = dt.timedelta(seconds=container.settings.clock.skew_seconds)
        with container.transaction() as session:
            result = escalation.sweep(
                session, _context(container), data.as_of or container.clock.now(), principal.shown_as, skew=skew
            )
        return SweepOut(result.escalated, result.as_of, result.sweep_id)

    @get("/board", sync_to_thread=True)
    def board(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        level: FromQuery[EscalationLevelQuery] = "city",
        district_code: FromQuery[OptionalJurisdictionCode] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> BoardOut:
        """Everything held at a level through escalation: counts by district, aging, category, the items.
        ``district_code`` narrows it to the work owned within one district."""
        size = page_size(container, limit)
        with container.reading() as session:
            result = supervision.escalation_board(
                session, principal, _context(container), level, cursor, size, district_code
            )
        return BoardOut(
            as_of=result.as_of,
            level=result.level,
            total=result.total,
            by_district=[CountOut(c.code, c.name, c.count) for c in result.by_district],
            by_category=[CountOut(c.code, c.name, c.count) for c in result.by_category],
            aging=[CountOut(c.code, c.name, c.count) for c in result.aging],
            items=[
                BoardItemOut(
                    task_id=i.task_id,
                    title=i.title,
                    kind=i.kind,
                    kind_name=i.kind_name,
                    category=i.category,
                    category_name=i.category_name,
                    status=i.status,
                    status_name=i.status_name,
                    origin_code=i.origin_code,
                    origin_name=i.origin_name,
                    holder_code=i.holder_code,
                    holder_name=i.holder_name,
                    holder_level=i.holder_level,
                    due_date=i.due_date,
                    escalation_due_date=i.escalation_due_date,
                    days_overdue=i.days_overdue,
                    path=i.path,
                    path_names=i.path_names,
                    climb=i.climb,
                    climb_names=i.climb_names,
                )
                for i in result.items
            ],
            next=result.next,
        )

    @get("/weekly", sync_to_thread=True)
    def weekly(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        year: FromQuery[Year],
        level: FromQuery[EscalationLevelQuery] = "city",
        district_code: FromQuery[OptionalJurisdictionCode] = None,
    ) -> WeeklyOut:
        """Climbs that reached a level in each week of a year (Mondays, Asia/Shanghai), within the caller's subtree."""
        with container.reading() as session:
            weeks = supervision.escalations_per_week(
                session, principal, _context(container), level, year, district_code
            )
        return WeeklyOut(level, year, [WeekCountOut(w.week_start, w.count) for w in weeks])
