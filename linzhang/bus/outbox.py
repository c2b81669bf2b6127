"""Publishing: events go into the outbox, with one delivery per subscriber, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import structlog
from sqlalchemy import Insert, bindparam, func, insert, literal, select, true, union_all
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.tables import deliveries_table, events_table
from linzhang.contracts import Event, encode_event

REGISTRY_KEY = "linzhang.bus.registry"
PUBLISHED_KEY = "linzhang.bus.published"
# On PostgreSQL, a transaction that publishes notifies this channel; it is delivered at its commit, and
# the relay, listening, wakes at once instead of at its next idle poll.
WAKE_CHANNEL = "linzhang_bus"


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
    routes = [
        (row["event_id"], subscriber)
        for row, event in zip(rows, events, strict=True)
        for subscriber in registry.subscribers_for(event.event_type, event.version)
    ]
    # Core statements on the session's connection: same transaction, without the ORM's per-statement work.
    connection = session.connection()
    if not routes:
        connection.execute(insert(events_table), rows)
        return
    if connection.dialect.name == "postgresql" and len(rows) == 1:
        # The usual case, one event: it and its deliveries in one statement of plain values.
        (row,) = rows
        subscribers = {f"subscriber_{i}": subscriber for i, (_, subscriber) in enumerate(routes)}
        connection.execute(_publish_one_statement(len(routes)), {**row, **subscribers})
    elif connection.dialect.name == "postgresql":
        # Several events and their deliveries in one statement, the values in one array per column.
        parameters: dict[str, object] = {column: [row[column] for row in rows] for column in _EVENT_COLUMNS}
        parameters["route_event_ids"] = [event_id for event_id, _ in routes]
        parameters["route_subscribers"] = [subscriber for _, subscriber in routes]
        connection.execute(_PUBLISH_MANY_POSTGRESQL, parameters)
    else:
        positions = connection.execute(
            insert(events_table).returning(events_table.c.position, sort_by_parameter_order=True), rows
        ).scalars()
        position_of = dict(zip((row["event_id"] for row in rows), positions, strict=True))
        connection.execute(
            insert(deliveries_table),
            [
                {
                    "event_position": position_of[event_id],
                    "event_id": event_id,
                    "subscriber": subscriber,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "sends": 0,
                    "available_at": None,
                }
                for event_id, subscriber in routes
            ],
        )
    session.info[PUBLISHED_KEY] = True


_EVENT_COLUMNS = ("event_id", "event_type", "version", "occurred_at", "correlation_id", "payload")


_DELIVERY_COLUMNS = ["event_position", "event_id", "subscriber", "status", "attempts", "sends"]


def _wake() -> Any:
    """``(SELECT pg_notify(channel, ''))``: joined into a publishing statement, it notifies at no extra round trip."""
    return select(func.pg_notify(literal(WAKE_CHANNEL), literal(""))).subquery("wake")


_NEW_DELIVERY = (literal(DeliveryStatus.PENDING.value), literal(0), literal(0))  # status, attempts, sends


@cache
def _publish_one_statement(subscriber_count: int) -> Insert:
    """``WITH published AS (INSERT INTO bus_events VALUES (..)) INSERT INTO bus_deliveries SELECT ..``.

    One statement per number of subscribers (a handful), so that its SQL stays the same from call to call.
    """
    published = (
        insert(events_table)
        .values({column: bindparam(column, type_=events_table.c[column].type) for column in _EVENT_COLUMNS})
        .returning(events_table.c.position, events_table.c.event_id)
        .cte("published")
    )
    subscriber_type = deliveries_table.c.subscriber.type
    one_per_subscriber = [
        select(
            published.c.position,
            published.c.event_id,
            bindparam(f"subscriber_{i}", type_=subscriber_type),
            *_NEW_DELIVERY,
        ).select_from(published)
        for i in range(subscriber_count)
    ]
    one_per_subscriber[0] = one_per_subscriber[0].join(_wake(), true())
    deliveries = one_per_subscriber[0] if subscriber_count == 1 else union_all(*one_per_subscriber)
    return insert(deliveries_table).from_select(_DELIVERY_COLUMNS, deliveries)


def _publish_many_statement() -> Insert:
    """``WITH published AS (INSERT INTO bus_events SELECT FROM unnest(..)) INSERT INTO bus_deliveries ..``.

    Events come in as one array per column and deliveries as (event id, subscriber) arrays, so the SQL is
    the same for any number of events and subscribers. Positions and delivery ids follow the order given.
    """
    types = {column: events_table.c[column].type for column in _EVENT_COLUMNS}
    new_events = (
        func.unnest(*(bindparam(column, type_=ARRAY(types[column])) for column in _EVENT_COLUMNS))
        .table_valued(*(sql_column(column, types[column]) for column in _EVENT_COLUMNS), with_ordinality="n")
        .render_derived(name="new_events")
    )
    published = (
        insert(events_table)
        .from_select(
            list(_EVENT_COLUMNS),
            select(*(new_events.c[column] for column in _EVENT_COLUMNS)).order_by(new_events.c.n),
        )
        .returning(events_table.c.position, events_table.c.event_id)
        .cte("published")
    )
    event_id_type = deliveries_table.c.event_id.type
    subscriber_type = deliveries_table.c.subscriber.type
    routes = (
        func.unnest(
            bindparam("route_event_ids", type_=ARRAY(event_id_type)),
            bindparam("route_subscribers", type_=ARRAY(subscriber_type)),
        )
        .table_valued(
            sql_column("event_id", event_id_type), sql_column("subscriber", subscriber_type), with_ordinality="n"
        )
        .render_derived(name="routes")
    )
    return insert(deliveries_table).from_select(
        _DELIVERY_COLUMNS,
        select(published.c.position, published.c.event_id, routes.c.subscriber, *_NEW_DELIVERY)
        .join_from(routes, published, published.c.event_id == routes.c.event_id)
        .join(_wake(), true())
        .order_by(routes.c.n),
    )


_PUBLISH_MANY_POSTGRESQL = _publish_many_statement()
