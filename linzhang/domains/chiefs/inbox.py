"""The chiefs' inboxes: a projection of the tasks domain's events, and the query behind GET /inbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from linzhang.clock import SHANGHAI, Clock
from linzhang.contracts import TaskSnapshot, TaskSummonsPlanned, TaskSummonsRecorded
from linzhang.db import insert_or_ignore
from linzhang.deadlines import days_overdue, is_overdue
from linzhang.domains.chiefs.tables import inbox_table as i
from linzhang.domains.chiefs.tables import revisions_table as r
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.errors import InvalidInput, not_found
from linzhang.identity import Action, Principal, authorize
from linzhang.pagination import CursorDate, CursorId64, Keyset
from linzhang.paths import path_codes, path_of_codes
from linzhang.references import JurisdictionLookup, JurisdictionRef
from linzhang.vocabularies import KINDS, STATUSES, Vocabulary
from linzhang.workdays import WorkCalendar


class Box(StrEnum):
    TODO = "todo"  # the jurisdiction's own work (and the summonses (约谈) planned for its chiefs)
    SUPERVISING = "supervising"  # work escalated to it from below
    REVIEW = "review"  # 待核查: work from the level below waiting for its 核查 (issue) or 验收 (target)
    ALL = "all"


BOXES = (Box.TODO, Box.SUPERVISING, Box.REVIEW)
# An inbox comes most urgent first.
BY_DEADLINE = Keyset(
    (i.c.deadline, i.c.id), tuple[CursorDate, CursorId64], lambda row: [row.deadline.isoformat(), row.id]
)
SUMMONS = "summons"  # the reason of a planned summons' item
REVIEW_REASONS = {"issue": "verification", "target": "acceptance"}  # 核查, 验收


# The open items a task snapshot calls for: (box, jurisdiction code) -> (reason, jurisdiction path, deadline).
Wanted = dict[tuple[str, str], tuple[str, str, dt.date]]


def wanted_items(task: TaskSnapshot) -> Wanted:
    """The items ``task`` should have open (or, once done, closed) as of this snapshot.

    The owner has it to do until it is done; while it is held above its owner, the holder (and only the
    holder) supervises it; while it is submitted, the level above the owner has it to verify (核查) or
    accept (验收). Every other item of the task, summonses apart, is closed.
    """
    wanted = {("todo", task.jurisdiction_code): ("assigned", task.path, task.due_date)}
    if task.holder_code != task.jurisdiction_code:
        assert task.escalation_due_date is not None
        wanted[("supervising", task.holder_code)] = ("escalated", task.holder_path, task.escalation_due_date)
    owner_codes = path_codes(task.path)
    if task.status == "submitted" and len(owner_codes) > 1:
        reviewer_path = path_of_codes(owner_codes[:-1])
        reason = REVIEW_REASONS.get(task.kind, "verification")
        wanted[("review", owner_codes[-2])] = (reason, reviewer_path, task.due_date)
    return wanted


def item_values(task: TaskSnapshot, reason: str, deadline: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The columns an item of ``task`` takes from the snapshot, whether it is inserted or updated."""
    return {
        "kind": task.kind,
        "title": task.title,
        "category": task.category,
        "status": task.status,
        "owner_code": task.jurisdiction_code,
        "holder_code": task.holder_code,
        "due_date": task.due_date,
        "updated_at": now,
        "reason": reason,
        "deadline": deadline,
        "open": task.status != "done",
    }


def sync_inbox(session: Session, task: TaskSnapshot, now: dt.datetime) -> None:
    """Make the inboxes show ``task`` as of this snapshot (:func:`wanted_items`), unless a newer one was applied.

    Planned summonses are kept by :func:`sync_summons`.
    """
    # Two first events of a task handled at once: both insert the marker, one waits and does nothing,
    # then the row lock orders them; no unique violation, no retry.
    session.execute(insert_or_ignore(session, r).values(task_id=task.task_id, revision=0))
    known = session.execute(select(r.c.revision).where(r.c.task_id == task.task_id).with_for_update()).scalar_one()
    if known >= task.revision:
        return
    session.execute(update(r).where(r.c.task_id == task.task_id).values(revision=task.revision))
    wanted = wanted_items(task)
    existing = {
        (row.box, row.jurisdiction_code): row.id
        for row in session.execute(
            select(i.c.id, i.c.box, i.c.jurisdiction_code).where(i.c.task_id == task.task_id, i.c.reason != SUMMONS)
        )
    }
    for (box, code), (reason, path, deadline) in wanted.items():
        values = item_values(task, reason, deadline, now)
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
    # A summons' item follows the task's title and status; whether it is open is the summons' own affair.
    session.execute(
        update(i)
        .where(i.c.task_id == task.task_id, i.c.reason == SUMMONS)
        .values(title=task.title, category=task.category, status=task.status, holder_code=task.holder_code)
    )


def sync_summons(session: Session, event: TaskSummonsPlanned | TaskSummonsRecorded, now: dt.datetime) -> None:
    """A planned summons (约谈) waits in the summoned jurisdiction's inbox until it is recorded as held.

    One item per task and summoned jurisdiction carries the newest summons it has heard of: a plan opens
    it unless that summons (or a newer one) is known already, a holding closes it for good. So repeats
    and any order of arrival end the same way. Call after :func:`sync_inbox`, whose lock orders a task's events.
    """
    if event.summons_id is None:
        return  # a summons recorded without a plan never waited in an inbox
    task = event.task
    if isinstance(event, TaskSummonsPlanned):
        code, path, planned_on, is_open = event.summoned_code, event.summoned_path, event.planned_on, True
    else:
        code, path, planned_on, is_open = event.summoned_code or task.jurisdiction_code, task.path, None, False
    row = session.execute(
        select(i.c.id, i.c.summons_id, i.c.open).where(
            i.c.task_id == task.task_id, i.c.box == Box.TODO.value, i.c.reason == SUMMONS, i.c.jurisdiction_code == code
        )
    ).first()
    # The task's fields as of the newest snapshot applied (this event's may be older): the owner's item has them.
    current = session.execute(
        select(i.c.kind, i.c.title, i.c.category, i.c.status, i.c.holder_code, i.c.due_date).where(
            i.c.task_id == task.task_id, i.c.box == Box.TODO.value, i.c.reason == "assigned"
        )
    ).one()
    values = {
        **current._asdict(),
        "owner_code": task.jurisdiction_code,
        "summons_id": event.summons_id,
        "open": is_open,
        "updated_at": now,
    }
    if row is None:
        session.execute(
            insert(i).values(
                task_id=task.task_id,
                box=Box.TODO.value,
                reason=SUMMONS,
                jurisdiction_code=code,
                jurisdiction_path=path,
                deadline=planned_on or event.held_on,  # type: ignore[union-attr]
                created_at=now,
                **values,
            )
        )
        return
    known = row.summons_id or 0
    if event.summons_id > known or (event.summons_id == known and not is_open):
        if planned_on is not None:
            values["deadline"] = planned_on
        session.execute(update(i).where(i.c.id == row.id).values(**values))


@dataclass(frozen=True, slots=True)
class InboxItemView:
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
    deadline: dt.date
    overdue: bool
    due_soon: bool
    days_overdue: int
    # The deadline falls in, or is counted across, a year the working calendar does not cover.
    provisional: bool
    summons_id: int | None


@dataclass(frozen=True, slots=True)
class InboxContext:
    clock: Clock
    calendar: WorkCalendar
    lookup_jurisdiction: JurisdictionLookup
    due_soon_workdays: int
    categories: Vocabulary | None = None  # config/categories.toml: the names beside category codes


def read_inbox(
    session: Session,
    principal: Principal,
    ctx: InboxContext,
    box: Box,
    jurisdiction_code: str | None,
    cursor: str | None,
    limit: int,
) -> InboxPage:
    """A jurisdiction's open work, most urgent first: most overdue, then soonest due; with counts per box."""
    code = jurisdiction_code or principal.jurisdiction_code
    if code is None:
        raise InvalidInput("请指明要查看哪个辖区的待办", code="jurisdiction_required", field="jurisdiction_code")
    jurisdiction = ctx.lookup_jurisdiction(session, code)
    if jurisdiction is None:
        raise not_found("jurisdiction")
    authorize(principal, Action.READ, jurisdiction.path, what="jurisdiction")
    query = select(i).where(i.c.jurisdiction_code == code, i.c.open.is_(True))
    if box is not Box.ALL:
        query = query.where(i.c.box == box.value)
    counts = {b.value: 0 for b in BOXES}
    for row_box, count in session.execute(
        select(i.c.box, func.count()).where(i.c.jurisdiction_code == code, i.c.open.is_(True)).group_by(i.c.box)
    ):
        counts[row_box] = int(count)
    page = BY_DEADLINE.page(session, query, cursor, limit)
    today = ctx.clock.now().astimezone(SHANGHAI).date()
    # Due soon: due before the (N+1)-th working day from today. One calendar walk per request.
    soon_limit = ctx.calendar.add_workdays(today, ctx.due_soon_workdays + 1)
    names = jurisdictions.lookup_many(
        session, list({code for row in page.items for code in (row.owner_code, row.holder_code)})
    )
    items = [_item(row, today, soon_limit, names, ctx.calendar, ctx.categories) for row in page.items]
    return InboxPage(items, page.next, counts)


@dataclass(frozen=True, slots=True)
class InboxPage:
    """A page of an inbox, with the number of open items in each box."""

    items: list[InboxItemView]
    next: str | None
    counts: dict[str, int] = field(default_factory=dict)


def _item(
    row: object,
    today: dt.date,
    soon_limit: dt.date,
    names: dict[str, JurisdictionRef],
    calendar: WorkCalendar,
    categories: Vocabulary | None = None,
) -> InboxItemView:
    deadline: dt.date = row.deadline  # type: ignore[attr-defined]
    due_date: dt.date = row.due_date  # type: ignore[attr-defined]
    done = row.status == "done"  # type: ignore[attr-defined]
    # One definition of overdue (linzhang.deadlines), from the task's due date whatever the box; the
    # holder's own deadline (督办期限) is ``deadline`` and decides only the order and ``due_soon``.
    overdue = is_overdue(due_date, today, done=done)
    due_soon = not done and today <= deadline < soon_limit
    owner_code: str = row.owner_code  # type: ignore[attr-defined]
    holder_code: str = row.holder_code  # type: ignore[attr-defined]
    category: str | None = row.category  # type: ignore[attr-defined]
    return InboxItemView(
        task_id=row.task_id,  # type: ignore[attr-defined]
        title=row.title,  # type: ignore[attr-defined]
        kind=row.kind,  # type: ignore[attr-defined]
        kind_name=KINDS.name_of(row.kind),  # type: ignore[attr-defined]
        category=category,
        category_name=categories.name_of(category) if categories is not None and category is not None else category,
        status=row.status,  # type: ignore[attr-defined]
        status_name=STATUSES.name_of(row.status),  # type: ignore[attr-defined]
        box=row.box,  # type: ignore[attr-defined]
        reason=row.reason,  # type: ignore[attr-defined]
        jurisdiction_code=owner_code,
        jurisdiction_name=names[owner_code].name if owner_code in names else owner_code,
        holder_code=holder_code,
        holder_name=names[holder_code].name if holder_code in names else holder_code,
        due_date=due_date,
        deadline=deadline,
        overdue=overdue,
        due_soon=due_soon,
        days_overdue=days_overdue(due_date, today, done=done),
        summons_id=row.summons_id,  # type: ignore[attr-defined]
        provisional=calendar.is_provisional(deadline, today) or calendar.is_provisional(due_date, today),
    )


def open_items(session: Session, jurisdiction_code: str) -> int:
    """How many open items a jurisdiction's inbox holds."""
    return int(
        session.execute(
            select(func.count()).where(i.c.jurisdiction_code == jurisdiction_code, i.c.open.is_(True))
        ).scalar_one()
    )
