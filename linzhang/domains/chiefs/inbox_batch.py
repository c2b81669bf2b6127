"""The inboxes' batch entry point: many task events applied set-based, in the caller's transaction.

It leaves the inbox tables exactly as :func:`linzhang.domains.chiefs.inbox.sync_inbox` (and
:func:`~linzhang.domains.chiefs.inbox.sync_summons`) applied to each event in turn would; property tests
hold the two together. Both decide a task's items through the one rule, ``wanted_items``. Every task's
marker row is locked first, in task order, so two batches never wait for each other in a cycle. A task
with one plain snapshot in the batch - after a sweep, nearly all of them - goes through a handful of
statements shared by the whole batch; a task with several events, or a summons, goes through the
one-event functions in the batch's order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from linzhang.contracts import TaskSnapshot, TaskSummonsPlanned, TaskSummonsRecorded
from linzhang.db import insert_or_ignore
from linzhang.domains.chiefs.inbox import SUMMONS, item_values, sync_inbox, sync_summons, wanted_items
from linzhang.domains.chiefs.tables import inbox_table as i
from linzhang.domains.chiefs.tables import revisions_table as r

Summons = TaskSummonsPlanned | TaskSummonsRecorded
# One change to apply: the task's snapshot, and the summons event it came with (if it is one).
Change = tuple[TaskSnapshot, Summons | None]

# The columns item_values sets.
_ITEM_COLUMNS = [
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
]
_SET_REVISION = update(r).where(r.c.task_id == bindparam("b_task_id")).values(revision=bindparam("b_revision"))
_UPDATE_ITEM = (
    update(i).where(i.c.id == bindparam("b_id")).values({name: bindparam(f"b_{name}") for name in _ITEM_COLUMNS})
)
_CLOSE_ITEM = (
    update(i)
    .where(i.c.id == bindparam("b_id"))
    .values(open=False, status=bindparam("b_status"), updated_at=bindparam("b_updated_at"))
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


def sync_inboxes(session: Session, tasks: Sequence[TaskSnapshot], now: dt.datetime) -> None:
    """Make the inboxes show every snapshot of ``tasks``, as ``sync_inbox`` would one after the other."""
    sync_changes(session, [(task, None) for task in tasks], now)


def sync_changes(session: Session, changes: Sequence[Change], now: dt.datetime) -> None:
    """Apply every change, as ``sync_inbox`` then (for a summons) ``sync_summons`` would one after the other."""
    if not changes:
        return
    by_task: dict[int, list[Change]] = {}
    for change in changes:
        by_task.setdefault(change[0].task_id, []).append(change)
    task_ids = sorted(by_task)
    known = lock_markers(session, task_ids)
    fresh: list[TaskSnapshot] = []
    for task_id in task_ids:
        found = by_task[task_id]
        if len(found) == 1 and found[0][1] is None:
            if known[task_id] < found[0][0].revision:
                fresh.append(found[0][0])
            continue
        for task, summons in found:
            sync_inbox(session, task, now)
            if summons is not None:
                sync_summons(session, summons, now)
    if fresh:
        _sync_fresh(session, fresh, now)


def lock_markers(session: Session, task_ids: Iterable[int]) -> dict[int, int]:
    """Lock the tasks' marker rows (made where missing) in task order; the revision each has applied."""
    ordered = sorted(set(task_ids))
    session.execute(insert_or_ignore(session, r), [{"task_id": task_id, "revision": 0} for task_id in ordered])
    return {
        row.task_id: row.revision
        for row in session.execute(
            select(r.c.task_id, r.c.revision).where(r.c.task_id.in_(ordered)).order_by(r.c.task_id).with_for_update()
        )
    }


def _sync_fresh(session: Session, fresh: Sequence[TaskSnapshot], now: dt.datetime) -> None:
    """Apply one snapshot per task, each newer than what its inbox shows (the markers locked by the caller)."""
    session.execute(_SET_REVISION, [{"b_task_id": task.task_id, "b_revision": task.revision} for task in fresh])
    existing: dict[int, dict[tuple[str, str], int]] = {}
    with_summons: set[int] = set()
    for row in session.execute(
        select(i.c.id, i.c.task_id, i.c.box, i.c.reason, i.c.jurisdiction_code).where(
            i.c.task_id.in_([task.task_id for task in fresh])
        )
    ):
        if row.reason == SUMMONS:
            with_summons.add(row.task_id)
        else:
            existing.setdefault(row.task_id, {})[(row.box, row.jurisdiction_code)] = row.id
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    closes: list[dict[str, Any]] = []
    for task in fresh:
        items = existing.get(task.task_id, {})
        wanted = wanted_items(task)
        for (box, code), (reason, path, deadline) in wanted.items():
            values = item_values(task, reason, deadline, now)
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
    summoned = [task for task in fresh if task.task_id in with_summons]
    if summoned:
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
                for task in summoned
            ],
        )
