"""The inbox projection is indifferent to the order and the repetition of task events.

A village's issue goes open -> submitted (the township's 待核查 box) -> sent back -> submitted -> done,
and a summons (约谈) is planned and held, then another planned: whatever order the bus delivers these
events in, and however often, the inboxes end as they would after the events in their true order.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from linzhang.bus import SubscriberRegistry
from linzhang.container import Container
from linzhang.contracts import TaskSnapshot, TaskSummonsPlanned, TaskSummonsRecorded
from linzhang.domains.chiefs.inbox import sync_inbox, sync_summons
from linzhang.domains.chiefs.inbox_batch import sync_changes
from linzhang.domains.chiefs.tables import inbox_table as i
from linzhang.domains.chiefs.tables import revisions_table as r
from linzhang.settings import Settings
from tests.support.world import seeded_world

VILLAGE = "/50/500101/500101001/500101001001/"
NOW = dt.datetime(2021, 3, 1, 1, tzinfo=dt.UTC)
DUE = dt.date(2021, 3, 10)
STATUSES = ["open", "submitted", "open", "submitted", "open", "submitted", "done"]
KINDS = ["issue", "target"]


def snapshot(kind: str, revision: int, status: str) -> TaskSnapshot:
    return TaskSnapshot(
        task_id=1,
        revision=revision,
        kind=kind,
        title="松材线虫病疫木",
        category="pest_control",
        status=status,
        jurisdiction_code="500101001001",
        path=VILLAGE,
        holder_code="500101001001",
        holder_path=VILLAGE,
        holder_level="village",
        due_date=DUE,
        escalation_due_date=None,
        parent_id=None,
    )


def history(kind: str) -> list[Any]:
    """The task's events in their true order: status changes, then two summonses interleaved."""
    events: list[Any] = [("state", snapshot(kind, n, status)) for n, status in enumerate(STATUSES[:3], start=1)]
    plan = {
        "planned_by": "wanzhou",
        "summoning_code": "500101",
        "summoned_code": "500101001001",
        "summoned_path": VILLAGE,
    }
    events.append(
        (
            "summons",
            TaskSummonsPlanned(task=snapshot(kind, 4, "open"), summons_id=1, planned_on=DUE, place="区林长办", **plan),
        )
    )
    events.append(
        (
            "summons",
            TaskSummonsRecorded(
                task=snapshot(kind, 5, "open"),
                recorded_by="wanzhou",
                summoning_code="500101",
                held_on=DUE,
                note="责令限期整改",
                summons_id=1,
                summoned_code="500101001001",
            ),
        )
    )
    events.append(
        (
            "summons",
            TaskSummonsPlanned(
                task=snapshot(kind, 6, "open"),
                summons_id=2,
                planned_on=DUE + dt.timedelta(days=7),
                place="区政府",
                **plan,
            ),
        )
    )
    events += [("state", snapshot(kind, n, status)) for n, status in enumerate(STATUSES[4:6], start=7)]
    return events


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    from linzhang.clock import FixedClock

    with seeded_world(settings, registry, FixedClock(NOW), {}) as container:
        yield container


def clear(container: Container) -> None:
    with container.transaction() as session:
        session.execute(delete(i))
        session.execute(delete(r))


def items(container: Container) -> set[tuple[Any, ...]]:
    with container.reading() as session:
        rows = session.execute(
            select(i.c.box, i.c.reason, i.c.jurisdiction_code, i.c.open, i.c.status, i.c.deadline, i.c.summons_id)
        ).all()
    return {tuple(row) for row in rows}


def apply(container: Container, events: list[Any]) -> set[tuple[Any, ...]]:
    clear(container)
    for what, event in events:
        with container.transaction() as session:
            task = event if what == "state" else event.task
            sync_inbox(session, task, NOW)
            if what == "summons":
                sync_summons(session, event, NOW)
    return items(container)


def apply_in_batches(container: Container, events: list[Any], sizes: list[int]) -> set[tuple[Any, ...]]:
    """The events through the batch entry point the inbox's consumer uses, a batch per transaction."""
    clear(container)
    position = 0
    for size in itertools.cycle(sizes):
        if position >= len(events):
            break
        batch = events[position : position + size]
        with container.transaction() as session:
            sync_changes(session, [(e, None) if what == "state" else (e.task, e) for what, e in batch], NOW)
        position += size
    return items(container)


def test_submitted_work_waits_in_the_review_box_of_the_level_above(world: Container) -> None:
    final = apply(world, history("issue"))
    assert ("review", "verification", "500101001", True, "submitted", DUE, None) in final
    open_summons = [row for row in final if row[1] == "summons"]
    assert open_summons == [("todo", "summons", "500101001001", True, "submitted", DUE + dt.timedelta(days=7), 2)]
    target_final = apply(world, history("target"))
    assert ("review", "acceptance", "500101001", True, "submitted", DUE, None) in target_final


@pytest.mark.parametrize("kind", KINDS)
def test_any_order_and_any_repeats_end_the_same(world: Container, kind: str) -> None:
    events = history(kind)
    expected = apply(world, events)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.permutations(events), st.lists(st.sampled_from(events), max_size=4))
    def shuffled(order: list[Any], repeats: list[Any]) -> None:
        assert apply(world, [*order, *repeats]) == expected

    shuffled()


@pytest.mark.parametrize("kind", KINDS)
def test_batches_of_any_size_end_as_the_events_one_at_a_time(world: Container, kind: str) -> None:
    events = history(kind)
    expected = apply(world, events)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.permutations(events),
        st.lists(st.sampled_from(events), max_size=4),
        st.lists(st.integers(1, 5), min_size=1, max_size=4),
    )
    def batched(order: list[Any], repeats: list[Any], sizes: list[int]) -> None:
        assert apply_in_batches(world, [*order, *repeats], sizes) == expected

    batched()
