"""The idempotent consumer: the subscriber's work and the delivery's ``done`` mark commit together."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DELIVERABLE, DeliveryStatus, RetryPolicy
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.clock import Clock
from linzhang.contracts import decode_event

log = structlog.get_logger("linzhang.bus")

_DELIVERABLE = [status.value for status in DELIVERABLE]
_ERROR_TEXT_LIMIT = 4000


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
) -> Outcome:
    """Handle one delivery exactly once.

    In one transaction: mark the delivery done (only if it is still pending or sent; on PostgreSQL the
    row lock makes a concurrent repeat wait and then find it done), run the subscriber's handler, commit.
    If the handler raises, nothing of its work stays; the failure is counted in a second transaction
    and the delivery is retried after a back-off, or declared dead after the policy's last attempt.
    """
    try:
        with session_factory() as session, session.begin():
            claimed = session.execute(
                update(d)
                .where(d.c.id == delivery_id, d.c.status.in_(_DELIVERABLE))
                .values(status=DeliveryStatus.DONE.value, done_at=clock.now(), last_error=None)
                .returning(d.c.subscriber, d.c.event_position)
            ).first()
            if claimed is None:
                log.debug("delivery.skipped", delivery_id=delivery_id)
                return Outcome.SKIPPED
            subscriber, position = claimed
            stored = session.execute(
                select(e.c.event_type, e.c.version, e.c.payload, e.c.event_id, e.c.correlation_id).where(
                    e.c.position == position
                )
            ).one()
            with structlog.contextvars.bound_contextvars(
                event_id=stored.event_id,
                event_type=stored.event_type,
                subscriber=subscriber,
                request_id=stored.correlation_id,
            ):
                event = decode_event(stored.event_type, stored.version, stored.payload)
                handler = registry.handler_for(subscriber, stored.event_type, stored.version)
                handler(session, event)
                log.debug("delivery.done", delivery_id=delivery_id)
        return Outcome.DONE
    except Exception as exc:  # the handler's failure is data for the ledger, not a crash of the worker
        return _record_failure(session_factory, clock, policy, delivery_id, exc)


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
