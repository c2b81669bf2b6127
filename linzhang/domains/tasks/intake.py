"""Report intake: a ``ProblemReported`` from another domain becomes an issue (问题整改) of its jurisdiction.

The issue is created through :func:`create_task`, the same use case as 交办, by a named system actor
(``system_actor``: it may assign work and nothing else, shown as the report's source, e.g. 公众举报), so every rule of a new task
applies: the jurisdiction must exist, the category must be in the vocabulary, the title and text are
checked. It lands in the jurisdiction's inbox at once (the chiefs' projection of ``TaskCreated``) and
escalates like any issue. One issue per ``(source, reference)``: a report delivered or published twice
makes one. A report that cannot become an issue is answered ``ReportRefused`` rather than retried.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.contracts.reports import SOURCES, ProblemReported, ReportBecameIssue, ReportRefused
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.model import TaskKind
from linzhang.domains.tasks.records import record_change
from linzhang.domains.tasks.service import NewTask, create_task
from linzhang.domains.tasks.tables import ReportIntake, Task
from linzhang.errors import LinzhangError
from linzhang.identity import Action, Principal
from linzhang.identity.scope import system_actor

log = structlog.get_logger("linzhang.domains.tasks.intake")

TITLE_MAX = 200
DESCRIPTION_MAX = 4000


def intake_actor(source: str) -> Principal:
    """The named system actor that files reports of ``source``: shown as the source's Chinese name."""
    name = SOURCES.get(source, "问题上报")
    return system_actor(f"intake-{source}", Action.ASSIGN_WORK, name=name)


def _description(event: ProblemReported) -> str:
    lines = [event.text.strip()]
    lines.append(f"来源：{SOURCES.get(event.source, event.source)}（{event.reported_by}），编号 {event.reference}")
    if event.longitude is not None and event.latitude is not None:
        lines.append(f"位置：经度 {event.longitude:.6f}，纬度 {event.latitude:.6f}")
    if event.photo_hashes:
        lines.append(f"照片：{len(event.photo_hashes)} 张")
    return "\n".join(lines)[:DESCRIPTION_MAX]


def take_report(session: Session, ctx: TasksContext, event: ProblemReported) -> int | None:
    """File ``event`` as an issue; the task's id, or None when it was refused. Idempotent on (source, reference)."""
    existing = session.execute(
        select(ReportIntake).where(ReportIntake.source == event.source, ReportIntake.reference == event.reference)
    ).scalar_one_or_none()
    if existing is not None:
        return existing.task_id
    now = ctx.clock.now()
    due = event.due_in_workdays if event.due_in_workdays is not None else ctx.report_due_workdays
    request = NewTask(
        title=event.title.strip()[:TITLE_MAX],
        kind=TaskKind.ISSUE,
        jurisdiction_code=event.jurisdiction_code,
        due_in_workdays=due,
        description=_description(event),
        category=event.category,
    )
    try:
        # A savepoint: a refusal leaves nothing of the attempt behind, and the refusal is recorded.
        with session.begin_nested():
            view = create_task(session, intake_actor(event.source), ctx, request)
    except LinzhangError as exc:
        session.add(
            ReportIntake(source=event.source, reference=event.reference, refused_code=exc.code, received_at=now)
        )
        publish(
            session,
            ReportRefused(
                source=event.source, reference=event.reference, code=exc.code, detail=exc.detail, occurred_at=now
            ),
        )
        log.warning("intake.refused", source=event.source, reference=event.reference, code=exc.code)
        return None
    task = session.get(Task, view.id)
    assert task is not None
    record_change(
        session,
        task,
        now,
        intake_actor(event.source).shown_as,
        "reported",
        source=event.source,
        reference=event.reference,
        reported_by=event.reported_by,
        reported_at=event.reported_at.isoformat(),
        longitude=event.longitude,
        latitude=event.latitude,
        photos=list(event.photo_hashes),
    )
    session.add(ReportIntake(source=event.source, reference=event.reference, task_id=view.id, received_at=now))
    publish(
        session,
        ReportBecameIssue(
            source=event.source,
            reference=event.reference,
            task_id=view.id,
            jurisdiction_code=view.jurisdiction_code,
            occurred_at=now,
        ),
    )
    return view.id


__all__ = ["intake_actor", "take_report"]
