"""The idempotent consumer: the subscriber's work and the delivery's ``done`` mark commit together."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection, and_, bindparam, or_, select, update
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


def _batch_ids(excluded: bool) -> Any:
    """Up to ``limit`` sent deliveries of the subscriber besides the one in hand (already claimed by the
    caller, so no longer deliverable), oldest first, none that another worker holds (``SKIP LOCKED``).

    Their messages are in the queue behind the one in hand; when they come, they find their deliveries
    done and are skipped.
    """
    more = d.alias("more")
    in_hand = more.c.id == bindparam("b_delivery_id")
    query = (
        select(more.c.id)
        .where(
            or_(
                and_(in_hand, more.c.status.in_(_DELIVERABLE)),
                and_(more.c.subscriber == bindparam("b_subscriber"), more.c.status == DeliveryStatus.SENT.value),
            )
        )
        .order_by(in_hand.desc(), more.c.id)
        .limit(bindparam("b_limit"))
        .with_for_update(skip_locked=True)
    )
    if excluded:
        query = query.where(or_(in_hand, more.c.id.not_in(bindparam("b_excluded", expanding=True))))
    return query.scalar_subquery()


def _claim_batch(excluded: bool, with_event: bool) -> Any:
    claim = (
        update(d)
        .where(d.c.id.in_(_batch_ids(excluded)))
        .values(status=DeliveryStatus.DONE.value, done_at=bindparam("now"), last_error=None)
    )
    if with_event:
        return claim.where(e.c.position == d.c.event_position).returning(d.c.id, *_EVENT_COLUMNS)
    return claim.returning(d.c.id, d.c.event_position)


_CLAIM_BATCH = {
    (excluded, with_event): _claim_batch(excluded, with_event)
    for excluded in (False, True)
    for with_event in (False, True)
}
_EVENTS = select(e.c.position, *_EVENT_COLUMNS).where(e.c.position.in_(bindparam("positions", expanding=True)))


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


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch did: the outcome of the delivery in hand, and every other delivery it marked done."""

    outcome: Outcome
    others_done: tuple[int, ...] = ()
    # Deliveries of a failed batch that failed alone too (their own messages will count the failure).
    failed_alone: tuple[int, ...] = ()


def consume_batch(
    session_factory: sessionmaker[Session],
    registry: SubscriberRegistry,
    clock: Clock,
    policy: RetryPolicy,
    subscriber: str,
    delivery_id: int,
    limit: int,
    connection: Connection | None = None,
    excluded: Collection[int] = (),
) -> BatchResult:
    """Handle ``delivery_id`` together with up to ``limit - 1`` more sent deliveries of ``subscriber``.

    The delivery in hand is claimed as :func:`consume_delivery` claims it (waiting for a transaction that
    holds it), then one statement claims the subscriber's oldest other sent deliveries that no other
    worker holds (``SKIP LOCKED``); the subscriber's batch handler applies all their events and the
    transaction commits. Each delivery is still done exactly once: the claim is a guarded update of
    deliverable rows. Should the batch fail, nothing of it stays and it is handled again one delivery at
    a time: the delivery in hand through :func:`consume_delivery` (its failure counted), every other one
    alone in a transaction of its own, left as it was if it fails (its own message counts the failure).
    ``excluded``: deliveries not to take into a batch besides the one in hand (they failed in one before).
    """
    handler = registry.batch_handler_for(subscriber)
    if handler is None or limit <= 1:
        return BatchResult(consume_delivery(session_factory, registry, clock, policy, delivery_id, connection))
    bind: Callable[[], Session] = session_factory if connection is None else partial(session_factory, bind=connection)
    claimed: list[int] = []
    try:
        with bind() as session, session.begin():
            connection_ = session.connection()
            now = clock.now()
            # The one in hand first, waiting for whoever holds it (the relay that sent it may not have
            # committed yet; a concurrent repeat finishes it): a repeat is skipped, as one at a time.
            first = _claim(connection_, delivery_id, now)
            if first is None:
                return BatchResult(Outcome.SKIPPED)
            others = _claim_many(connection_, subscriber, delivery_id, limit - 1, now, excluded)
            claimed = [delivery_id, *(row.id for row in others)]
            rows = [first[1], *others]
            events = [decode_event(row.event_type, row.version, row.payload) for row in rows]
            with structlog.contextvars.bound_contextvars(subscriber=subscriber, batch=len(events)):
                handler(session, events)
        if _stdlib_log.isEnabledFor(logging.DEBUG):
            log.debug("delivery.batch_done", subscriber=subscriber, deliveries=claimed)
        in_hand = delivery_id in claimed
        return BatchResult(Outcome.DONE if in_hand else Outcome.SKIPPED, tuple(i for i in claimed if i != delivery_id))
    except DBAPIError as exc:
        if connection is not None and exc.connection_invalidated:
            log.warning("delivery.connection_lost", delivery_id=delivery_id, error=str(exc.orig))
        else:
            log.warning("delivery.batch_failed", subscriber=subscriber, deliveries=len(claimed), error=str(exc))
    except Exception as exc:
        log.warning("delivery.batch_failed", subscriber=subscriber, deliveries=len(claimed), error=str(exc))
    # One at a time, each in a transaction of its own, on fresh connections from the pool. The one in hand
    # counts its failure; a delivery another worker holds is that worker's.
    outcome = (
        consume_delivery(session_factory, registry, clock, policy, delivery_id)
        if delivery_id in claimed or not claimed
        else Outcome.SKIPPED
    )
    others_done: list[int] = []
    failed_alone: list[int] = []
    for other in (i for i in claimed if i != delivery_id):
        try:
            if _consume(session_factory, registry, clock, other) is Outcome.DONE:
                others_done.append(other)
        except Exception as exc:  # left sent: its own message comes, fails again and counts the failure
            failed_alone.append(other)
            log.info("delivery.left_for_its_message", delivery_id=other, error=f"{type(exc).__name__}: {exc}")
    if outcome in (Outcome.FAILED, Outcome.DEAD):
        failed_alone.append(delivery_id)
    return BatchResult(outcome, tuple(others_done), tuple(failed_alone))


def _claim_many(
    connection: Connection, subscriber: str, delivery_id: int, limit: int, now: datetime, excluded: Collection[int]
) -> Sequence[Any]:
    """Mark the batch's other deliveries done; their ids and stored events."""
    parameters: dict[str, Any] = {
        "b_subscriber": subscriber,
        "b_delivery_id": delivery_id,
        "b_limit": limit,
        "now": now,
    }
    if excluded:
        parameters["b_excluded"] = list(excluded)
    if connection.dialect.name == "postgresql":
        return connection.execute(_CLAIM_BATCH[(bool(excluded), True)], parameters).all()
    claimed = connection.execute(_CLAIM_BATCH[(bool(excluded), False)], parameters).all()
    if not claimed:
        return []
    stored = {
        row.position: row for row in connection.execute(_EVENTS, {"positions": [c.event_position for c in claimed]})
    }
    return [_WithId(row.id, stored[row.event_position]) for row in claimed]


class _WithId:
    """A claimed delivery's id beside its stored event's columns (SQLite reads the two apart)."""

    __slots__ = ("event_id", "event_type", "id", "payload", "version")

    def __init__(self, delivery_id: int, event: Any) -> None:
        self.id = delivery_id
        self.event_type = event.event_type
        self.version = event.version
        self.payload = event.payload
        self.event_id = event.event_id
