"""The inboxes' batch entry point: many task snapshots applied set-based, in the caller's transaction.

It leaves the inbox tables exactly as :func:`linzhang.domains.chiefs.inbox.sync_inbox` applied to each
snapshot in turn would (a property test holds the two together): a task with one snapshot in the batch
goes through a handful of statements shared by the whole batch; a task with several goes through
``sync_inbox`` once per snapshot, in the batch's order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from linzhang.contracts import TaskSnapshot
from linzhang.domains.chiefs.inbox import REVIEW_REASONS, SUMMONS, sync_inbox
from linzhang.domains.chiefs.tables import inbox_table as i
from linzhang.domains.chiefs.tables import revisions_table as r
from linzhang.paths import path_codes, path_of_codes

_SET_REVISION = update(r).where(r.c.task_id == bindparam("b_task_id")).values(revision=bindparam("b_revision"))
_ITEM_COLUMNS = (
    "kind",
    "title",
    "category",
    "status",
    "owner_code",
    "holder_code",
    "due_date",
    "updated_at",
    "reason",
    "deadline",
    "open",
)
_UPDATE_ITEM = (
    update(i).where(i.c.id == bindparam("b_id")).values({name: bindparam(f"b_{name}") for name in _ITEM_COLUMNS})
)
# A summons' item follows the task's title and status (whether it is open is the summons' own affair).
_FOLLOW_SUMMONS = (
    update(i)
    .where(i.c.task_id == bindparam("b_task_id"), i.c.reason == SUMMONS)
    .values(
        title=bindparam("b_title"),
        category=bindparam("b_category"),
        status=bindparam("b_status"),
        holder_code=bindparam("b_holder_code"),
    )
)
_CLOSE_ITEM = (
    update(i)
    .where(i.c.id == bindparam("b_id"))
    .values(open=False, status=bindparam("b_status"), updated_at=bindparam("b_updated_at"))
)


def sync_inboxes(session: Session, tasks: Sequence[TaskSnapshot], now: dt.datetime) -> None:
    """Make the inboxes show every snapshot of ``tasks``, as ``sync_inbox`` would one after the other."""
    if not tasks:
        return
    by_task: dict[int, list[TaskSnapshot]] = {}
    for task in tasks:
        by_task.setdefault(task.task_id, []).append(task)
    task_ids = sorted(by_task)
    # Every task's marker row first, locked in task order: two batches never wait for each other in a cycle.
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        dialect_insert(r).on_conflict_do_nothing(), [{"task_id": task_id, "revision": 0} for task_id in task_ids]
    )
    known = {
        row.task_id: row.revision
        for row in session.execute(
            select(r.c.task_id, r.c.revision).where(r.c.task_id.in_(task_ids)).order_by(r.c.task_id).with_for_update()
        )
    }
    single: list[TaskSnapshot] = []
    for task_id in task_ids:
        snapshots = by_task[task_id]
        if len(snapshots) == 1:
            single.append(snapshots[0])
        else:
            for task in snapshots:
                sync_inbox(session, task, now)
    fresh = [task for task in single if known[task.task_id] < task.revision]
    if fresh:
        _sync_fresh(session, fresh, now)


def _sync_fresh(session: Session, fresh: list[TaskSnapshot], now: dt.datetime) -> None:
    """Apply one newer snapshot per task (their marker rows locked by the caller)."""
    session.execute(_SET_REVISION, [{"b_task_id": task.task_id, "b_revision": task.revision} for task in fresh])
    existing: dict[int, dict[tuple[str, str], int]] = {}
    for row in session.execute(
        select(i.c.id, i.c.task_id, i.c.box, i.c.jurisdiction_code).where(
            i.c.task_id.in_([t.task_id for t in fresh]), i.c.reason != SUMMONS
        )
    ):
        existing.setdefault(row.task_id, {})[(row.box, row.jurisdiction_code)] = row.id
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    closes: list[dict[str, Any]] = []
    for task in fresh:
        items = existing.get(task.task_id, {})
        wanted = _wanted(task)
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
        is_open = task.status != "done"
        for (box, code), (reason, path, deadline) in wanted.items():
            values = {**common, "reason": reason, "deadline": deadline, "open": is_open}
            if (box, code) in items:
                updates.append({"b_id": items[(box, code)], **{f"b_{k}": v for k, v in values.items()}})
            else:
                inserts.append(
                    {
                        "task_id": task.task_id,
                        "box": box,
                        "jurisdiction_code": code,
                        "jurisdiction_path": path,
                        "created_at": now,
                        **values,
                    }
                )
        closes += [
            {"b_id": item_id, "b_status": task.status, "b_updated_at": now}
            for key, item_id in items.items()
            if key not in wanted
        ]
    if updates:
        session.execute(_UPDATE_ITEM, updates)
    if inserts:
        session.execute(insert(i), inserts)
    if closes:
        session.execute(_CLOSE_ITEM, closes)
    session.execute(
        _FOLLOW_SUMMONS,
        [
            {
                "b_task_id": task.task_id,
                "b_title": task.title,
                "b_category": task.category,
                "b_status": task.status,
                "b_holder_code": task.holder_code,
            }
            for task in fresh
        ],
    )


def _wanted(task: TaskSnapshot) -> dict[tuple[str, str], tuple[str, str, dt.date]]:
    """The open items ``task`` should have, as ``sync_inbox`` decides them: (box, code) -> (reason, path, deadline)."""
    wanted = {("todo", task.jurisdiction_code): ("assigned", task.path, task.due_date)}
    if task.holder_code != task.jurisdiction_code:
        assert task.escalation_due_date is not None
        wanted[("supervising", task.holder_code)] = ("escalated", task.holder_path, task.escalation_due_date)
    owner_codes = path_codes(task.path)
    if task.status == "submitted" and len(owner_codes) > 1:
        reviewer_path = path_of_codes(owner_codes[:-1])
        wanted[("review", owner_codes[-2])] = (
            REVIEW_REASONS.get(task.kind, "verification"),
            reviewer_path,
            task.due_date,
        )
    return wanted
