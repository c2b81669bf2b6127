"""Draining the ledger in the calling thread (the demo's loader): every delivery done exactly once,
many per transaction, a failing chunk handled one delivery at a time with each failure counted."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from linzhang.bootstrap import Container
from linzhang.bus import SubscriberRegistry, publish
from linzhang.bus.drain import drain
from linzhang.bus.tables import deliveries_table
from linzhang.contracts import Event
from tests.support.bus import (
    FailingSwitch,
    SampleRecorded,
    batch_recording_handler,
    create_effects_table,
    delivery_statuses,
    effect_counts,
    recording_handler,
)

CHAINED = "test.chained"


class SampleEchoed(Event):
    """Published by a handler: the drain must go round again for it."""

    key: str


@pytest.fixture
def switch() -> FailingSwitch:
    return FailingSwitch()


@pytest.fixture
def registry(switch: FailingSwitch) -> SubscriberRegistry:
    registry = SubscriberRegistry()
    registry.subscribe("test.first", SampleRecorded, recording_handler("test.first", switch))
    registry.subscribe("test.batched", SampleRecorded, recording_handler("test.batched"))
    registry.subscribe_batch("test.batched", batch_recording_handler("test.batched", switch))

    def echo(session: Session, event: SampleRecorded) -> None:
        publish(session, SampleEchoed(key=event.key))

    registry.subscribe(CHAINED, SampleRecorded, echo)
    registry.subscribe("test.echoes", SampleEchoed, lambda _session, _event: None)
    return registry


@pytest.fixture
def container(container: Container) -> Container:
    create_effects_table(container.engine)
    return container


def _publish(container: Container, count: int) -> list[SampleRecorded]:
    events = [SampleRecorded(key=f"k{i}") for i in range(count)]
    with container.transaction() as session:
        publish(session, *events)
    return events


def _attempts(engine: Engine, subscriber: str) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(deliveries_table.c.attempts).where(deliveries_table.c.subscriber == subscriber)
            ).scalars()
        )


def test_every_delivery_is_handled_once_in_chunks_and_published_events_follow(
    container: Container, switch: FailingSwitch
) -> None:
    events = _publish(container, 23)
    bus = container.bus

    handled = drain(bus.session_factory, bus.registry, bus.clock, bus.policy, chunk=5)

    # 23 events x 3 subscribers, then the 23 events the chained subscriber published, for their subscriber.
    assert handled == 23 * 3 + 23
    assert delivery_statuses(container.engine) == {"done": 23 * 4}
    assert effect_counts(container.engine) == {
        (str(event.event_id), subscriber): 1 for event in events for subscriber in ("test.first", "test.batched")
    }
    # The batched subscriber took its deliveries five at a time, through its batch handler.
    assert switch.batches == 5
    assert switch.batched_events == 23
    # Nothing is left: a second drain finds nothing to do.
    assert drain(bus.session_factory, bus.registry, bus.clock, bus.policy) == 0


def test_a_failing_chunk_is_handled_one_delivery_at_a_time_and_each_failure_is_counted(
    container: Container, switch: FailingSwitch
) -> None:
    events = _publish(container, 4)
    bus = container.bus
    switch.failing = True

    drain(bus.session_factory, bus.registry, bus.clock, bus.policy, chunk=10)

    # The batch failed and its deliveries were handled again one at a time, by the one-event handler
    # (which works): done once each. The failing one-event subscriber wrote nothing; each of its deliveries
    # counts one failed attempt and waits out its back-off (the drain does not spin on it).
    assert effect_counts(container.engine) == {(str(event.event_id), "test.batched"): 1 for event in events}
    assert switch.batches == 1
    assert _attempts(container.engine, "test.first") == [1, 1, 1, 1]
    assert _attempts(container.engine, "test.batched") == [0, 0, 0, 0]
    assert delivery_statuses(container.engine) == {"pending": 4, "done": 4 + 4 + 4}

    # Once the handlers work again, what failed is handled exactly once.
    switch.failing = False
    with container.engine.begin() as connection:
        connection.execute(deliveries_table.update().values(available_at=None))
    drain(bus.session_factory, bus.registry, bus.clock, bus.policy)
    assert effect_counts(container.engine) == {
        (str(event.event_id), subscriber): 1 for event in events for subscriber in ("test.first", "test.batched")
    }
    assert delivery_statuses(container.engine) == {"done": 16}
