"""The integration feed: stored events in the order they were written, from a position on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from linzhang.bus.tables import events_table as e


@dataclass(frozen=True, slots=True)
class FeedEvent:
    position: int
    event_id: str
    event_type: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any]

    @property
    def scope_path(self) -> str | None:
        """The jurisdiction path the event concerns: its own ``path``, or its task's owner path."""
        path = self.payload.get("path")
        if isinstance(path, str):
            return path
        task = self.payload.get("task")
        if isinstance(task, dict) and isinstance(task.get("path"), str):
            return str(task["path"])
        return None


def read_feed(session: Session, after: int, scan: int) -> list[FeedEvent]:
    """Up to ``scan`` events after position ``after``, oldest first."""
    rows = session.execute(
        select(e.c.position, e.c.event_id, e.c.event_type, e.c.version, e.c.occurred_at, e.c.payload)
        .where(e.c.position > after)
        .order_by(e.c.position)
        .limit(scan)
    ).all()
    return [
        FeedEvent(
            row.position, row.event_id, row.event_type, row.version, row.occurred_at, msgspec.json.decode(row.payload)
        )
        for row in rows
    ]
