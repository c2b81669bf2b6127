"""Queues per subscriber, the relay's cap on deliveries in flight, batches, and redelivery that leaves
queued messages alone - on the configured backend (in-process broker, or Redis)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from linzhang.bootstrap import Container, bootstrap
from linzhang.bus import SubscriberRegistry, publish
from linzhang.bus.tables import deliveries_table as d
from linzhang.clock import FixedClock
from linzhang.contracts import Event
from linzhang.settings import Settings
from tests.conftest import ON_POSTGRES, make_settings
from tests.support.bus import (
    FailingSwitch,
    SampleRecorded,
    batch_recording_handler,
    create_effects_table,
    delivery_statuses,
    drain,
    effect_counts,
    effects,
    recording_handler,
    running_worker,
)


class UrgentRecorded(Event):
    """A test event only the urgent subscriber takes."""

    key: str


def publish_samples(container: Container, count: int, prefix: str = "k") -> list[SampleRecorded]:
    events = [SampleRecorded(key=f"{prefix}{i}") for i in range(count)]
    with container.session_factory() as session, session.begin():
        publish(session, *events)
    return events


def statuses_of(container: Container, subscriber: str) -> dict[str, int]:
    with container.engine.connect() as connection:
        rows = connection.execute(select(d.c.status).where(d.c.subscriber == subscriber)).scalars().all()
    counted: dict[str, int] = {}
    for status in rows:
        counted[status] = counted.get(status, 0) + 1
    return counted


@pytest.fixture
def make_container(settings: Settings) -> Iterator[object]:
    made: list[Container] = []

    def make(registry: SubscriberRegistry, clock: FixedClock | None = None, **bus: object) -> Container:
        bus_settings = {"queue_name": settings.bus.queue_name, **bus}
        container = bootstrap(
            make_settings(settings.database.url, settings.var_path, bus=bus_settings),
            registry=registry,
            bus_clock=clock,
        )
        create_effects_table(container.engine)
        made.append(container)
        return container

    yield make
    for container in made:
        container.bus.broker.flush_all()
        container.close()


def two_subscribers() -> SubscriberRegistry:
    registry = SubscriberRegistry()
    registry.subscribe("test.first", SampleRecorded, recording_handler("test.first"))
    registry.subscribe("test.second", SampleRecorded, recording_handler("test.second"))
    return registry


def test_each_subscribers_deliveries_wait_in_a_queue_of_their_own(make_container) -> None:  # type: ignore[no-untyped-def]
    container: Container = make_container(two_subscribers())
    events = publish_samples(container, 3)

    assert container.bus.relay_all() == 6

    for subscriber in ("test.first", "test.second"):
        assert container.bus.queue_name(subscriber) == f"{container.settings.bus.queue_name}.{subscriber}"
        assert container.bus.waiting(subscriber) == {f"{event.event_id}:{subscriber}" for event in events}


def test_a_worker_consumes_only_the_queues_it_is_given(make_container) -> None:  # type: ignore[no-untyped-def]
    container: Container = make_container(two_subscribers())
    events = publish_samples(container, 3)
    container.bus.relay_all()

    worker = container.bus.start_worker(2, subscribers=["test.first"])
    try:
        deadline = time.monotonic() + 10
        while statuses_of(container, "test.first") != {"done": 3}:
            assert time.monotonic() < deadline, statuses_of(container, "test.first")
            time.sleep(0.02)
        time.sleep(0.3)  # time enough for the other queue's messages, were they consumed
    finally:
        worker.stop()

    assert statuses_of(container, "test.second") == {"sent": 3}
    assert effect_counts(container.engine) == {(str(e.event_id), "test.first"): 1 for e in events}


def test_the_relay_keeps_each_subscriber_under_its_cap_of_deliveries_in_flight(make_container) -> None:  # type: ignore[no-untyped-def]
    container: Container = make_container(two_subscribers(), max_in_flight=3)
    publish_samples(container, 10)

    assert container.bus.relay_all() == 6
    assert statuses_of(container, "test.first") == {"sent": 3, "pending": 7}
    assert statuses_of(container, "test.second") == {"sent": 3, "pending": 7}

    drain(container)  # as deliveries are done, the relay sends more, never above the cap
    assert delivery_statuses(container.engine) == {"done": 20}


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="SQLite has one write lock: every delivery's transaction waits its turn behind the backlog's batches, "
    "so separate queues cannot bound an urgent delivery's wait there; the embedded mode's limit, measured on "
    "PostgreSQL in the second pass",
)
def test_a_sweeps_backlog_does_not_hold_up_an_urgent_subscriber(make_container) -> None:  # type: ignore[no-untyped-def]
    registry = SubscriberRegistry()
    handled = recording_handler("test.backlog")

    def slow(session: Session, event: Event) -> None:
        handled(session, event)
        time.sleep(0.005)

    def urgent(session: Session, event: Event) -> None:
        assert isinstance(event, UrgentRecorded)
        session.execute(insert(effects).values(event_id=str(event.event_id), subscriber="test.urgent", payload="u"))

    registry.subscribe("test.backlog", SampleRecorded, slow)
    registry.subscribe("test.urgent", UrgentRecorded, urgent)
    # No cap to speak of: every backlog message is in the broker before the urgent one.
    container: Container = make_container(registry, max_in_flight=10_000, urgent_subscribers="test.urgent")
    publish_samples(container, 600)

    with running_worker(container, threads=2):
        assert container.bus.relay_all() == 600
        with container.session_factory() as session, session.begin():
            publish(session, UrgentRecorded(key="now"))
        container.bus.relay_all()
        before = statuses_of(container, "test.backlog").get("done", 0)
        deadline = time.monotonic() + 30
        while statuses_of(container, "test.urgent") != {"done": 1}:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        after = statuses_of(container, "test.backlog").get("done", 0)

    # Not behind the hundreds of backlog messages sent before it (one shared queue: ~600 would go first),
    # only behind some of those already in the workers' hands, however slow the machine.
    assert after - before < 300, (before, after)
    assert after < 600, (before, after)


def test_redelivery_leaves_a_message_still_waiting_in_its_queue_alone(make_container) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(datetime(2021, 3, 1, tzinfo=UTC))
    container: Container = make_container(two_subscribers(), clock=clock)
    timeout = container.settings.bus.redelivery_timeout_seconds
    (event,) = publish_samples(container, 1)
    assert container.bus.relay_all() == 2

    clock.advance(timedelta(seconds=timeout + 1))  # no worker ran: the messages are queued, not lost
    assert container.bus.requeue_stale() == 0
    with container.engine.connect() as connection:
        rows = connection.execute(select(d.c.status, d.c.sends, d.c.sent_at)).all()
    assert {(row.status, row.sends) for row in rows} == {("sent", 1)}
    assert {row.sent_at for row in rows} == {clock.now()}  # the timeout counts again from this scan

    container.bus.broker.flush_all()  # now they are lost
    clock.advance(timedelta(seconds=timeout - 1))
    assert container.bus.requeue_stale() == 0
    clock.advance(timedelta(seconds=2))
    assert container.bus.requeue_stale() == 2

    drain(container)
    assert effect_counts(container.engine) == {(str(event.event_id), s): 1 for s in ("test.first", "test.second")}


def batching_registry(switch: FailingSwitch, poison: str | None = None) -> SubscriberRegistry:
    registry = SubscriberRegistry()
    one = recording_handler("test.batched")
    many = batch_recording_handler("test.batched", switch)

    def handle(session: Session, event: Event) -> None:
        assert isinstance(event, SampleRecorded)
        if event.key == poison:
            raise RuntimeError("poisoned")
        one(session, event)

    def handle_many(session: Session, events: Sequence[Event]) -> None:
        if any(isinstance(event, SampleRecorded) and event.key == poison for event in events):
            switch.batches += 1
            raise RuntimeError("poisoned")
        many(session, events)

    registry.subscribe("test.batched", SampleRecorded, handle)
    registry.subscribe_batch("test.batched", handle_many)
    return registry


def test_a_subscriber_that_takes_batches_does_several_deliveries_per_transaction(make_container) -> None:  # type: ignore[no-untyped-def]
    switch = FailingSwitch()
    container: Container = make_container(batching_registry(switch), consume_batch_size=10)
    events = publish_samples(container, 60)

    drain(container)

    assert effect_counts(container.engine) == {(str(e.event_id), "test.batched"): 1 for e in events}
    assert delivery_statuses(container.engine) == {"done": 60}
    # Most deliveries travelled in batches (the first of each batch is the message in hand).
    assert 1 <= switch.batches <= 30
    assert switch.batched_events >= 45


def test_a_failing_delivery_does_not_poison_its_batch(make_container) -> None:  # type: ignore[no-untyped-def]
    switch = FailingSwitch()
    container: Container = make_container(
        batching_registry(switch, poison="k3"), consume_batch_size=10, max_attempts=1, retry_backoff_seconds=0.0
    )
    events = publish_samples(container, 20)

    drain(container)

    poisoned = str(events[3].event_id)
    assert effect_counts(container.engine) == {
        (str(e.event_id), "test.batched"): 1 for e in events if str(e.event_id) != poisoned
    }
    with container.engine.connect() as connection:
        rows = connection.execute(select(d.c.event_id, d.c.status, d.c.attempts)).all()
    assert {(row.status, row.attempts) for row in rows if row.event_id == poisoned} == {("dead", 1)}
    assert {(row.status, row.attempts) for row in rows if row.event_id != poisoned} == {("done", 0)}
