"""Draining the ledger in the calling thread: every pending delivery handled, many per transaction.

For a process that has just published a great many events and nothing else to do until they are
handled (the demo's loader): no relay, no broker, no worker threads competing for the database's write
lock. Each subscriber's pending deliveries are taken in chunks, oldest first; one transaction claims a
chunk (the guarded update the consumer uses, so a delivery a worker has handled meanwhile is skipped)
and applies its events through the subscriber's batch handler, or its one-event handlers in delivery
order. A chunk that fails is handled again one delivery at a time by :func:`consume_delivery`, which
counts each failure as a worker would. Handlers that publish add deliveries: the drain goes round again
until nothing is pending (or only failed deliveries waiting out their back-off are left).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.consumer import Outcome, consume_delivery
from linzhang.bus.ledger import DELIVERABLE, DeliveryStatus, RetryPolicy
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.clock import Clock
from linzhang.contracts import Event, decode_event

_DELIVERABLE = [status.value for status in DELIVERABLE]
_CLAIM = (
    update(d)
    .where(d.c.id.in_(bindparam("ids", expanding=True)), d.c.status.in_(_DELIVERABLE))
    .values(status=DeliveryStatus.DONE.value, done_at=bindparam("now"), last_error=None)
    .returning(d.c.id, d.c.event_position)
)
_EVENTS = select(e.c.position, e.c.event_type, e.c.version, e.c.payload).where(
    e.c.position.in_(bindparam("positions", expanding=True))
)


def drain(
    session_factory: sessionmaker[Session],
    registry: SubscriberRegistry,
    clock: Clock,
    policy: RetryPolicy,
    chunk: int = 500,
) -> int:
    """Handle every pending delivery that is due; returns how many were handled (done)."""
    handled = 0
    while True:
        with session_factory() as session:
            due = session.execute(
                select(d.c.id, d.c.subscriber)
                .where(
                    d.c.status == DeliveryStatus.PENDING.value,
                    or_(d.c.available_at.is_(None), d.c.available_at <= clock.now()),
                )
                .order_by(d.c.id)
            ).all()
        if not due:
            return handled
        by_subscriber: dict[str, list[int]] = {}
        for row in due:
            by_subscriber.setdefault(row.subscriber, []).append(row.id)
        progressed = False
        for subscriber, ids in by_subscriber.items():
            for start in range(0, len(ids), chunk):
                done = _chunk(session_factory, registry, clock, policy, subscriber, ids[start : start + chunk])
                handled += done
                progressed = progressed or done > 0
        if not progressed:
            return handled  # only failures are left, each waiting out its back-off


def _chunk(
    session_factory: sessionmaker[Session],
    registry: SubscriberRegistry,
    clock: Clock,
    policy: RetryPolicy,
    subscriber: str,
    ids: Sequence[int],
) -> int:
    try:
        with session_factory() as session, session.begin():
            connection = session.connection()
            claimed = connection.execute(_CLAIM, {"ids": list(ids), "now": clock.now()}).all()
            if not claimed:
                return 0
            stored = {
                row.position: row
                for row in connection.execute(_EVENTS, {"positions": [c.event_position for c in claimed]})
            }
            # In delivery order, as a worker taking them one after the other would.
            rows = [stored[c.event_position] for c in sorted(claimed, key=lambda c: c.id)]
            events: list[Event] = [decode_event(row.event_type, row.version, row.payload) for row in rows]
            batch = registry.batch_handler_for(subscriber)
            if batch is not None:
                batch(session, events)
            else:
                for event in events:
                    registry.handler_for(subscriber, event.event_type, event.version)(session, event)
        return len(claimed)
    except Exception:  # each delivery alone then, its failure counted in the ledger
        return sum(
            consume_delivery(session_factory, registry, clock, policy, delivery_id) is Outcome.DONE
            for delivery_id in ids
        )
