"""Stateful property test of the delivery ledger over the real database.

Whatever happens to messages in transit - sent, repeated, lost, handled while the subscriber fails,
resent after a timeout (or left alone while still queued), dead and re-driven, handled alone or in
batches that may fail part-way, relayed under a cap of deliveries in flight - the invariants hold after
every step:
an effect is applied at most once per (event, subscriber); a delivery is done exactly when its effect
is there; a rolled-back event leaves nothing; a dead delivery has used all its attempts. And once the
subscriber is healthy and time moves on, every committed event is applied exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import Engine, select

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry, consume_delivery, publish, redrive
from linzhang.bus.consumer import consume_batch
from linzhang.bus.ledger import message_id
from linzhang.bus.relay import OutgoingDelivery, relay_pending, requeue_stale
from linzhang.bus.tables import deliveries_table as d
from linzhang.clock import FixedClock
from tests.conftest import ON_POSTGRES, clean_database, make_settings
from tests.support.bus import (
    FailingSwitch,
    SampleRecorded,
    batch_recording_handler,
    create_effects_table,
    effect_counts,
    recording_handler,
)

MAX_ATTEMPTS = 3
REDELIVERY_TIMEOUT = 60.0
SUBSCRIBERS = ("prop.first", "prop.second")


def test_delivery_ledger_invariants(migrated_engine: Engine, database_url: str, tmp_path: Path) -> None:
    switch = FailingSwitch()
    registry = SubscriberRegistry()
    registry.subscribe(SUBSCRIBERS[0], SampleRecorded, recording_handler(SUBSCRIBERS[0], switch))
    registry.subscribe(SUBSCRIBERS[1], SampleRecorded, recording_handler(SUBSCRIBERS[1]))
    # The failing subscriber also takes batches: a failure then fails the batch it is in.
    registry.subscribe_batch(SUBSCRIBERS[0], batch_recording_handler(SUBSCRIBERS[0], switch))
    clock = FixedClock(datetime(2021, 1, 4, tzinfo=UTC))
    app_settings = make_settings(
        database_url,
        tmp_path,
        bus={
            "max_attempts": MAX_ATTEMPTS,
            "retry_backoff_seconds": 10.0,
            "redelivery_timeout_seconds": REDELIVERY_TIMEOUT,
        },
    )
    container = bootstrap(app_settings, registry=registry, bus_clock=clock)
    create_effects_table(container.engine)

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clean_database(container.engine)
            create_effects_table(container.engine)
            switch.failing = False
            self.in_transit: list[OutgoingDelivery] = []
            self.committed: set[str] = set()
            self.rolled_back: set[str] = set()

        def _send(self, deliveries: Sequence[OutgoingDelivery]) -> None:
            self.in_transit.extend(deliveries)

        @rule(count=st.integers(1, 3), commit=st.booleans())
        def publish_events(self, count: int, commit: bool) -> None:
            events = [SampleRecorded(key=f"k{i}") for i in range(count)]
            with container.session_factory() as session:
                session.begin()
                publish(session, *events)
                if commit:
                    session.commit()
                else:
                    session.rollback()
            (self.committed if commit else self.rolled_back).update(str(e.event_id) for e in events)

        @rule()
        def relay(self) -> None:
            relay_pending(container.session_factory, self._send, clock, batch_size=4)

        @precondition(lambda self: self.in_transit)
        @rule(data=st.data())
        def handle_one(self, data: st.DataObject) -> None:
            index = data.draw(st.integers(0, len(self.in_transit) - 1))
            message = self.in_transit.pop(index)
            consume_delivery(container.session_factory, registry, clock, container.bus.policy, message.delivery_id)

        @rule(cap=st.integers(1, 3))
        def relay_capped(self, cap: int) -> None:
            relay_pending(
                container.session_factory, self._send, clock, batch_size=4, subscribers=SUBSCRIBERS, max_in_flight=cap
            )

        @precondition(lambda self: self.in_transit)
        @rule(data=st.data(), limit=st.integers(2, 5))
        def handle_in_a_batch(self, data: st.DataObject, limit: int) -> None:
            index = data.draw(st.integers(0, len(self.in_transit) - 1))
            message = self.in_transit.pop(index)
            consume_batch(
                container.session_factory,
                registry,
                clock,
                container.bus.policy,
                message.subscriber,
                message.delivery_id,
                limit,
            )

        @precondition(lambda self: self.in_transit)
        @rule(data=st.data())
        def repeat_one(self, data: st.DataObject) -> None:
            self.in_transit.append(data.draw(st.sampled_from(self.in_transit)))

        @precondition(lambda self: self.in_transit)
        @rule(data=st.data())
        def lose_one(self, data: st.DataObject) -> None:
            self.in_transit.pop(data.draw(st.integers(0, len(self.in_transit) - 1)))

        @rule()
        def broker_forgets_everything(self) -> None:
            self.in_transit.clear()

        @rule()
        def toggle_subscriber_failure(self) -> None:
            switch.failing = not switch.failing

        @rule(seconds=st.sampled_from([1, 15, 45, 120]))
        def time_passes(self, seconds: int) -> None:
            clock.advance(timedelta(seconds=seconds))

        @rule()
        def redeliver(self) -> None:
            requeue_stale(container.session_factory, clock, REDELIVERY_TIMEOUT)

        @rule()
        def redeliver_what_is_not_queued(self) -> None:
            queued = {message_id(m.event_id, m.subscriber) for m in self.in_transit}
            requeue_stale(container.session_factory, clock, REDELIVERY_TIMEOUT, waiting=lambda _subscriber: queued)

        @rule()
        def redrive_dead(self) -> None:
            redrive(container.session_factory)

        def _rows(self) -> list[tuple[str, str, str, int, int]]:
            with container.engine.connect() as connection:
                return [
                    tuple(row)  # type: ignore[misc]
                    for row in connection.execute(
                        select(d.c.event_id, d.c.subscriber, d.c.status, d.c.attempts, d.c.sends)
                    )
                ]

        @invariant()
        def ledger_and_effects_agree(self) -> None:
            effects = effect_counts(container.engine)
            assert all(count == 1 for count in effects.values()), effects
            rows = self._rows()
            for event_id, subscriber, status, attempts, sends in rows:
                assert event_id in self.committed
                assert (status == "done") == ((event_id, subscriber) in effects)
                if status == "dead":
                    assert attempts == MAX_ATTEMPTS
                else:
                    assert attempts < MAX_ATTEMPTS
                if status in ("sent", "done"):
                    assert sends >= 1
            assert {key[0] for key in effects} <= self.committed
            assert len(rows) == len(self.committed) * len(SUBSCRIBERS)

        def teardown(self) -> None:
            # Heal and let time pass: every committed event must then be applied exactly once.
            switch.failing = False
            for _ in range(10):
                redrive(container.session_factory)
                clock.advance(timedelta(seconds=REDELIVERY_TIMEOUT * 10))
                requeue_stale(container.session_factory, clock, REDELIVERY_TIMEOUT)
                relay_pending(container.session_factory, self._send, clock, batch_size=1000)
                while self.in_transit:
                    message = self.in_transit.pop()
                    consume_delivery(
                        container.session_factory, registry, clock, container.bus.policy, message.delivery_id
                    )
                if all(row[2] == "done" for row in self._rows()):
                    break
            expected = {(event_id, subscriber): 1 for event_id in self.committed for subscriber in SUBSCRIBERS}
            assert effect_counts(container.engine) == expected

    try:
        run_state_machine_as_test(
            Ledger,
            settings=settings(
                max_examples=25 if ON_POSTGRES else 60,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        container.close()
