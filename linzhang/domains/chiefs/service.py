"""Use cases of the chiefs domain: appoint, replace, end a term, list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.clock import SHANGHAI, Clock
from linzhang.contracts import ChiefAppointed, ChiefReplaced, ChiefTermEnded
from linzhang.domains.chiefs.inbox import open_items
from linzhang.domains.chiefs.model import (
    ChiefRole,
    InvalidAppointment,
    check_person,
    check_reason,
    check_term_end,
    check_term_start,
)
from linzhang.domains.chiefs.tables import Chief
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.errors import Conflict, InvalidInput, not_found
from linzhang.identity import Action, Principal, Role, authorize
from linzhang.identity import service as identity
from linzhang.identity.passwords import Passwords
from linzhang.identity.scope import subtree_of
from linzhang.pagination import CursorId32, Keyset, Page
from linzhang.paths import in_subtree
from linzhang.references import JurisdictionLookup

# Chiefs are listed in the order they were appointed.
BY_ID = Keyset((Chief.id,), CursorId32, lambda chief: chief.id)


@dataclass(frozen=True, slots=True)
class ChiefView:
    id: int
    name: str
    post: str
    role: ChiefRole
    jurisdiction_code: str
    term_start: dt.date
    term_end: dt.date | None
    active: bool
    end_reason: str | None
    predecessor_id: int | None
    successor_id: int | None
    username: str | None
    jurisdiction_name: str = ""  # beside the code


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Appointment:
    name: str
    post: str
    role: ChiefRole
    jurisdiction_code: str
    term_start: dt.date | None = None
    account: Account | None = None


def _views(session: Session, chiefs: Sequence[Chief]) -> list[ChiefView]:
    """Chiefs as the API shows them, their jurisdictions named by one query for the whole list."""
    names = jurisdictions.names(session, sorted({chief.jurisdiction_code for chief in chiefs}))
    return [_view(chief, names.get(chief.jurisdiction_code, chief.jurisdiction_code)) for chief in chiefs]


def _view(chief: Chief, jurisdiction_name: str = "") -> ChiefView:
    return ChiefView(
        chief.id,
        chief.name,
        chief.post,
        ChiefRole(chief.role),
        chief.jurisdiction_code,
        chief.term_start,
        chief.term_end,
        chief.active,
        chief.end_reason,
        chief.predecessor_id,
        chief.successor_id,
        chief.username,
        jurisdiction_name or chief.jurisdiction_code,
    )


def _today(clock: Clock) -> dt.date:
    return clock.now().astimezone(SHANGHAI).date()


def _invalid(exc: InvalidAppointment) -> InvalidInput:
    return InvalidInput(str(exc), code=exc.code, field=exc.field)


@dataclass(frozen=True, slots=True)
class ChiefsContext:
    """What the use cases need besides the session and the principal."""

    clock: Clock
    passwords: Passwords
    lookup_jurisdiction: JurisdictionLookup


def appoint_chief(session: Session, principal: Principal, ctx: ChiefsContext, appointment: Appointment) -> ChiefView:
    """Appoint a chief to a jurisdiction, optionally with an account to sign in with."""
    jurisdiction = ctx.lookup_jurisdiction(session, appointment.jurisdiction_code)
    if jurisdiction is None:
        raise not_found("jurisdiction", field="jurisdiction_code")
    authorize(principal, Action.APPOINT_CHIEF, jurisdiction.path, what="jurisdiction", field="jurisdiction_code")
    chief = _create(session, ctx, appointment, jurisdiction.path, predecessor_id=None)
    publish(session, _appointed_event(chief, ctx.clock))
    return _views(session, [chief])[0]


def _create(
    session: Session, ctx: ChiefsContext, appointment: Appointment, path: str, predecessor_id: int | None
) -> Chief:
    today = _today(ctx.clock)
    try:
        name, post = check_person(appointment.name, appointment.post)
        term_start = check_term_start(appointment.term_start or today, today)
    except InvalidAppointment as exc:
        raise _invalid(exc) from None
    if appointment.account is not None:
        identity.validate_new_account(
            appointment.account.username, appointment.account.password, min_length=ctx.passwords.min_length
        )
    chief = Chief(
        name=name,
        post=post,
        role=appointment.role.value,
        jurisdiction_code=appointment.jurisdiction_code,
        jurisdiction_path=path,
        term_start=term_start,
        active=True,
        predecessor_id=predecessor_id,
        username=appointment.account.username if appointment.account else None,
        created_at=ctx.clock.now(),
    )
    session.add(chief)
    session.flush()
    if appointment.account is not None:
        identity.create_user(
            session,
            ctx.passwords,
            ctx.clock,
            username=appointment.account.username,
            password=appointment.account.password,
            role=Role.CHIEF,
            jurisdiction_code=appointment.jurisdiction_code,
            jurisdiction_path=path,
            chief_id=chief.id,
            display_name=chief.name,
        )
    return chief


def _appointed_event(chief: Chief, clock: Clock) -> ChiefAppointed:
    return ChiefAppointed(
        chief_id=chief.id,
        name=chief.name,
        post=chief.post,
        role=chief.role,
        jurisdiction_code=chief.jurisdiction_code,
        path=chief.jurisdiction_path,
        term_start=chief.term_start,
        predecessor_id=chief.predecessor_id,
        occurred_at=clock.now(),
    )


def _load_for_change(session: Session, principal: Principal, chief_id: int) -> Chief:
    chief = session.execute(select(Chief).where(Chief.id == chief_id).with_for_update()).scalar_one_or_none()
    if chief is None:
        raise not_found("chief")
    authorize(principal, Action.APPOINT_CHIEF, chief.jurisdiction_path, what="chief")
    if not chief.active:
        raise Conflict(f"该林长已于 {chief.term_end} 离任", code="chief_term_ended", chief_id=chief_id)
    return chief


def _end(session: Session, ctx: ChiefsContext, chief: Chief, term_end: dt.date, reason: str) -> None:
    chief.active = False
    chief.term_end = term_end
    chief.end_reason = reason
    identity.disable_accounts_of_chief(session, chief.id)


def replace_chief(
    session: Session,
    principal: Principal,
    ctx: ChiefsContext,
    chief_id: int,
    *,
    name: str,
    post: str,
    term_start: dt.date | None = None,
    account: Account | None = None,
) -> ChiefView:
    """A successor takes over: the predecessor's term and account end, their open inbox moves over."""
    predecessor = _load_for_change(session, principal, chief_id)
    today = _today(ctx.clock)
    appointment = Appointment(
        name=name,
        post=post,
        role=ChiefRole(predecessor.role),
        jurisdiction_code=predecessor.jurisdiction_code,
        term_start=term_start or today,
        account=account,
    )
    handover_day = min(appointment.term_start or today, today)
    try:
        check_term_end(predecessor.term_start, handover_day, today)
    except InvalidAppointment as exc:
        raise InvalidInput(
            f"继任者的任期不能早于前任开始：{exc}", code="successor_before_predecessor", field="term_start"
        ) from None
    successor = _create(session, ctx, appointment, predecessor.jurisdiction_path, predecessor_id=predecessor.id)
    _end(session, ctx, predecessor, handover_day, f"由{successor.name}接任")
    predecessor.successor_id = successor.id
    # The inbox belongs to the jurisdiction: the successor takes over every open item as it stands.
    moved = open_items(session, predecessor.jurisdiction_code)
    now = ctx.clock.now()
    publish(
        session,
        ChiefTermEnded(
            chief_id=predecessor.id,
            jurisdiction_code=predecessor.jurisdiction_code,
            path=predecessor.jurisdiction_path,
            term_end=handover_day,
            reason=predecessor.end_reason or "",
            successor_id=successor.id,
            occurred_at=now,
        ),
        _appointed_event(successor, ctx.clock),
        ChiefReplaced(
            predecessor_id=predecessor.id,
            successor_id=successor.id,
            jurisdiction_code=predecessor.jurisdiction_code,
            path=predecessor.jurisdiction_path,
            moved_inbox_items=moved,
            occurred_at=now,
        ),
    )
    return _views(session, [successor])[0]


def end_term(
    session: Session,
    principal: Principal,
    ctx: ChiefsContext,
    chief_id: int,
    *,
    reason: str,
    term_end: dt.date | None = None,
) -> ChiefView:
    """End a term with no successor: the account stops working and the jurisdiction may become a gap."""
    chief = _load_for_change(session, principal, chief_id)
    today = _today(ctx.clock)
    try:
        reason = check_reason(reason)
        ended = check_term_end(chief.term_start, term_end or today, today)
    except InvalidAppointment as exc:
        raise _invalid(exc) from None
    _end(session, ctx, chief, ended, reason)
    publish(
        session,
        ChiefTermEnded(
            chief_id=chief.id,
            jurisdiction_code=chief.jurisdiction_code,
            path=chief.jurisdiction_path,
            term_end=ended,
            reason=reason,
            occurred_at=ctx.clock.now(),
        ),
    )
    return _views(session, [chief])[0]


def get_chief(session: Session, principal: Principal, chief_id: int) -> ChiefView:
    chief = session.get(Chief, chief_id)
    if chief is None:
        raise not_found("chief")
    authorize(principal, Action.READ, chief.jurisdiction_path, what="chief")
    return _views(session, [chief])[0]


def list_chiefs(
    session: Session,
    principal: Principal,
    lookup_jurisdiction: JurisdictionLookup,
    *,
    jurisdiction_code: str | None,
    subtree: bool,
    active: bool | None,
    cursor: str | None,
    limit: int,
) -> Page[ChiefView]:
    """Chiefs of one jurisdiction (or its whole subtree), within the principal's scope, by id."""
    query = select(Chief)
    if jurisdiction_code is not None:
        jurisdiction = lookup_jurisdiction(session, jurisdiction_code)
        if jurisdiction is None:
            raise not_found("jurisdiction")
        authorize(principal, Action.READ, jurisdiction.path, what="jurisdiction")
        if subtree:
            query = query.where(in_subtree(Chief.jurisdiction_path, jurisdiction.path))
        else:
            query = query.where(Chief.jurisdiction_code == jurisdiction_code)
    else:
        query = query.where(in_subtree(Chief.jurisdiction_path, subtree_of(principal)))
    if active is not None:
        query = query.where(Chief.active.is_(active))
    page = BY_ID.page(session, query, cursor, limit, scalars=True)
    return Page(_views(session, page.items), page.next)
