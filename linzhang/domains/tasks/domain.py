"""The tasks domain's wiring: targets, issues and orders, their roll-ups and the escalation sweep."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from litestar.types import ControllerRouterHandler

from linzhang.bus import SubscriberRegistry
from linzhang.domain import Domain, Job, Runtime
from linzhang.domains.tasks import consumers, escalation
from linzhang.domains.tasks.context import TasksContext, policy_at
from linzhang.errors import Conflict
from linzhang.vocabularies import categories_at

log = structlog.get_logger("linzhang.domains.tasks")


def _context(runtime: Runtime) -> TasksContext:
    # Reading config/escalation.toml and the categories here validates them at start-up.
    config = runtime.settings.config_path
    return TasksContext(
        runtime.clock,
        runtime.calendar,
        runtime.lookup_jurisdiction,
        policy_at(config),
        categories_at(config),
        report_due_workdays=runtime.settings.reports.issue_due_workdays,
    )


def _subscribe(registry: SubscriberRegistry, context: TasksContext) -> None:
    consumers.register(registry, context)


def _jobs(runtime: Runtime, context: TasksContext) -> Sequence[Job]:
    def sweep_now() -> int:
        try:
            with runtime.session_factory() as session, session.begin():
                return escalation.sweep(session, escalation.SWEEPER, context, runtime.clock.now()).escalated
        except Conflict as exc:
            # Another scheduler's sweep got in first with a later as_of: this run has nothing to add.
            # Logged and skipped; the next run sweeps as usual.
            log.warning("escalation.sweep_skipped", code=exc.code, detail=exc.detail)
            return 0

    return (Job("escalation.sweep", runtime.settings.escalation.sweep_seconds, sweep_now),)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.tasks.api import EscalationController, SupervisionController, TaskController

    return (TaskController, SupervisionController, EscalationController)


DOMAIN: Domain[TasksContext] = Domain(
    name="tasks",
    title="任务",
    tables=("linzhang.domains.tasks.tables",),
    context=_context,
    subscribe=_subscribe,
    jobs=_jobs,
    controllers=_controllers,
)
