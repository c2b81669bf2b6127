"""Retention: old events and done deliveries are purged; what is still owed stays; the feed's horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from linzhang.bootstrap import Container
from linzhang.bus import Outcome, SubscriberRegistry, consume_delivery, publish
from linzhang.bus.retention import feed_reach, purge
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.bus.tables import horizon_table as h
from linzhang.clock import FixedClock
from linzhang.settings import RetentionSettings
from tests.support.bus import SampleRecorded, create_effects_table, drain, effect_counts, recording_handler

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KEEP = RetentionSettings(events_days=30, done_deliveries_days=7, batch_size=2)


@pytest.fixture
def registry() -> SubscriberRegistry:
    registry = SubscriberRegistry()
    registry.subscribe("test.first", SampleRecorded, recording_handler("test.first"))
    registry.subscribe("test.second", SampleRecorded, recording_handler("test.second"))
    return registry


@pytest.fixture
def container(container: Container) -> Container:
    create_effects_table(container.engine)
    return container


def publish_aged(container: Container, ages_days: list[float]) -> list[int]:
    """One event per age (days before NOW), in that order; answers their positions."""
    positions = []
    for age in ages_days:
        with container.session_factory() as session, session.begin():
            publish(session, SampleRecorded(key=f"age-{age}"))
            position = session.execute(select(e.c.position).order_by(e.c.position.desc()).limit(1)).scalar_one()
            session.execute(update(e).where(e.c.position == position).values(occurred_at=NOW - timedelta(days=age)))
        positions.append(position)
    return positions


def kept_positions(container: Container) -> list[int]:
    with container.engine.connect() as connection:
        return list(connection.execute(select(e.c.position).order_by(e.c.position)).scalars())


def delivery_positions(container: Container) -> set[int]:
    with container.engine.connect() as connection:
        return set(connection.execute(select(d.c.event_position)).scalars())


def finish_deliveries(container: Container, done_days_ago: float = 1) -> None:
    drain(container)
    with container.engine.begin() as connection:
        connection.execute(update(d).values(done_at=NOW - timedelta(days=done_days_ago)))


def test_events_older_than_the_kept_age_go_with_their_deliveries(container: Container) -> None:
    positions = publish_aged(container, [90, 60, 31, 29, 1])
    finish_deliveries(container)

    report = purge(container.session_factory, FixedClock(NOW), KEEP)

    assert kept_positions(container) == positions[3:]
    assert delivery_positions(container) == set(positions[3:])
    assert (report.events, report.deliveries, report.horizon) == (3, 6, positions[2])
    with container.session_factory() as session:
        reach = feed_reach(session)
    assert (reach.purged_through, reach.oldest) == (positions[2], positions[3])


def test_an_event_still_owed_to_a_subscriber_is_kept_and_so_is_everything_after_it(container: Container) -> None:
    positions = publish_aged(container, [90, 80, 70, 1])
    finish_deliveries(container)
    for status in ("pending", "sent", "dead"):
        with container.engine.begin() as connection:
            connection.execute(
                update(d)
                .where(d.c.event_position == positions[1], d.c.subscriber == "test.second")
                .values(status=status, done_at=None)
            )

        purge(container.session_factory, FixedClock(NOW), KEEP)

        assert kept_positions(container) == positions[1:], status
        with container.session_factory() as session:
            assert feed_reach(session).purged_through == positions[0]


def test_done_deliveries_go_after_their_own_age_and_a_late_repeat_is_skipped(container: Container) -> None:
    (position,) = publish_aged(container, [2])
    finish_deliveries(container, done_days_ago=8)
    with container.engine.connect() as connection:
        delivery_ids = list(connection.execute(select(d.c.id)).scalars())

    report = purge(container.session_factory, FixedClock(NOW), KEEP)

    assert (report.events, report.deliveries) == (0, 2)
    assert kept_positions(container) == [position]
    assert delivery_positions(container) == set()
    effects_before = effect_counts(container.engine)
    for delivery_id in delivery_ids:
        outcome = consume_delivery(
            container.session_factory, container.registry, container.clock, container.bus.policy, delivery_id
        )
        assert outcome is Outcome.SKIPPED
    assert effect_counts(container.engine) == effects_before


def test_the_newest_event_stays_even_when_old_so_positions_never_restart(container: Container) -> None:
    positions = publish_aged(container, [90, 80])
    finish_deliveries(container)

    purge(container.session_factory, FixedClock(NOW), KEEP)
    assert kept_positions(container) == positions[1:]
    (later,) = publish_aged(container, [0])

    assert later > positions[1]


def test_recent_done_deliveries_and_recent_events_stay(container: Container) -> None:
    positions = publish_aged(container, [29, 3])
    finish_deliveries(container, done_days_ago=6)

    report = purge(container.session_factory, FixedClock(NOW), KEEP)

    assert (report.events, report.deliveries, report.horizon) == (0, 0, 0)
    assert kept_positions(container) == positions
    assert delivery_positions(container) == set(positions)


def test_an_old_event_behind_a_younger_one_waits_for_it(container: Container) -> None:
    # Positions follow commits, times follow each server's clock: a young event may come first.
    positions = publish_aged(container, [90, 1, 90, 0])
    finish_deliveries(container)

    report = purge(container.session_factory, FixedClock(NOW), KEEP)

    assert (report.events, report.horizon) == (1, positions[0])
    assert kept_positions(container) == positions[1:]


def test_the_horizon_never_moves_back(container: Container) -> None:
    positions = publish_aged(container, [90, 80, 1])
    finish_deliveries(container)
    purge(container.session_factory, FixedClock(NOW), KEEP)
    # A later purge with a longer kept age (or a second scheduler with older settings) finds less to do.
    purge(container.session_factory, FixedClock(NOW), RetentionSettings(events_days=365))
    with container.session_factory() as session:
        assert feed_reach(session).purged_through == positions[1]


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=60), st.sampled_from(["done", "pending", "sent", "dead"])),
        min_size=1,
        max_size=8,
    )
)
def test_purge_keeps_every_owed_delivery_and_a_clean_prefix(
    container: Container, history: list[tuple[int, str]]
) -> None:
    with container.engine.begin() as connection:
        connection.execute(d.delete())
        connection.execute(e.delete())
        connection.execute(h.delete())
    positions = publish_aged(container, [age for age, _ in history])
    with container.engine.begin() as connection:
        for position, (_age, status) in zip(positions, history, strict=True):
            connection.execute(
                update(d)
                .where(d.c.event_position == position)
                .values(status=status, done_at=NOW - timedelta(days=1) if status == "done" else None)
            )

    purge(container.session_factory, FixedClock(NOW), KEEP)

    kept = kept_positions(container)
    with container.session_factory() as session:
        horizon = feed_reach(session).purged_through
    owed = [p for p, (_age, status) in zip(positions, history, strict=True) if status != "done"]
    # Nothing owed is purged, nor the newest event; the purged events are exactly a prefix, each older
    # than the kept age.
    assert set(owed) <= set(kept)
    assert positions[-1] in kept
    assert set(owed) <= delivery_positions(container)
    assert kept == [p for p in positions if p > horizon]
    for position, (age, _status) in zip(positions, history, strict=True):
        if position <= horizon:
            assert age > KEEP.events_days
