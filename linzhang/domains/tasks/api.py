"""REST endpoints of the tasks domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

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
    PageLimit,
    TargetQuantity,
    Year,
    documented,
    limited_text,
    page_size,
)
from linzhang.container import Container
from linzhang.domains.tasks import escalation, listing, service, supervision
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.model import SplitPart, TaskKind, TaskStatus
from linzhang.domains.tasks.views import TaskView, TimelineView
from linzhang.identity import Principal


class TaskPage(msgspec.Struct):
    items: list[TaskView]
    next: str | None


class TaskList(msgspec.Struct):
    items: list[TaskView]


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


class Timeline(msgspec.Struct):
    items: list[TimelineView]


def _context(container: Container) -> TasksContext:
    return container.context(TasksContext)


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]

    @post("/", sync_to_thread=True)
    def create(
        self,
        data: JSONBody[service.NewTask],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskView:
        """交办: a target, an issue or an order for a jurisdiction in the caller's subtree."""
        with container.transaction() as session:
            return service.create_task(session, principal, _context(container), data)

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
        filters = listing.TaskFilter(jurisdiction_code, subtree, status, kind, overdue, parent_id, plan_key)
        size = page_size(container, limit)
        with container.reading() as session:
            page = listing.list_tasks(session, principal, _context(container), filters, cursor, size)
        return TaskPage(page.items, page.next)

    @get("/{task_id:int}", sync_to_thread=True)
    def get_task(
        self, task_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> TaskView:
        """One task in the caller's subtree, with its figures, deadline and state."""
        with container.reading() as session:
            return service.get_task(session, principal, _context(container), task_id)

    @get("/{task_id:int}/timeline", sync_to_thread=True)
    def timeline(
        self, task_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> Timeline:
        """Every change to the task: who, what, when."""
        with container.reading() as session:
            return Timeline(service.task_timeline(session, principal, task_id))

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
            return TaskList(service.split_task(session, principal, _context(container), task_id, parts))

    @post("/{task_id:int}/progress", status_code=200, sync_to_thread=True)
    def progress(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Progress],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskView:
        """A leaf target's cumulative figure (a retry is harmless); reaching the target submits it for 验收.

        Until accepted the owner may correct the figure; a lower figure needs a ``reason``.
        """
        with container.transaction() as session:
            return service.report_progress(
                session, principal, _context(container), task_id, data.completed_quantity, data.note, data.reason
            )

    @post("/{task_id:int}/complete", status_code=200, sync_to_thread=True)
    def complete(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Completion],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskView:
        """Finished: done (an order), or submitted for 核查 (an issue) or 验收 (a target that reached its figure)."""
        with container.transaction() as session:
            return service.complete_task(session, principal, _context(container), task_id, data.note)

    @post("/{task_id:int}/verify", status_code=200, sync_to_thread=True)
    def verify(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[Verification],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskView:
        """核查 of an issue or 验收 of a target by a level above: accept (done) or send back (open, with the note)."""
        with container.transaction() as session:
            return service.verify_task(session, principal, _context(container), task_id, data.accepted, data.note)


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


class SummonsList(msgspec.Struct):
    items: list[supervision.SummonsView]


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
    ) -> TaskView:
        """Add a comment to a task's timeline (any chief or office that can read the task)."""
        with container.transaction() as session:
            return supervision.comment(session, principal, _context(container), task_id, data.text)

    @post("/{task_id:int}/supervise", status_code=200, sync_to_thread=True)
    def supervise(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[SuperviseIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> TaskView:
        """督办: a supervision order with a new deadline; past it, the work climbs again."""
        with container.transaction() as session:
            return supervision.supervise(session, principal, _context(container), task_id, data.note, data.new_due_date)

    @post("/{task_id:int}/summons", sync_to_thread=True)
    def summons(
        self,
        task_id: FromPath[Id64],
        data: JSONBody[SummonsIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> supervision.SummonsView:
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
            return supervision.summon(session, principal, _context(container), task_id, request)

    @get("/{task_id:int}/summons", sync_to_thread=True)
    def list_summonses(
        self, task_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> SummonsList:
        """The summonses over a task, planned and held."""
        with container.reading() as session:
            return SummonsList(supervision.list_summonses(session, principal, task_id))

    @post("/{task_id:int}/summons/{summons_id:int}/held", status_code=200, sync_to_thread=True)
    def summons_held(
        self,
        task_id: FromPath[Id64],
        summons_id: FromPath[Id64],
        data: JSONBody[SummonsHeldIn],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> supervision.SummonsView:
        """Record that a planned 约谈 was held, with its minutes."""
        attendees = None if data.attendees is None else tuple(data.attendees)
        with container.transaction() as session:
            return supervision.record_summons_held(
                session, principal, _context(container), task_id, summons_id, data.held_on, data.minutes, attendees
            )


class SweepIn(msgspec.Struct, forbid_unknown_fields=True):
    as_of: dt.datetime | None = None


class SweepOut(msgspec.Struct):
    escalated: int
    as_of: dt.datetime
    sweep_id: str


class WeeklyOut(msgspec.Struct):
    level: str
    year: int
    items: list[supervision.WeekCount]


class EscalationController(Controller):
    path = "/escalations"
    tags = ["escalation"]

    @post("/sweep", status_code=200, sync_to_thread=True)
    def sweep(
        self, data: JSONBody[SweepIn], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> SweepOut:
        """Run one escalation sweep as of a time (default now); an as_of before the last sweep is refused."""
        skew = dt.timedelta(seconds=container.settings.clock.skew_seconds)
        with container.transaction() as session:
            result = escalation.sweep(
                session, principal, _context(container), data.as_of or container.clock.now(), skew=skew
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
    ) -> supervision.Board:
        """Everything held at a level through escalation: counts by district, aging, category, the items.
        ``district_code`` narrows it to the work owned within one district."""
        size = page_size(container, limit)
        with container.reading() as session:
            result = supervision.escalation_board(
                session, principal, _context(container), level, cursor, size, district_code
            )
        return result

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
        return WeeklyOut(level, year, weeks)
