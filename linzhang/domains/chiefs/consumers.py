"""Subscribers of the chiefs domain: the inboxes follow every task event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.clock import Clock
from linzhang.contracts import (
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

    for event_class in TASK_EVENTS:
        # Every event in TASK_EVENTS carries the task's snapshot; the union spells that out for readers.
        registry.subscribe("chiefs.inbox", event_class, on_task_changed)  # type: ignore[arg-type]
