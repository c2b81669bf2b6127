"""The assessments' ledger and task projection, kept from the tasks domain's events, and the closed
patrol months (巡林履职) from the patrols domain's month-end check.

The projection keeps history, not only the latest state: every figure with its revision and day, the
day a task came to be and the day it was split, and every completion, escalation and send-back with its
day. An assessment reads the record as it stood at its ``as_of`` date, so a figure reported later never
changes an earlier period's scores.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.clock import SHANGHAI
from linzhang.contracts import (
    Event,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskProgressReported,
    TaskRolledUp,
    TaskSentBack,
    TaskSnapshot,
    TaskSplit,
    TaskSubmitted,
    TaskSupervised,
)
from linzhang.contracts.patrols import PatrolMonthClosed
from linzhang.db import insert_or_ignore
from linzhang.domains.assessments.tables import figures_table as figures
from linzhang.domains.assessments.tables import ledger_table as ledger
from linzhang.domains.assessments.tables import patrol_months_table as patrol_months
from linzhang.domains.assessments.tables import tracked_table as tracked
from linzhang.paths import path_codes


def _codes(path: str) -> dict[str, str | None]:
    codes: list[str | None] = [*path_codes(path), None, None, None]
    return {"city_code": codes[0], "district_code": codes[1], "township_code": codes[2], "village_code": codes[3]}


def _insert_ignoring_duplicates(session: Session, table: Any, values: dict[str, Any], key: list[str]) -> None:
    session.execute(insert_or_ignore(session, table, key).values(**values))


def _track(session: Session, task: TaskSnapshot, **static: Any) -> None:
    """Insert the task if new; apply the snapshot's state if it is newer than what is recorded."""
    _insert_ignoring_duplicates(
        session,
        tracked,
        {
            "task_id": task.task_id,
            "revision": 0,
            "kind": task.kind,
            "title": task.title,
            "category": task.category,
            "path": task.path,
            "due_date": task.due_date,
            "status": task.status,
            "completed_quantity": Decimal(0),
            "split": False,
            **_codes(task.path),
        },
        ["task_id"],
    )
    row = session.execute(select(tracked.c.revision).where(tracked.c.task_id == task.task_id).with_for_update()).one()
    if static:
        session.execute(update(tracked).where(tracked.c.task_id == task.task_id).values(**static))
    if row.revision < task.revision:
        session.execute(
            update(tracked)
            .where(tracked.c.task_id == task.task_id)
            .values(revision=task.revision, status=task.status, due_date=task.due_date, title=task.title)
        )


def _line(session: Session, event_id: str, task: TaskSnapshot, fact: str, on: dt.date, **values: Any) -> None:
    _insert_ignoring_duplicates(
        session,
        ledger,
        {
            "event_id": event_id,
            "task_id": task.task_id,
            "fact": fact,
            "occurred_on": on,
            "path": task.path,
            "levels": values.pop("levels", 0),
            "late": values.pop("late", False),
            "detail": values.pop("detail", None),
            **_codes(task.path),
        },
        ["event_id"],
    )


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def _figure(session: Session, task: TaskSnapshot, on: dt.date, completed: Decimal, target: Decimal | None) -> None:
    """The figure as of this revision (one row per revision: a repeated event is stored once)."""
    _insert_ignoring_duplicates(
        session,
        figures,
        {
            "task_id": task.task_id,
            "revision": task.revision,
            "occurred_on": on,
            "completed_quantity": completed,
            "target_quantity": target,
        },
        ["task_id", "revision"],
    )


def on_created(session: Session, event: TaskCreated) -> None:
    day = _day(event.occurred_at)
    _track(session, event.task, target_quantity=event.target_quantity, unit=event.unit, created_on=day)
    if event.target_quantity is not None:
        _figure(session, event.task, day, Decimal(0), event.target_quantity)


def on_split(session: Session, event: TaskSplit) -> None:
    _track(session, event.task, split=True, split_on=_day(event.occurred_at))


def on_progress(session: Session, event: TaskProgressReported | TaskRolledUp) -> None:
    # The figure is cumulative: the newest revision's figure is the latest state; the history keeps each.
    _track(session, event.task)
    _figure(session, event.task, _day(event.occurred_at), event.completed_quantity, event.target_quantity)
    session.execute(
        update(tracked)
        .where(tracked.c.task_id == event.task.task_id, tracked.c.revision == event.task.revision)
        .values(completed_quantity=event.completed_quantity, target_quantity=event.target_quantity)
    )


def on_completed(session: Session, event: TaskCompleted) -> None:
    _track(session, event.task, done_on=event.completed_on, late=event.late)
    _line(session, str(event.event_id), event.task, "completed", event.completed_on, late=event.late)


def on_escalated(session: Session, event: TaskEscalated) -> None:
    _track(session, event.task)
    _line(
        session,
        str(event.event_id),
        event.task,
        "escalated",
        _day(event.occurred_at),
        levels=event.levels_climbed,
        detail=f"{event.from_code}->{event.to_code}",
    )


def on_sent_back(session: Session, event: TaskSentBack) -> None:
    _track(session, event.task)
    if event.task.kind != "issue":
        # A target sent back at 验收 is scored by its figure and date (target completion, on time), not
        # as an issue's failed rectification (核查不合格).
        return
    _line(session, str(event.event_id), event.task, "sent_back", _day(event.occurred_at), detail=event.reason[:500])


def on_state(session: Session, event: TaskSubmitted | TaskSupervised) -> None:
    _track(session, event.task)


def on_patrol_month_closed(session: Session, event: PatrolMonthClosed) -> None:
    """A person's closed patrol month, once: a repeated event (or the same month told again) is ignored."""
    following = dt.date(event.year + event.month // 12, event.month % 12 + 1, 1)
    _insert_ignoring_duplicates(
        session,
        patrol_months,
        {
            "person_kind": event.person_kind,
            "person_id": event.person_id,
            "year": event.year,
            "month": event.month,
            "month_end": following - dt.timedelta(days=1),
            "person_name": event.person_name[:50],
            "post": event.post,
            "jurisdiction_code": event.jurisdiction_code,
            "path": event.path,
            "valid_days": event.valid_days,
            "required_days": event.required_days,
            **_codes(event.path),
        },
        ["person_kind", "person_id", "year", "month"],
    )


def register(registry: SubscriberRegistry) -> None:
    name = "assessments.ledger"
    registry.subscribe(name, TaskCreated, on_created)
    registry.subscribe(name, TaskSplit, on_split)
    registry.subscribe(name, TaskProgressReported, on_progress)
    registry.subscribe(name, TaskRolledUp, on_progress)
    registry.subscribe(name, TaskCompleted, on_completed)
    registry.subscribe(name, TaskEscalated, on_escalated)
    registry.subscribe(name, TaskSentBack, on_sent_back)
    registry.subscribe(name, TaskSubmitted, on_state)
    registry.subscribe(name, TaskSupervised, on_state)
    # Patrol months carry no task: their own subscriber, outside the task-ordered batches.
    registry.subscribe("assessments.patrols", PatrolMonthClosed, on_patrol_month_closed)
    # After a sweep, thousands of deliveries: many in one transaction, each through its handler above.
    # Ordered by task, so two batches lock the tracked rows in one order (a task's own events keep theirs).
    registry.subscribe_batch_of_handlers(name, order=_task_of)


def _task_of(event: Event) -> int:
    task: TaskSnapshot = event.task  # type: ignore[attr-defined]  # every event above carries its task
    return task.task_id
