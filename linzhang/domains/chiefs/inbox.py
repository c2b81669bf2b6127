"""The chiefs' inboxes: a projection of the tasks domain's events, and the query behind GET /inbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from linzhang.clock import SHANGHAI, Clock
from linzhang.contracts import TaskSnapshot
from linzhang.domains.chiefs.tables import inbox_table as i
from linzhang.domains.chiefs.tables import revisions_table as r
from linzhang.errors import InvalidInput, NotFound
from linzhang.identity import Action, Principal, authorize
from linzhang.pagination import CursorDate, CursorId64, Page, decode_cursor, page_of
from linzhang.references import JurisdictionLookup
from linzhang.workdays import WorkCalendar


class Box(StrEnum):
    TODO = "todo"
    SUPERVISING = "supervising"
    ALL = "all"


def sync_inbox(session: Session, task: TaskSnapshot, now: dt.datetime) -> None:
    """Make the inboxes show ``task`` as of this snapshot, unless a newer one was applied already.

    The owner has it to do until it is done; while it is held above its owner, the holder (and only the
    holder) supervises it. Every other item of the task closes.
    """
    # Two first events of a task handled at once: both insert the marker, one waits and does nothing,
    # then the row lock orders them; no unique violation, no retry.
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(dialect_insert(r).values(task_id=task.task_id, revision=0).on_conflict_do_nothing())
    known = session.execute(select(r.c.revision).where(r.c.task_id == task.task_id).with_for_update()).scalar_one()
    if known >= task.revision:
        return
    session.execute(update(r).where(r.c.task_id == task.task_id).values(revision=task.revision))
    is_open = task.status != "done"
    wanted = {("todo", task.jurisdiction_code): ("assigned", task.path, task.due_date)}
    if task.holder_code != task.jurisdiction_code:
        assert task.escalation_due_date is not None
        wanted[("supervising", task.holder_code)] = ("escalated", task.holder_path, task.escalation_due_date)
    existing = {
        (row.box, row.jurisdiction_code): row.id
        for row in session.execute(select(i.c.id, i.c.box, i.c.jurisdiction_code).where(i.c.task_id == task.task_id))
    }
    common = {
        "kind": task.kind,
        "title": task.title,
        "category": task.category,
        "status": task.status,
        "owner_code": task.jurisdiction_code,
        "holder_code": task.holder_code,
        "due_date": task.due_date,
        "updated_at": now,
    }
    for (box, code), (reason, path, deadline) in wanted.items():
        values = {**common, "reason": reason, "deadline": deadline, "open": is_open}
        if (box, code) in existing:
            session.execute(update(i).where(i.c.id == existing[(box, code)]).values(**values))
        else:
            session.execute(
                insert(i).values(
                    task_id=task.task_id,
                    box=box,
                    jurisdiction_code=code,
                    jurisdiction_path=path,
                    created_at=now,
                    **values,
                )
            )
    stale = [item_id for key, item_id in existing.items() if key not in wanted]
    if stale:
        session.execute(update(i).where(i.c.id.in_(stale)).values(open=False, status=task.status, updated_at=now))


@dataclass(frozen=True, slots=True)
class InboxItemView:
    task_id: int
    title: str
    kind: str
    category: str | None
    status: str
    box: str
    reason: str
    jurisdiction_code: str
    holder_code: str
    due_date: dt.date
    deadline: dt.date
    overdue: bool
    due_soon: bool
    days_overdue: int


@dataclass(frozen=True, slots=True)
class InboxContext:
    clock: Clock
    calendar: WorkCalendar
    lookup_jurisdiction: JurisdictionLookup
    due_soon_workdays: int


def read_inbox(
    session: Session,
    principal: Principal,
    ctx: InboxContext,
    box: Box,
    jurisdiction_code: str | None,
    cursor: str | None,
    limit: int,
) -> Page[InboxItemView]:
    """A jurisdiction's open work, most urgent first: most overdue, then soonest due."""
    code = jurisdiction_code or principal.jurisdiction_code
    if code is None:
        raise InvalidInput("name the jurisdiction whose inbox to read", field="jurisdiction_code")
    jurisdiction = ctx.lookup_jurisdiction(session, code)
    if jurisdiction is None:
        raise NotFound(f"no jurisdiction {code}")
    authorize(principal, Action.READ, jurisdiction.path, what=f"jurisdiction {code}")
    query = select(i).where(i.c.jurisdiction_code == code, i.c.open.is_(True))
    if box is not Box.ALL:
        query = query.where(i.c.box == box.value)
    after = decode_cursor(cursor, tuple[CursorDate, CursorId64])
    if after is not None:
        deadline, last_id = after
        query = query.where(or_(i.c.deadline > deadline, and_(i.c.deadline == deadline, i.c.id > last_id)))
    rows = session.execute(query.order_by(i.c.deadline, i.c.id).limit(limit + 1)).all()
    page = page_of(list(rows), limit, lambda row: [row.deadline.isoformat(), row.id])
    today = ctx.clock.now().astimezone(SHANGHAI).date()
    # Due soon: due before the (N+1)-th working day from today. One calendar walk per request.
    soon_limit = ctx.calendar.add_workdays(today, ctx.due_soon_workdays + 1)
    return Page([_item(row, today, soon_limit) for row in page.items], page.next)


def _item(row: object, today: dt.date, soon_limit: dt.date) -> InboxItemView:
    deadline: dt.date = row.deadline  # type: ignore[attr-defined]
    overdue = today > deadline
    due_soon = not overdue and deadline < soon_limit
    return InboxItemView(
        task_id=row.task_id,  # type: ignore[attr-defined]
        title=row.title,  # type: ignore[attr-defined]
        kind=row.kind,  # type: ignore[attr-defined]
        category=row.category,  # type: ignore[attr-defined]
        status=row.status,  # type: ignore[attr-defined]
        box=row.box,  # type: ignore[attr-defined]
        reason=row.reason,  # type: ignore[attr-defined]
        jurisdiction_code=row.owner_code,  # type: ignore[attr-defined]
        holder_code=row.holder_code,  # type: ignore[attr-defined]
        due_date=row.due_date,  # type: ignore[attr-defined]
        deadline=deadline,
        overdue=overdue,
        due_soon=due_soon,
        days_overdue=max(0, (today - deadline).days),
    )


def open_items(session: Session, jurisdiction_code: str) -> int:
    """How many open items a jurisdiction's inbox holds."""
    return int(
        session.execute(
            select(func.count()).where(i.c.jurisdiction_code == jurisdiction_code, i.c.open.is_(True))
        ).scalar_one()
    )
