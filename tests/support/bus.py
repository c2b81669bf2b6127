"""A sample event, subscribers that record their effects in tables of their own, and a drain helper."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from linzhang.bootstrap import Container
from linzhang.bus.tables import deliveries_table
from linzhang.contracts import Event

effects_metadata = MetaData()
# No unique constraint on purpose: a duplicate effect must be visible, not silently refused.
effects = Table(
    "test_effects",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("subscriber", String(100), nullable=False),
    Column("payload", String(200), nullable=False),
)
# The publishing service's own state: a row changed in the transaction that publishes the event.
changes = Table(
    "test_changes",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
)
# Every start of a handler, committed on its own connection: it survives a handler that never commits.
attempts = Table(
    "test_attempts",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("subscriber", String(100), nullable=False),
    Column("started_at", Float, nullable=False),  # time.time() of the handler's start
)


class SampleRecorded(Event):
    """A test event."""

    key: str


class FailingSwitch:
    """A handler's failure mode that tests flip on and off."""

    def __init__(self) -> None:
        self.failing = False
        self.calls = 0
        self.batches = 0
        self.batched_events = 0


def recording_handler(subscriber: str, switch: FailingSwitch | None = None):  # type: ignore[no-untyped-def]
    def handle(session: Session, event: Event) -> None:
        assert isinstance(event, SampleRecorded)
        if switch is not None:
            switch.calls += 1
            if switch.failing:
                # Write first, then fail: the write must be rolled back with the failure.
                session.execute(
                    insert(effects).values(event_id=str(event.event_id), subscriber=subscriber, payload="x")
                )
                raise RuntimeError(f"{subscriber} is failing on purpose")
        session.execute(insert(effects).values(event_id=str(event.event_id), subscriber=subscriber, payload=event.key))

    return handle


def batch_recording_handler(subscriber: str, switch: FailingSwitch | None = None):  # type: ignore[no-untyped-def]
    """The batch form of :func:`recording_handler`: every event's effect in one statement."""

    def handle(session: Session, events: Sequence[Event]) -> None:
        assert all(isinstance(event, SampleRecorded) for event in events)
        rows = [{"event_id": str(e.event_id), "subscriber": subscriber, "payload": e.key} for e in events]  # type: ignore[attr-defined]
        if switch is not None:
            switch.batches += 1
            switch.batched_events += len(rows)
            if switch.failing:
                session.execute(insert(effects), rows)
                raise RuntimeError(f"{subscriber} is failing on purpose")
        session.execute(insert(effects), rows)

    return handle


def slow_handler(subscriber: str, seconds: float):  # type: ignore[no-untyped-def]
    """Records its start apart, writes its effect, then takes ``seconds``: a kill meanwhile loses the effect."""

    def handle(session: Session, event: Event) -> None:
        assert isinstance(event, SampleRecorded)
        with session.get_bind().engine.begin() as connection:
            connection.execute(
                insert(attempts).values(event_id=str(event.event_id), subscriber=subscriber, started_at=time.time())
            )
        session.execute(insert(effects).values(event_id=str(event.event_id), subscriber=subscriber, payload=event.key))
        time.sleep(seconds)

    return handle


def create_effects_table(engine: Engine) -> None:
    effects_metadata.create_all(engine, checkfirst=True)
    with engine.begin() as connection:
        connection.execute(effects.delete())
        connection.execute(attempts.delete())
        connection.execute(changes.delete())


def effect_counts(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(effects.c.event_id, effects.c.subscriber, func.count()).group_by(
                effects.c.event_id, effects.c.subscriber
            )
        ).all()
    return {(row[0], row[1]): row[2] for row in rows}


def attempt_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(attempts)).scalar_one()


def delivery_statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(deliveries_table.c.status, func.count()).group_by(deliveries_table.c.status)
        ).all()
    return {row[0]: row[1] for row in rows}


@contextmanager
def running_worker(container: Container, threads: int = 2) -> Iterator[None]:
    worker = container.bus.start_worker(threads)
    try:
        yield
    finally:
        worker.stop()


def drain(container: Container, timeout: float = 20.0, until: frozenset[str] = frozenset({"done", "dead"})) -> None:
    """Relay and let the workers run until every delivery is done or dead (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    with running_worker(container):
        while True:
            container.bus.relay_all()
            statuses = delivery_statuses(container.engine)
            if set(statuses) <= until:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"deliveries did not settle: {statuses}")
            time.sleep(0.02)
