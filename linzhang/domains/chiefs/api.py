"""REST endpoints of the chiefs domain."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from linzhang.api.schemas import CodeField, Id32, OptionalJurisdictionCode, PageLimit, limited_text, page_size
from linzhang.container import Container
from linzhang.domains.chiefs import service
from linzhang.domains.chiefs.inbox import Box, InboxContext, read_inbox
from linzhang.domains.chiefs.model import ChiefRole
from linzhang.errors import InvalidInput
from linzhang.identity import Principal
from linzhang.vocabularies import categories_at


class ChiefOut(msgspec.Struct):
    id: int
    name: str
    post: str
    role: str
    role_label: str
    jurisdiction_code: str
    jurisdiction_name: str
    term_start: dt.date
    term_end: dt.date | None
    active: bool
    end_reason: str | None
    predecessor_id: int | None
    successor_id: int | None
    username: str | None


class ChiefPage(msgspec.Struct):
    items: list[ChiefOut]
    next: str | None


class NewChief(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, limited_text(50, "姓名")]
    post: Annotated[str, limited_text(100, "职务（如 区委书记）")]
    role: ChiefRole
    jurisdiction_code: CodeField
    term_start: dt.date | None = None
    username: str | None = None
    password: str | None = None


class Successor(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, limited_text(50, "姓名")]
    post: Annotated[str, limited_text(100, "职务（如 区委书记）")]
    term_start: dt.date | None = None
    username: str | None = None
    password: str | None = None


class TermEnd(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, limited_text(500, "离任原因")]
    term_end: dt.date | None = None


def _out(view: service.ChiefView) -> ChiefOut:
    return ChiefOut(
        view.id,
        view.name,
        view.post,
        view.role.value,
        view.role.label,
        view.jurisdiction_code,
        view.jurisdiction_name,
        view.term_start,
        view.term_end,
        view.active,
        view.end_reason,
        view.predecessor_id,
        view.successor_id,
        view.username,
    )


def _account(username: str | None, password: str | None) -> service.Account | None:
    if username is None and password is None:
        return None
    if username is None or password is None:
        raise InvalidInput("账号须同时给出用户名和密码", code="account_incomplete", field="username")
    return service.Account(username, password)


def _context(container: Container) -> service.ChiefsContext:
    return container.context(service.ChiefsContext)


class ChiefController(Controller):
    path = "/chiefs"
    tags = ["chiefs"]

    @post("/", sync_to_thread=True)
    def appoint(
        self, data: JSONBody[NewChief], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> ChiefOut:
        """Appoint a chief (总林长, 副总林长 or 林长); with a username and password, also an account."""
        appointment = service.Appointment(
            name=data.name,
            post=data.post,
            role=data.role,
            jurisdiction_code=data.jurisdiction_code,
            term_start=data.term_start,
            account=_account(data.username, data.password),
        )
        with container.transaction() as session:
            return _out(service.appoint_chief(session, principal, _context(container), appointment))

    @get("/", sync_to_thread=True)
    def list_chiefs(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        jurisdiction_code: FromQuery[OptionalJurisdictionCode] = None,
        subtree: FromQuery[bool] = False,
        active: FromQuery[bool | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> ChiefPage:
        """Chiefs of a jurisdiction (``subtree=true``: and below it); without a code, all the caller may see."""
        size = page_size(container, limit)
        with container.reading() as session:
            page = service.list_chiefs(
                session,
                principal,
                container.lookup_jurisdiction,
                jurisdiction_code=jurisdiction_code,
                subtree=subtree,
                active=active,
                cursor=cursor,
                limit=size,
            )
        return ChiefPage([_out(view) for view in page.items], page.next)

    @get("/{chief_id:int}", sync_to_thread=True)
    def get_chief(
        self, chief_id: FromPath[Id32], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> ChiefOut:
        """One chief (in or out of office) in the caller's subtree."""
        with container.reading() as session:
            return _out(service.get_chief(session, principal, chief_id))

    @post("/{chief_id:int}/replace", sync_to_thread=True)
    def replace(
        self,
        chief_id: FromPath[Id32],
        data: JSONBody[Successor],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> ChiefOut:
        """Appoint a successor: the predecessor's term and account end and their open inbox moves over."""
        account = _account(data.username, data.password)
        with container.transaction() as session:
            successor = service.replace_chief(
                session,
                principal,
                _context(container),
                chief_id,
                name=data.name,
                post=data.post,
                term_start=data.term_start,
                account=account,
            )
        return _out(successor)

    @post("/{chief_id:int}/end-term", status_code=200, sync_to_thread=True)
    def end_term(
        self,
        chief_id: FromPath[Id32],
        data: JSONBody[TermEnd],
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
    ) -> ChiefOut:
        """End a term with no successor (the jurisdiction may become a coverage gap)."""
        with container.transaction() as session:
            view = service.end_term(
                session, principal, _context(container), chief_id, reason=data.reason, term_end=data.term_end
            )
        return _out(view)


class InboxItemOut(msgspec.Struct):
    task_id: int
    title: str
    kind: str
    kind_name: str
    category: str | None
    category_name: str | None
    status: str
    status_name: str
    box: str
    reason: str
    jurisdiction_code: str
    jurisdiction_name: str
    holder_code: str
    holder_name: str
    due_date: dt.date
    deadline: dt.date  # this box's own deadline: the due date, or the holder's escalation deadline (督办期限)
    overdue: bool  # from the task's due date: one definition for the task, the inbox and the board
    due_soon: bool
    days_overdue: int
    summons_id: int | None
    # The deadline falls in, or is counted across, a year the working calendar does not cover.
    provisional: bool


class InboxCounts(msgspec.Struct):
    todo: int
    supervising: int
    review: int


class InboxPage(msgspec.Struct):
    items: list[InboxItemOut]
    next: str | None
    counts: InboxCounts


class InboxController(Controller):
    path = "/inbox"
    tags = ["inbox"]

    @get("/", sync_to_thread=True)
    def read(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        box: FromQuery[Box] = Box.ALL,
        jurisdiction_code: FromQuery[OptionalJurisdictionCode] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[PageLimit] = None,
    ) -> InboxPage:
        """The caller's jurisdiction's open work: to do (its own, and planned summonses), supervising
        (escalated to it from below) and review (待核查: submitted from below for its 核查 or 验收), most
        urgent first, with overdue and due-soon flags and the number of open items in each box. Offices and administrators may name
        a jurisdiction in their subtree."""
        context = InboxContext(
            container.clock,
            container.calendar,
            container.lookup_jurisdiction,
            container.settings.inbox.due_soon_workdays,
            categories_at(container.settings.config_path),
        )
        size = page_size(container, limit)
        with container.reading() as session:
            page = read_inbox(session, principal, context, box, jurisdiction_code, cursor, size)
        return InboxPage(
            [
                InboxItemOut(
                    task_id=item.task_id,
                    title=item.title,
                    kind=item.kind,
                    kind_name=item.kind_name,
                    category=item.category,
                    category_name=item.category_name,
                    status=item.status,
                    status_name=item.status_name,
                    box=item.box,
                    reason=item.reason,
                    jurisdiction_code=item.jurisdiction_code,
                    jurisdiction_name=item.jurisdiction_name,
                    holder_code=item.holder_code,
                    holder_name=item.holder_name,
                    due_date=item.due_date,
                    deadline=item.deadline,
                    overdue=item.overdue,
                    due_soon=item.due_soon,
                    days_overdue=item.days_overdue,
                    provisional=item.provisional,
                    summons_id=item.summons_id,
                )
                for item in page.items
            ],
            page.next,
            InboxCounts(**page.counts),
        )
