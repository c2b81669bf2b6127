"""Subscribers of the chiefs domain: the inboxes follow every task event."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.clock import Clock
from linzhang.contracts import (
    Event,
    TaskCommented,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskProgressReported,
    TaskRolledUp,
    TaskSentBack,
    TaskSplit,
    TaskSubmitted,
    TaskSummonsPlanned,
    TaskSummonsRecorded,
    TaskSupervised,
)
from linzhang.domains.chiefs.inbox import sync_inbox, sync_summons
from linzhang.domains.chiefs.inbox_batch import sync_changes

TASK_EVENTS = (
    TaskCreated,
    TaskSplit,
    TaskProgressReported,
    TaskRolledUp,
    TaskCompleted,
    TaskSubmitted,
    TaskSentBack,
    TaskEscalated,
    TaskCommented,
    TaskSupervised,
    TaskSummonsRecorded,
    TaskSummonsPlanned,
)


TaskEvent = (
    TaskCreated
    | TaskSplit
    | TaskProgressReported
    | TaskRolledUp
    | TaskCompleted
    | TaskSubmitted
    | TaskSentBack
    | TaskEscalated
    | TaskCommented
    | TaskSupervised
    | TaskSummonsRecorded
    | TaskSummonsPlanned
)


def register(registry: SubscriberRegistry, clock: Clock) -> None:
    def on_task_changed(session: Session, event: TaskEvent) -> None:
        now = clock.now()
        sync_inbox(session, event.task, now)
        if isinstance(event, TaskSummonsPlanned | TaskSummonsRecorded):
            sync_summons(session, event, now)

    def on_tasks_changed(session: Session, events: Sequence[Event]) -> None:
        """A batch (after a sweep, thousands): set-based, as ``on_task_changed`` one event after the other."""
        changes = [
            (event.task, event if isinstance(event, TaskSummonsPlanned | TaskSummonsRecorded) else None)  # type: ignore[attr-defined]
            for event in events
        ]
        sync_changes(session, changes, clock.now())

    for event_class in TASK_EVENTS:
        # Every event in TASK_EVENTS carries the task's snapshot; the union spells that out for readers.
        registry.subscribe("chiefs.inbox", event_class, on_task_changed)  # type: ignore[arg-type]
    # A worker may hand the inbox many deliveries at once (after a sweep): applied set-based.
    registry.subscribe_batch("chiefs.inbox", on_tasks_changed)
