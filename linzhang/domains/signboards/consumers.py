"""Subscribers of the signboards domain: the chiefs on each board, the issues the public's reports became."""

from __future__ import annotations

from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.contracts.chiefs import ChiefAppointed, ChiefTermEnded
from linzhang.contracts.reports import ReportBecameIssue, ReportRefused
from linzhang.contracts.tasks import (
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskSentBack,
    TaskSubmitted,
    TaskSupervised,
)
from linzhang.domains.signboards import service

# The task events that change what a reporter reads: status and holder.
TaskChange = TaskCreated | TaskSubmitted | TaskCompleted | TaskSentBack | TaskEscalated | TaskSupervised


def register(registry: SubscriberRegistry) -> None:
    registry.subscribe("signboards.chiefs", ChiefAppointed, service.on_chief_appointed)
    registry.subscribe("signboards.chiefs", ChiefTermEnded, service.on_chief_term_ended)

    def on_task(session: Session, event: TaskChange) -> None:
        service.on_task_changed(session, event.task, event.occurred_at)

    registry.subscribe("signboards.issues", TaskCreated, on_task)
    registry.subscribe("signboards.issues", TaskSubmitted, on_task)
    registry.subscribe("signboards.issues", TaskCompleted, on_task)
    registry.subscribe("signboards.issues", TaskSentBack, on_task)
    registry.subscribe("signboards.issues", TaskEscalated, on_task)
    registry.subscribe("signboards.issues", TaskSupervised, on_task)
    registry.subscribe("signboards.reports", ReportBecameIssue, service.on_report_became_issue)
    registry.subscribe("signboards.reports", ReportRefused, service.on_report_refused)
