"""Roll-ups: a split target is the sum of its parts, recomputed when a part changes (docs/adr/0006).

Run by the tasks domain's own subscriber, one level per delivery, as the system ("system" on the
timeline).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.bus import publish
from linzhang.contracts import TaskRolledUp
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.events import snapshot
from linzhang.domains.tasks.model import TaskStatus, roll_up
from linzhang.domains.tasks.records import changed, finish, record_change
from linzhang.domains.tasks.tables import Task

SYSTEM_ACTOR = "system"


def roll_up_parent(session: Session, ctx: TasksContext, parent_id: int | None) -> None:
    """Recompute a split target from its parts; if it changed, tell the bus (which rolls up the next level).

    The parent row is locked first, so parts reported at the same moment each recount with the other's
    figure; the cost is one level's parts, and the work climbs one level per delivery.
    """
    if parent_id is None:
        return
    parent = session.execute(select(Task).where(Task.id == parent_id).with_for_update()).scalar_one_or_none()
    if parent is None or parent.status == TaskStatus.DONE.value:
        return
    parts = session.execute(select(Task.completed_quantity, Task.status).where(Task.parent_id == parent_id)).all()
    total, status = roll_up([(row.completed_quantity, TaskStatus(row.status)) for row in parts])
    if total == parent.completed_quantity and status.value == parent.status:
        return
    now = ctx.clock.now()
    today = ctx.today()
    parent.completed_quantity = total
    parent.status = status.value
    changed(parent, now)
    record_change(session, parent, now, SYSTEM_ACTOR, "rolled_up", completed_quantity=str(total), status=status.value)
    assert parent.target_quantity is not None
    events: list[Any] = [
        TaskRolledUp(
            task=snapshot(parent), completed_quantity=total, target_quantity=parent.target_quantity, occurred_at=now
        )
    ]
    if status is TaskStatus.DONE:
        events.append(finish(session, parent, today, now, SYSTEM_ACTOR, reason="all parts done"))
    publish(session, *events)
