"""The relay hands pending deliveries to the broker; redelivery resends what was sent but never done."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Integer, String, bindparam, column, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DeliveryStatus, message_id
from linzhang.bus.tables import deliveries_table as d
from linzhang.clock import Clock
from linzhang.db import rowcount


@dataclass(frozen=True, slots=True)
class OutgoingDelivery:
    delivery_id: int
    event_id: str
    subscriber: str


Send = Callable[[Sequence[OutgoingDelivery]], None]
# The message ids waiting in a subscriber's queue, or None when the broker cannot tell.
Waiting = Callable[[str], Collection[str] | None]

log = structlog.get_logger("linzhang.bus")

# Stale deliveries looked at per redelivery scan (the oldest first); the next scan takes the rest.
STALE_SCAN_LIMIT = 10_000


def _pending(now: Any, limit: int) -> Any:
    return (
        select(d.c.id, d.c.event_id, d.c.subscriber)
        .where(
            d.c.status == DeliveryStatus.PENDING.value,
            or_(d.c.available_at.is_(None), d.c.available_at <= now),
        )
        .order_by(d.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _pending_by_subscriber() -> Any:
    """``SELECT .. FROM unnest(names, quotas) q CROSS JOIN LATERAL (each one's oldest pending, SKIP LOCKED)``."""
    shares = (
        func.unnest(bindparam("b_names", type_=ARRAY(String)), bindparam("b_quotas", type_=ARRAY(Integer)))
        .table_valued(column("name", String), column("quota", Integer))
        .render_derived(name="shares")
    )
    now = bindparam("b_now", type_=d.c.available_at.type)
    oldest = (
        select(d.c.id, d.c.event_id, d.c.subscriber)
        .where(
            d.c.status == DeliveryStatus.PENDING.value,
            or_(d.c.available_at.is_(None), d.c.available_at <= now),
            d.c.subscriber == shares.c.name,
        )
        .order_by(d.c.id)
        .limit(shares.c.quota)
        .with_for_update(skip_locked=True)
        .lateral("oldest")
    )
    return select(oldest.c.id, oldest.c.event_id, oldest.c.subscriber).select_from(shares).join(oldest, true())


_PENDING_BY_SUBSCRIBER = _pending_by_subscriber()


def relay_pending(
    session_factory: sessionmaker[Session],
    send: Send,
    clock: Clock,
    batch_size: int,
    subscribers: Sequence[str] = (),
    max_in_flight: int | None = None,
    others: bool = True,
) -> int:
    """Claim pending deliveries, send them, mark them sent; return how many.

    Each of ``subscribers`` gets up to ``batch_size`` of its own oldest, and no more than keeps its sent
    but not done deliveries at ``max_in_flight``: a subscriber's backlog neither delays another's
    deliveries here nor fills its queue beyond what its workers take within the redelivery timeout.
    With ``others``, deliveries of any other subscriber (one renamed or no longer registered here) follow,
    oldest first (a scan of every pending delivery's index entry: the bus asks for it now and then).

    Sending happens before the commit: a crash in between sends them again later (harmless, the
    consumer skips repeats) rather than marking unsent work as sent. On PostgreSQL the claim uses
    ``FOR UPDATE SKIP LOCKED``, so several relays share the work without sending a row twice.
    """
    now = clock.now()
    with session_factory() as session, session.begin():
        in_flight: dict[str, int] = {}
        if max_in_flight is not None:
            counted = session.execute(
                select(d.c.subscriber, func.count())
                .where(d.c.status == DeliveryStatus.SENT.value)
                .group_by(d.c.subscriber)
            ).all()
            in_flight = {str(row[0]): int(row[1]) for row in counted}
        rows: list[Any] = []
        quotas = {
            subscriber: batch_size
            if max_in_flight is None
            else min(batch_size, max_in_flight - in_flight.get(subscriber, 0))
            for subscriber in subscribers
        }
        quotas = {subscriber: quota for subscriber, quota in quotas.items() if quota > 0}
        if quotas and session.get_bind().dialect.name == "postgresql":
            # Every subscriber's share in one statement (a LATERAL subquery each).
            rows += session.execute(
                _PENDING_BY_SUBSCRIBER, {"b_names": list(quotas), "b_quotas": list(quotas.values()), "b_now": now}
            ).all()
        else:
            for subscriber, quota in quotas.items():
                rows += session.execute(_pending(now, quota).where(d.c.subscriber == subscriber)).all()
        if others or not subscribers:
            rest = _pending(now, batch_size)
            if subscribers:
                rest = rest.where(d.c.subscriber.not_in(list(subscribers)))
            rows += session.execute(rest).all()
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


def requeue_stale(
    session_factory: sessionmaker[Session], clock: Clock, timeout_seconds: float, waiting: Waiting | None = None
) -> int:
    """Put deliveries sent more than ``timeout_seconds`` ago and still not done back to pending.

    With ``waiting``, a stale delivery whose message still waits in its subscriber's queue is not sent
    again: it is not lost, only behind others. Its ``sent_at`` moves to now, so the timeout counts again
    from the scan that saw it waiting, and the workers' taking it, not its sending, starts the count that
    matters. Without it (or when the broker cannot tell), every stale delivery is sent again.

    Safe to run from several schedulers at once (rows claimed with ``SKIP LOCKED`` on PostgreSQL).
    """
    now = clock.now()
    cutoff = now - timedelta(seconds=timeout_seconds)
    stale_rows = (d.c.status == DeliveryStatus.SENT.value, d.c.sent_at < cutoff)
    with session_factory() as session, session.begin():
        if waiting is None:
            result = session.execute(
                update(d).where(*stale_rows).values(status=DeliveryStatus.PENDING.value, available_at=None)
            )
            return rowcount(result)
        rows = session.execute(
            select(d.c.id, d.c.event_id, d.c.subscriber)
            .where(*stale_rows)
            .order_by(d.c.sent_at)
            .limit(STALE_SCAN_LIMIT)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        queued: dict[str, Collection[str]] = {}
        for subscriber in {row.subscriber for row in rows}:
            queued[subscriber] = waiting(subscriber) or ()
        still_waiting = [row.id for row in rows if message_id(row.event_id, row.subscriber) in queued[row.subscriber]]
        lost = [row.id for row in rows if message_id(row.event_id, row.subscriber) not in queued[row.subscriber]]
        if still_waiting:
            session.execute(
                update(d).where(d.c.id.in_(still_waiting), d.c.status == DeliveryStatus.SENT.value).values(sent_at=now)
            )
            log.info("delivery.still_queued", count=len(still_waiting))
        if not lost:
            return 0
        result = session.execute(
            update(d)
            .where(d.c.id.in_(lost), d.c.status == DeliveryStatus.SENT.value)
            .values(status=DeliveryStatus.PENDING.value, available_at=None)
        )
        return rowcount(result)
