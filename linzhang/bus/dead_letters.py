"""Dead deliveries: listed for operators and re-driven once the cause is fixed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.db import rowcount


@dataclass(frozen=True, slots=True)
class DeadDelivery:
    delivery_id: int
    event_id: str
    event_type: str
    subscriber: str
    attempts: int
    last_error: str | None
    occurred_at: datetime


def list_dead(session_factory: sessionmaker[Session], limit: int = 100, after_id: int = 0) -> list[DeadDelivery]:
    """Dead deliveries in id order, ``limit`` at a time after ``after_id``."""
    with session_factory() as session:
        rows = session.execute(
            select(d.c.id, d.c.event_id, e.c.event_type, d.c.subscriber, d.c.attempts, d.c.last_error, e.c.occurred_at)
            .join(e, e.c.position == d.c.event_position)
            .where(d.c.status == DeliveryStatus.DEAD.value, d.c.id > after_id)
            .order_by(d.c.id)
            .limit(limit)
        ).all()
    return [DeadDelivery(*row) for row in rows]


def redrive(session_factory: sessionmaker[Session], delivery_ids: Sequence[int] | None = None) -> int:
    """Make dead deliveries pending again with their failures forgotten; ``None`` re-drives all of them."""
    statement = (
        update(d)
        .where(d.c.status == DeliveryStatus.DEAD.value)
        .values(status=DeliveryStatus.PENDING.value, attempts=0, available_at=None)
    )
    if delivery_ids is not None:
        if not delivery_ids:
            return 0
        statement = statement.where(d.c.id.in_(list(delivery_ids)))
    with session_factory() as session, session.begin():
        return rowcount(session.execute(statement))
