"""我的待办 (the inbox) and the 任务 page, with the actions a person takes on an item (HTMX fragments)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated

from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.orm import Session

from linzhang.api.schemas import MAX_ID_64
from linzhang.container import Container
from linzhang.domains.chiefs.inbox import Box, read_inbox
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks import listing, supervision
from linzhang.domains.tasks import service as tasks
from linzhang.domains.tasks.model import TaskStatus
from linzhang.domains.tasks.views import TaskView
from linzhang.errors import InvalidInput, not_found
from linzhang.paths import is_below, is_within, path_codes
from linzhang.vocabularies import LEVEL_CODES as LEVELS
from linzhang.web.common import category_name, inbox_context, names, page_limit, tasks_context
from linzhang.web.session import Viewer

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# The inbox's tabs: the projection's boxes (待核查: submitted work from the level below, 核查 or 验收).
TABS = (("todo", "待办"), ("supervising", "督办中"), ("review", "待核查"))


@dataclass(frozen=True, slots=True)
class Card:
    """One piece of work as the inbox and the task page show it, with the actions the viewer may take."""

    task: TaskView
    box: str
    owner_name: str
    holder_name: str
    category: str
    deadline: dt.date
    overdue: bool
    due_soon: bool
    days_overdue: int
    can_report: bool
    can_complete: bool
    can_verify: bool
    can_comment: bool
    can_supervise: bool
    message: str | None = None

    @property
    def is_open(self) -> bool:
        return self.task.status != TaskStatus.DONE.value


@dataclass(frozen=True, slots=True)
class Urgency:
    deadline: dt.date
    overdue: bool
    due_soon: bool
    days_overdue: int


def _urgency_of(view: TaskView, box: str, today: dt.date) -> Urgency:
    """The deadline that applies in a box (督办中: the escalation's), as the inbox computes it."""
    deadline = view.escalation_due_date if box == "supervising" and view.escalation_due_date else view.due_date
    late = view.status != TaskStatus.DONE.value and today > deadline
    return Urgency(deadline, late, False, (today - deadline).days if late else 0)


def _card(
    viewer: Viewer,
    view: TaskView,
    paths: dict[str, str],
    named: dict[str, str],
    category: str,
    box: str,
    urgency: Urgency,
) -> Card:
    """Which buttons to offer is a hint from where the work sits; the services decide every action."""
    owner_path = paths.get(view.jurisdiction_code, "")
    holder_path = paths.get(view.holder_code, "")
    mine = viewer.principal.jurisdiction_code == view.jurisdiction_code
    below = is_below(owner_path, viewer.principal.path) if owner_path else False
    is_open = view.status != TaskStatus.DONE.value
    escalated = view.holder_code != view.jurisdiction_code
    return Card(
        task=view,
        box=box,
        owner_name=named.get(view.jurisdiction_code, view.jurisdiction_code),
        holder_name=named.get(view.holder_code, view.holder_code),
        category=category,
        deadline=urgency.deadline,
        overdue=urgency.overdue,
        due_soon=urgency.due_soon,
        days_overdue=urgency.days_overdue,
        can_report=mine and view.status == TaskStatus.OPEN.value and view.kind == "target" and view.children_count == 0,
        can_complete=mine and view.status == TaskStatus.OPEN.value and view.kind != "target",
        can_verify=below and view.status == TaskStatus.SUBMITTED.value,
        can_comment=below and is_open,
        can_supervise=below and is_open and escalated and is_within(holder_path, viewer.principal.path),
    )


def _cards(
    session: Session, container: Container, viewer: Viewer, rows: list[tuple[TaskView, str, Urgency]]
) -> list[Card]:
    codes = [code for view, _, _ in rows for code in (view.jurisdiction_code, view.holder_code)]
    refs = jurisdictions.lookup_many(session, codes)
    paths = {code: ref.path for code, ref in refs.items()}
    named = names(session, codes)
    return [
        _card(viewer, view, paths, named, category_name(container, view.category), box, urgency)
        for view, box, urgency in rows
    ]


def _inbox_cards(session: Session, container: Container, viewer: Viewer, box: str) -> list[Card]:
    principal = viewer.principal
    ctx = tasks_context(container)
    limit = page_limit(container)
    items = read_inbox(session, principal, inbox_context(container), Box(box), None, None, limit).items
    by_id = listing.get_tasks(session, principal, ctx, [item.task_id for item in items])
    rows = [
        (by_id[item.task_id], box, Urgency(item.deadline, item.overdue, item.due_soon, item.days_overdue))
        for item in items
        if item.task_id in by_id
    ]
    return _cards(session, container, viewer, rows)


def _one_card(container: Container, viewer: Viewer, task_id: int, box: str, message: str | None) -> Card:
    ctx = tasks_context(container)
    with container.reading() as session:
        view = tasks.get_task(session, viewer.principal, ctx, task_id)
        card = _cards(session, container, viewer, [(view, box, _urgency_of(view, box, ctx.today()))])[0]
    return dataclasses.replace(card, message=message)


def _tabs(viewer: Viewer) -> tuple[tuple[str, str], ...]:
    """A village has nothing below it: no work climbs to it and none awaits its 核查."""
    return TABS[:1] if viewer.level == "village" else TABS


def _decimal(value: str | None, field: str) -> Decimal:
    try:
        number = Decimal((value or "").strip())
    except InvalidOperation:
        raise InvalidInput("请输入数字", code="not_a_number", field=field) from None
    if not number.is_finite():
        raise InvalidInput("请输入数字", code="not_a_number", field=field)
    return number


def _date(value: str | None, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("请选择日期", code="not_a_date", field=field) from None


def task_ids_in_range(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """A task id beyond any task's column is a task that does not exist (the database never sees it)."""
    task_id = connection.path_params.get("task_id")
    if task_id is not None and not 1 <= task_id <= MAX_ID_64:
        raise not_found("task")


class WorkController(Controller):
    """The inbox, the task page and the actions on a task."""

    include_in_schema = False
    guards = [task_ids_in_range]

    @get("/inbox", sync_to_thread=True)
    def inbox(
        self, viewer: NamedDependency[Viewer], container: NamedDependency[Container], box: FromQuery[str] = "todo"
    ) -> Template:
        tabs = _tabs(viewer)
        if box not in dict(tabs):
            raise InvalidInput("没有这个分类", code="unknown_box", field="box")
        cards: list[Card] = []
        if viewer.principal.jurisdiction_code is not None:
            with container.reading() as session:
                cards = _inbox_cards(session, container, viewer, box)
        return Template(
            template_name="inbox.html",
            context={"viewer": viewer, "active": "inbox", "tabs": tabs, "box": box, "cards": cards},
        )

    @get("/tasks/{task_id:int}", sync_to_thread=True)
    def task_page(
        self, task_id: FromPath[int], viewer: NamedDependency[Viewer], container: NamedDependency[Container]
    ) -> Template:
        return _task_page(container, viewer, task_id, None)

    @post("/tasks/{task_id:int}/progress", sync_to_thread=True)
    def report_progress(
        self,
        task_id: FromPath[int],
        data: FormData,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Template:
        quantity = _decimal(data.get("completed_quantity"), "completed_quantity")
        with container.transaction() as session:
            view = tasks.report_progress(
                session,
                viewer.principal,
                tasks_context(container),
                task_id,
                quantity,
                data.get("note") or None,
                data.get("reason") or None,
            )
        reached = "，已提交上级验收" if view.status == TaskStatus.SUBMITTED.value else ""
        return _answer(container, viewer, task_id, data, f"已报告进度{reached}")

    @post("/tasks/{task_id:int}/complete", sync_to_thread=True)
    def complete(
        self,
        task_id: FromPath[int],
        data: FormData,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Template:
        with container.transaction() as session:
            view = tasks.complete_task(
                session, viewer.principal, tasks_context(container), task_id, data.get("note") or None
            )
        message = "已提交上级核查验收" if view.status == TaskStatus.SUBMITTED.value else "已完成"
        return _answer(container, viewer, task_id, data, message)

    @post("/tasks/{task_id:int}/verify", sync_to_thread=True)
    def verify(
        self,
        task_id: FromPath[int],
        data: FormData,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Template:
        accepted = data.get("decision") == "accept"
        with container.transaction() as session:
            view = tasks.verify_task(
                session, viewer.principal, tasks_context(container), task_id, accepted, data.get("note", "")
            )
        passed = "验收通过" if view.kind == "target" else "核查通过"
        return _answer(container, viewer, task_id, data, passed if accepted else "已退回整改")

    @post("/tasks/{task_id:int}/comments", sync_to_thread=True)
    def comment(
        self,
        task_id: FromPath[int],
        data: FormData,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Template:
        with container.transaction() as session:
            supervision.comment(session, viewer.principal, tasks_context(container), task_id, data.get("text", ""))
        return _answer(container, viewer, task_id, data, "批示已送达")

    @post("/tasks/{task_id:int}/supervise", sync_to_thread=True)
    def supervise(
        self,
        task_id: FromPath[int],
        data: FormData,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Template:
        new_due = _date(data.get("new_due_date"), "new_due_date")
        with container.transaction() as session:
            supervision.supervise(
                session, viewer.principal, tasks_context(container), task_id, data.get("note", ""), new_due
            )
        return _answer(container, viewer, task_id, data, "已下达督办")

    @post("/tasks/{task_id:int}/summons", sync_to_thread=True)
    def summons(
        self,
        task_id: FromPath[int],
        data: FormData,
        viewer: NamedDependency[Viewer],
        container: NamedDependency[Container],
    ) -> Template:
        held_on = _date(data.get("held_on"), "held_on")
        request = supervision.SummonsRequest(held_on=held_on, minutes=data.get("note", ""))
        with container.transaction() as session:
            supervision.summon(session, viewer.principal, tasks_context(container), task_id, request)
        return _answer(container, viewer, task_id, data, "已记录约谈")


def _answer(container: Container, viewer: Viewer, task_id: int, data: dict[str, str], message: str) -> Template:
    """An action's answer: the item's card again (the inbox), or the task page (HTMX picks its part)."""
    if data.get("view") == "task":
        return _task_page(container, viewer, task_id, message)
    box = data.get("box", "todo")
    card = _one_card(container, viewer, task_id, box if box in dict(TABS) else "todo", message)
    return Template(template_name="_card.html", context={"card": card, "viewer": viewer})


@dataclass(frozen=True, slots=True)
class Step:
    """One level on the escalation path: who, and when the work reached it."""

    code: str
    name: str
    level: str
    reached_at: dt.datetime | None
    role: str  # owner, holder, passed, above


def _task_page(container: Container, viewer: Viewer, task_id: int, message: str | None) -> Template:
    ctx = tasks_context(container)
    with container.reading() as session:
        view = tasks.get_task(session, viewer.principal, ctx, task_id)
        children = (
            listing.list_tasks(
                session, viewer.principal, ctx, listing.TaskFilter(parent_id=task_id), None, page_limit(container)
            ).items
            if view.children_count
            else []
        )
        timeline = tasks.task_timeline(session, viewer.principal, task_id)
        owner = jurisdictions.lookup(session, view.jurisdiction_code)
        path = path_codes(owner.path) if owner else [view.jurisdiction_code]
        named = names(session, [*path, *(c.jurisdiction_code for c in children), view.holder_code])
        box = "supervising" if view.holder_code == viewer.principal.jurisdiction_code else "todo"
        card = _cards(session, container, viewer, [(view, box, _urgency_of(view, box, ctx.today()))])[0]
        card = dataclasses.replace(card, message=message)
    reached = {e.to_code: e.at for e in view.escalations}
    steps = []
    holder_index = path.index(view.holder_code) if view.holder_code in path else len(path) - 1
    for index, code in reversed(list(enumerate(path))):
        if code == view.jurisdiction_code:
            role = "owner" if code != view.holder_code else "holder"
        elif index == holder_index:
            role = "holder"
        elif index > holder_index:
            role = "passed"
        else:
            role = "above"
        steps.append(Step(code, named.get(code, code), _level_of(index), reached.get(code), role))
    return Template(
        template_name="task.html",
        context={
            "viewer": viewer,
            "active": "",
            "card": card,
            "task": view,
            "children": children,
            "named": named,
            "timeline": timeline,
            "steps": steps,
            "today": ctx.today(),
        },
    )


def _level_of(index: int) -> str:
    """The level of the ``index``-th code of a path (the city is first)."""
    return LEVELS[index] if index < len(LEVELS) else ""
