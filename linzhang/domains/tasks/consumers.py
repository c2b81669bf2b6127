"""Subscribers of the tasks domain: progress climbs from a part to its parent, one level per delivery;
reports from other domains become issues (``intake.py``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.contracts import TaskCompleted, TaskProgressReported, TaskRolledUp
from linzhang.contracts.reports import ProblemReported
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.intake import take_report
from linzhang.domains.tasks.rollup import roll_up_parent


def register(registry: SubscriberRegistry, context: TasksContext) -> None:
    def on_part_changed(session: Session, event: TaskProgressReported | TaskRolledUp | TaskCompleted) -> None:
        roll_up_parent(session, context, event.task.parent_id)

    registry.subscribe("tasks.rollup", TaskProgressReported, on_part_changed)
    registry.subscribe("tasks.rollup", TaskRolledUp, on_part_changed)
    # 验收: a part is done when the level above accepts it; its parent may be done with it.
    registry.subscribe("tasks.rollup", TaskCompleted, on_part_changed)

    def on_problem_reported(session: Session, event: ProblemReported) -> None:
        take_report(session, context, event)

    registry.subscribe("tasks.intake", ProblemReported, on_problem_reported)
