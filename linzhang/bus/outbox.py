"""Publishing: events go into the outbox, with one delivery per subscriber, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from sqlalchemy import insert
from sqlalchemy.orm import Session

from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.tables import deliveries_table, events_table
from linzhang.contracts import Event, encode_event

REGISTRY_KEY = "linzhang.bus.registry"
PUBLISHED_KEY = "linzhang.bus.published"


def publish(session: Session, *events: Event) -> None:
    """Append ``events`` to the outbox in ``session``'s transaction.

    Nothing is sent here: the relay sends after the commit, so a rolled-back change publishes nothing
    and a committed one is never lost. The session must come from the bus-aware session factory.
    """
    _publish(session, events)


def _publish(session: Session, events: Iterable[Event]) -> None:
    events = list(events)
    if not events:
        return
    registry: SubscriberRegistry | None = session.info.get(REGISTRY_KEY)
    if registry is None:
        raise RuntimeError("publish() needs a session from the bus's session factory")
    correlation_id = structlog.contextvars.get_contextvars().get("request_id")
    rows = [
        {
            "event_id": str(event.event_id),
            "event_type": event.event_type,
            "version": event.version,
            "occurred_at": event.occurred_at,
            "correlation_id": correlation_id,
            "payload": encode_event(event).decode(),
        }
        for event in events
    ]
    positions = session.execute(
        insert(events_table).returning(events_table.c.position, sort_by_parameter_order=True), rows
    ).scalars()
    deliveries = [
        {
            "event_position": position,
            "event_id": row["event_id"],
            "subscriber": subscriber,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "sends": 0,
            "available_at": None,
        }
        for position, row, event in zip(positions, rows, events, strict=True)
        for subscriber in registry.subscribers_for(event.event_type, event.version)
    ]
    if deliveries:
        session.execute(insert(deliveries_table), deliveries)
        session.info[PUBLISHED_KEY] = True
