"""The idempotent consumer: the subscriber's work and the delivery's ``done`` mark commit together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DELIVERABLE, DeliveryStatus, RetryPolicy
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.clock import Clock
from linzhang.contracts import decode_event

log = structlog.get_logger("linzhang.bus")
# The standard-library logger the structlog lines end in: asked first, a per-delivery debug line costs
# nothing when debug is off instead of a pass through every log processor.
_stdlib_log = logging.getLogger("linzhang.bus")

_DELIVERABLE = [status.value for status in DELIVERABLE]
_ERROR_TEXT_LIMIT = 4000

# The statements are built once; each call only binds its values.
# Claim: mark the delivery done if it is still pending or sent (written out, not as an expanding IN, so
# the statement's SQL is the same every time and the server can keep it prepared).
_CLAIM = (
    update(d)
    .where(d.c.id == bindparam("delivery_id"), or_(*(d.c.status == status.value for status in DELIVERABLE)))
    .values(status=DeliveryStatus.DONE.value, done_at=bindparam("now"), last_error=None)
)
_EVENT_COLUMNS = (e.c.event_type, e.c.version, e.c.payload, e.c.event_id, e.c.correlation_id)
# Where UPDATE ... FROM may return the joined row (PostgreSQL): claim and read the event in one statement.
_CLAIM_WITH_EVENT = _CLAIM.where(e.c.position == d.c.event_position).returning(d.c.subscriber, *_EVENT_COLUMNS)
# Elsewhere (SQLite): claim, then read the event.
_CLAIM_ONLY = _CLAIM.returning(d.c.subscriber, d.c.event_position)
_EVENT = select(*_EVENT_COLUMNS).where(e.c.position == bindparam("position"))


class Outcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"  # already done, dead, or unknown: a repeat
    FAILED = "failed"
    DEAD = "dead"


def consume_delivery(
    session_factory: sessionmaker[Session],
    registry: SubscriberRegistry,
    clock: Clock,
    policy: RetryPolicy,
    delivery_id: int,
    connection: Connection | None = None,
) -> Outcome:
    """Handle one delivery exactly once.

    In one transaction: mark the delivery done (only if it is still pending or sent; on PostgreSQL the
    row lock makes a concurrent repeat wait and then find it done), run the subscriber's handler, commit.
    If the handler raises, nothing of its work stays; the failure is counted in a second transaction
    and the delivery is retried after a back-off, or declared dead after the policy's last attempt.

    ``connection``: an idle connection to work on instead of one from the pool (a worker thread keeps
    one from delivery to delivery). Should it turn out to be broken, the delivery is handled again on a
    fresh connection from the pool, as the pool's check on checkout would have done, and no failure is
    counted: the transaction on the lost connection did not commit - or did, and the repeat is skipped.
    """
    if connection is not None:
        try:
            return _consume(partial(session_factory, bind=connection), registry, clock, delivery_id)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                return _record_failure(session_factory, clock, policy, delivery_id, exc)
            log.warning("delivery.connection_lost", delivery_id=delivery_id, error=str(exc.orig))
        except Exception as exc:
            return _record_failure(session_factory, clock, policy, delivery_id, exc)
    try:
        return _consume(session_factory, registry, clock, delivery_id)
    except Exception as exc:  # the handler's failure is data for the ledger, not a crash of the worker
        return _record_failure(session_factory, clock, policy, delivery_id, exc)


def _consume(
    session_factory: Callable[[], Session], registry: SubscriberRegistry, clock: Clock, delivery_id: int
) -> Outcome:
    with session_factory() as session, session.begin():
        claimed = _claim(session.connection(), delivery_id, clock.now())
        if claimed is None:
            if _stdlib_log.isEnabledFor(logging.DEBUG):
                log.debug("delivery.skipped", delivery_id=delivery_id)
            return Outcome.SKIPPED
        subscriber, stored = claimed
        with structlog.contextvars.bound_contextvars(
            event_id=stored.event_id,
            event_type=stored.event_type,
            subscriber=subscriber,
            request_id=stored.correlation_id,
        ):
            event = decode_event(stored.event_type, stored.version, stored.payload)
            handler = registry.handler_for(subscriber, stored.event_type, stored.version)
            handler(session, event)
            if _stdlib_log.isEnabledFor(logging.DEBUG):
                log.debug("delivery.done", delivery_id=delivery_id)
    return Outcome.DONE


def _claim(connection: Connection, delivery_id: int, now: datetime) -> tuple[str, Any] | None:
    """Mark the delivery done if it is deliverable: its subscriber and stored event, or ``None`` (a repeat)."""
    parameters = {"delivery_id": delivery_id, "now": now}
    if connection.dialect.name == "postgresql":
        row = connection.execute(_CLAIM_WITH_EVENT, parameters).first()
        return None if row is None else (row.subscriber, row)
    claimed = connection.execute(_CLAIM_ONLY, parameters).first()
    if claimed is None:
        return None
    return claimed.subscriber, connection.execute(_EVENT, {"position": claimed.event_position}).one()


def _record_failure(
    session_factory: sessionmaker[Session],
    clock: Clock,
    policy: RetryPolicy,
    delivery_id: int,
    exc: Exception,
) -> Outcome:
    error = f"{type(exc).__name__}: {exc}"[:_ERROR_TEXT_LIMIT]
    with session_factory() as session, session.begin():
        row = session.execute(
            select(d.c.attempts, d.c.event_id, d.c.subscriber)
            .where(d.c.id == delivery_id, d.c.status.in_(_DELIVERABLE))
            .with_for_update()
        ).first()
        if row is None:
            # Done by a concurrent repeat in the meantime, or dead already: nothing to count.
            return Outcome.SKIPPED
        status, delay = policy.after_failure(row.attempts)
        now = clock.now()
        session.execute(
            update(d)
            .where(d.c.id == delivery_id)
            .values(
                status=status.value,
                attempts=row.attempts + 1,
                last_error=error,
                available_at=now + timedelta(seconds=delay),
            )
        )
    log_fields = {
        "delivery_id": delivery_id,
        "event_id": row.event_id,
        "subscriber": row.subscriber,
        "attempts": row.attempts + 1,
        "error": error,
    }
    if status is DeliveryStatus.DEAD:
        log.error("delivery.dead", **log_fields)
        return Outcome.DEAD
    log.warning("delivery.failed", retry_in_seconds=delay, **log_fields)
    return Outcome.FAILED
