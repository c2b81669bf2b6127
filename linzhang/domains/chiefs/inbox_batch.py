"""The inboxes' batch entry point: many task snapshots applied in the caller's transaction.

It leaves the inbox tables exactly as :func:`linzhang.domains.chiefs.inbox.sync_inbox` applied to each
snapshot in turn would (a property test holds the two together): every snapshot goes through
``sync_inbox``, task by task in task order (so two batches lock the tasks' marker rows in one order),
each task's snapshots in the batch's order. What a batch saves is the transaction, the claim and the
commit of each delivery. A set-based version written before the review box and the summonses were added
to ``sync_inbox`` was withdrawn at that merge; see docs/adr/0014.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from linzhang.contracts import TaskSnapshot
from linzhang.domains.chiefs.inbox import sync_inbox


def sync_inboxes(session: Session, tasks: Sequence[TaskSnapshot], now: dt.datetime) -> None:
    """Make the inboxes show every snapshot of ``tasks``, as ``sync_inbox`` would one after the other."""
    by_task: dict[int, list[TaskSnapshot]] = {}
    for task in tasks:
        by_task.setdefault(task.task_id, []).append(task)
    for task_id in sorted(by_task):
        for task in by_task[task_id]:
            sync_inbox(session, task, now)
