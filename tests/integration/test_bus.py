"""The bus's guarantees on the configured backend (SQLite + in-process broker, or PostgreSQL + Redis)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from linzhang.bootstrap import Container, bootstrap
from linzhang.bus import DeliveryStatus, Outcome, SubscriberRegistry, consume_delivery, list_dead, publish, redrive
from linzhang.bus.tables import deliveries_table, events_table
from linzhang.clock import FixedClock
from linzhang.settings import Settings
from tests.conftest import make_settings
from tests.support.bus import (
    FailingSwitch,
    SampleRecorded,
    create_effects_table,
    delivery_statuses,
    drain,
    effect_counts,
    recording_handler,
)


@pytest.fixture
def switch() -> FailingSwitch:
    return FailingSwitch()


@pytest.fixture
def registry(switch: FailingSwitch) -> SubscriberRegistry:
    registry = SubscriberRegistry()
    registry.subscribe("test.first", SampleRecorded, recording_handler("test.first", switch))
    registry.subscribe("test.second", SampleRecorded, recording_handler("test.second"))
    return registry


@pytest.fixture
def container(container: Container) -> Container:
    create_effects_table(container.engine)
    return container


def publish_samples(container: Container, count: int, prefix: str = "k") -> list[SampleRecorded]:
    events = [SampleRecorded(key=f"{prefix}{i}") for i in range(count)]
    with container.session_factory() as session, session.begin():
        publish(session, *events)
    return events


def test_committed_event_is_handled_exactly_once_by_each_subscriber(container: Container) -> None:
    events = publish_samples(container, 5)

    drain(container)

    expected = {(str(e.event_id), s): 1 for e in events for s in ("test.first", "test.second")}
    assert effect_counts(container.engine) == expected
    assert delivery_statuses(container.engine) == {"done": 10}


def test_a_repeated_message_is_skipped(container: Container) -> None:
    (event,) = publish_samples(container, 1)
    drain(container)
    with container.engine.connect() as connection:
        ids = connection.execute(select(deliveries_table.c.id)).scalars().all()

    outcomes = [
        consume_delivery(container.session_factory, container.registry, container.clock, container.bus.policy, i)
        for i in ids
    ]

    assert outcomes == [Outcome.SKIPPED, Outcome.SKIPPED]
    assert effect_counts(container.engine) == {
        (str(event.event_id), "test.first"): 1,
        (str(event.event_id), "test.second"): 1,
    }


def test_concurrent_repeats_apply_the_effect_once(container: Container) -> None:
    (event,) = publish_samples(container, 1)
    with container.engine.connect() as connection:
        delivery_id = connection.execute(
            select(deliveries_table.c.id).where(deliveries_table.c.subscriber == "test.first")
        ).scalar_one()
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(6)

    def consume() -> None:
        barrier.wait()
        outcomes.append(
            consume_delivery(
                container.session_factory, container.registry, container.clock, container.bus.policy, delivery_id
            )
        )

    threads = [threading.Thread(target=consume) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == sorted([Outcome.DONE] + [Outcome.SKIPPED] * 5)
    assert effect_counts(container.engine) == {(str(event.event_id), "test.first"): 1}


def test_event_of_a_rolled_back_transaction_is_never_seen(container: Container) -> None:
    with container.session_factory() as session:
        session.begin()
        publish(session, SampleRecorded(key="ghost"))
        session.rollback()

    assert container.bus.relay_all() == 0
    with container.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(events_table)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(deliveries_table)).scalar_one() == 0
    assert effect_counts(container.engine) == {}


def test_an_event_without_subscribers_is_stored_for_the_feed_but_has_no_delivery(container: Container) -> None:
    class NobodyListens(SampleRecorded):
        event_type = "NobodyListensTest"

    with container.session_factory() as session, session.begin():
        publish(session, NobodyListens(key="x"))

    with container.engine.connect() as connection:
        assert connection.execute(select(events_table.c.event_type)).scalars().all() == ["NobodyListensTest"]
        assert connection.execute(select(func.count()).select_from(deliveries_table)).scalar_one() == 0


def test_failing_subscriber_is_retried_ends_dead_after_max_attempts_then_is_redriven(
    settings: Settings, registry: SubscriberRegistry, switch: FailingSwitch
) -> None:
    failing_settings = make_settings(
        settings.database.url,
        settings.var_path,
        bus={"max_attempts": 3, "retry_backoff_seconds": 0.0, "queue_name": settings.bus.queue_name},
    )
    container = bootstrap(failing_settings, registry=registry)
    create_effects_table(container.engine)
    try:
        switch.failing = True
        (event,) = publish_samples(container, 1)

        drain(container)

        assert switch.calls == 3
        assert delivery_statuses(container.engine) == {"dead": 1, "done": 1}
        (dead,) = list_dead(container.session_factory)
        assert dead.subscriber == "test.first"
        assert dead.attempts == 3
        assert dead.last_error is not None
        assert "failing on purpose" in dead.last_error
        # The failing handler's own writes were rolled back each time.
        assert effect_counts(container.engine) == {(str(event.event_id), "test.second"): 1}

        switch.failing = False
        assert redrive(container.session_factory, [dead.delivery_id]) == 1
        drain(container)

        assert delivery_statuses(container.engine) == {"done": 2}
        assert effect_counts(container.engine) == {
            (str(event.event_id), "test.first"): 1,
            (str(event.event_id), "test.second"): 1,
        }
        assert list_dead(container.session_factory) == []
    finally:
        container.bus.broker.flush_all()
        container.close()


def test_failure_waits_out_its_backoff_before_it_is_sent_again(
    settings: Settings, registry: SubscriberRegistry, switch: FailingSwitch
) -> None:
    clock = FixedClock(datetime(2021, 3, 1, tzinfo=UTC))
    backoff_settings = make_settings(
        settings.database.url,
        settings.var_path,
        bus={"max_attempts": 5, "retry_backoff_seconds": 30.0, "queue_name": settings.bus.queue_name},
    )
    container = bootstrap(backoff_settings, registry=registry, bus_clock=clock)
    create_effects_table(container.engine)
    try:
        switch.failing = True
        publish_samples(container, 1)
        with container.engine.connect() as connection:
            first_id = connection.execute(
                select(deliveries_table.c.id).where(deliveries_table.c.subscriber == "test.first")
            ).scalar_one()
        container.bus.relay_all()
        assert (
            consume_delivery(container.session_factory, registry, clock, container.bus.policy, first_id)
            is Outcome.FAILED
        )

        clock.advance(timedelta(seconds=29))
        assert container.bus.relay_all() == 0  # still backing off
        clock.advance(timedelta(seconds=2))
        assert container.bus.relay_all() == 1
    finally:
        container.bus.broker.flush_all()
        container.close()


def test_sent_but_never_done_is_sent_again_after_the_timeout(settings: Settings, registry: SubscriberRegistry) -> None:
    clock = FixedClock(datetime(2021, 3, 1, tzinfo=UTC))
    container = bootstrap(settings, registry=registry, bus_clock=clock)
    create_effects_table(container.engine)
    try:
        (event,) = publish_samples(container, 1)
        assert container.bus.relay_all() == 2
        container.bus.broker.flush_all()  # the broker loses the messages

        clock.advance(timedelta(seconds=settings.bus.redelivery_timeout_seconds - 1))
        assert container.bus.requeue_stale() == 0
        clock.advance(timedelta(seconds=2))
        assert container.bus.requeue_stale() == 2

        drain(container)
        assert effect_counts(container.engine) == {
            (str(event.event_id), "test.first"): 1,
            (str(event.event_id), "test.second"): 1,
        }
        with container.engine.connect() as connection:
            sends = connection.execute(select(deliveries_table.c.sends)).scalars().all()
        assert sends == [2, 2]
    finally:
        container.bus.broker.flush_all()
        container.close()


def test_dead_delivery_is_not_revived_by_a_late_message(container: Container, switch: FailingSwitch) -> None:
    publish_samples(container, 1)
    with container.session_factory() as session, session.begin():
        session.execute(
            deliveries_table.update()
            .where(deliveries_table.c.subscriber == "test.first")
            .values(status=DeliveryStatus.DEAD.value, attempts=5)
        )
        delivery_id = session.execute(
            select(deliveries_table.c.id).where(deliveries_table.c.subscriber == "test.first")
        ).scalar_one()

    outcome = consume_delivery(
        container.session_factory, container.registry, container.clock, container.bus.policy, delivery_id
    )

    assert outcome is Outcome.SKIPPED
    assert switch.calls == 0
