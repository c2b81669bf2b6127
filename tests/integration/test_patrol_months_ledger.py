"""The assessments keep each closed patrol month once, with the codes of every level above it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.contracts import decode_event, encode_event
from linzhang.contracts.patrols import PatrolMonthClosed
from linzhang.domains.assessments.ledger import on_patrol_month_closed
from linzhang.domains.assessments.tables import patrol_months_table
from linzhang.settings import Settings
from tests.support.world import seeded_world

NOW = dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC)


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    with seeded_world(settings, registry, FixedClock(NOW), {}) as container:
        yield container


def closed(month: int, valid: int, **change: object) -> PatrolMonthClosed:
    values: dict[str, object] = {
        "person_kind": "ranger",
        "person_id": 7,
        "person_name": "李护林",
        "post": "ranger",
        "jurisdiction_code": "500101001001",
        "path": "/50/500101/500101001/500101001001/",
        "year": 2026,
        "month": month,
        "valid_days": valid,
        "required_days": 20,
    }
    values.update(change)
    return PatrolMonthClosed(**values)  # type: ignore[arg-type]


def test_a_person_month_is_kept_once_with_its_levels_and_last_day(world: Container) -> None:
    event = closed(12, 18)
    assert decode_event("PatrolMonthClosed", 1, encode_event(event)) == event
    with world.transaction() as session:
        on_patrol_month_closed(session, event)
        on_patrol_month_closed(session, event)  # delivered twice
        on_patrol_month_closed(session, closed(12, 3))  # told again under another id: the first stands
        on_patrol_month_closed(session, closed(11, 20, person_kind="chief"))  # another person (a chief 7)
    with world.reading() as session:
        rows = session.execute(select(patrol_months_table).order_by(patrol_months_table.c.person_kind)).all()
    assert [(r.person_kind, r.month, r.month_end, r.valid_days) for r in rows] == [
        ("chief", 11, dt.date(2026, 11, 30), 20),
        ("ranger", 12, dt.date(2026, 12, 31), 18),
    ]
    ranger = rows[1]
    assert (ranger.city_code, ranger.district_code, ranger.township_code, ranger.village_code) == (
        "50",
        "500101",
        "500101001",
        "500101001001",
    )
    assert (ranger.person_name, ranger.post, ranger.required_days) == ("李护林", "ranger", 20)
