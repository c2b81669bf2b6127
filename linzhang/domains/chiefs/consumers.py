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
    TaskSummonsRecorded,
    TaskSupervised,
)
from linzhang.domains.chiefs.inbox import sync_inbox
from linzhang.domains.chiefs.inbox_batch import sync_inboxes

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
)


def register(registry: SubscriberRegistry, clock: Clock) -> None:
    def on_task_changed(session: Session, event: TaskEvent) -> None:
        sync_inbox(session, event.task, clock.now())

    def on_tasks_changed(session: Session, events: Sequence[Event]) -> None:
        sync_inboxes(session, [event.task for event in events], clock.now())  # type: ignore[attr-defined]

    for event_class in TASK_EVENTS:
        # Every event in TASK_EVENTS carries the task's snapshot; the union spells that out for readers.
        registry.subscribe("chiefs.inbox", event_class, on_task_changed)  # type: ignore[arg-type]
    # A worker may hand the inbox many deliveries at once (after a sweep): applied set-based.
    registry.subscribe_batch("chiefs.inbox", on_tasks_changed)
