"""The relay hands pending deliveries to the broker; redelivery resends what was sent but never done."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.tables import deliveries_table as d
from linzhang.clock import Clock
from linzhang.db import rowcount


@dataclass(frozen=True, slots=True)
class OutgoingDelivery:
    delivery_id: int
    event_id: str
    subscriber: str


Send = Callable[[Sequence[OutgoingDelivery]], None]


def relay_pending(session_factory: sessionmaker[Session], send: Send, clock: Clock, batch_size: int) -> int:
    """Claim up to ``batch_size`` pending deliveries, send them, mark them sent; return how many.

    Sending happens before the commit: a crash in between sends them again later (harmless, the
    consumer skips repeats) rather than marking unsent work as sent. On PostgreSQL the claim uses
    ``FOR UPDATE SKIP LOCKED``, so several relays share the work without sending a row twice.
    """
    now = clock.now()
    with session_factory() as session, session.begin():
        rows = session.execute(
            select(d.c.id, d.c.event_id, d.c.subscriber)
            .where(
                d.c.status == DeliveryStatus.PENDING.value,
                or_(d.c.available_at.is_(None), d.c.available_at <= now),
            )
            .order_by(d.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        outgoing = [OutgoingDelivery(row.id, row.event_id, row.subscriber) for row in rows]
        send(outgoing)
        session.execute(
            update(d)
            .where(d.c.id.in_([row.id for row in rows]), d.c.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.SENT.value, sent_at=now, sends=d.c.sends + 1)
        )
    return len(rows)


def requeue_stale(session_factory: sessionmaker[Session], clock: Clock, timeout_seconds: float) -> int:
    """Put deliveries sent more than ``timeout_seconds`` ago and still not done back to pending.

    One set-based statement: safe to run from several schedulers at once.
    """
    cutoff = clock.now() - timedelta(seconds=timeout_seconds)
    with session_factory() as session, session.begin():
        result = session.execute(
            update(d)
            .where(d.c.status == DeliveryStatus.SENT.value, d.c.sent_at < cutoff)
            .values(status=DeliveryStatus.PENDING.value, available_at=None)
        )
        return rowcount(result)
