"""The batch entry points of the projections leave exactly what their one-event handlers leave.

Any sequence of task snapshots (repeats, late arrivals, climbs, completions), applied one at a time to one
set of tasks and in batches of any size to a copy of them, gives the same inbox items.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from linzhang.contracts import TaskSnapshot
from linzhang.domains.chiefs.inbox import sync_inbox
from linzhang.domains.chiefs.inbox_batch import sync_inboxes
from linzhang.domains.chiefs.tables import inbox_table as i
from tests.conftest import ON_POSTGRES

NOW = dt.datetime(2021, 7, 1, 8, tzinfo=dt.UTC)
# Each example works on task ids of its own: the one-at-a-time copy below COPY_OFFSET, the batch copy above
# (from 500,001: other tests of the same database leave tasks with small ids behind).
COPY_OFFSET = 1_000_000
_next_base = itertools.count(500_001, 10)  # clear of the ids other tests use
# (holder code, holder path, level) by the levels a task climbs from its village owner.
CHAIN = [
    ("500101001001", "/50/500101/500101001/500101001001/", "village"),
    ("500101001", "/50/500101/500101001/", "township"),
    ("500101", "/50/500101/", "district"),
    ("50", "/50/", "city"),
]


@st.composite
def snapshot_steps(draw: st.DrawFn) -> list[tuple[int, int, int, str]]:
    """(task, revision, climbed levels, status) in arrival order: repeats and late ones included."""
    steps = []
    for task in range(draw(st.integers(1, 4))):
        revisions = draw(st.integers(1, 5))
        for revision in range(1, revisions + 1):
            level = draw(st.integers(0, 3))
            status = draw(st.sampled_from(["open", "open", "submitted", "done"]))
            steps.append((task, revision, level, status))
    order = draw(st.permutations(steps))
    repeats = draw(st.lists(st.sampled_from(steps), max_size=3)) if steps else []
    return [*order, *repeats]


def snapshot(task_id: int, revision: int, level: int, status: str) -> TaskSnapshot:
    holder, holder_path, holder_level = CHAIN[level]
    return TaskSnapshot(
        task_id=task_id,
        revision=revision,
        kind="target",
        title=f"任务{task_id % COPY_OFFSET}第{revision}版",
        category=None if revision % 2 else "pest_control",
        status=status,
        jurisdiction_code=CHAIN[0][0],
        path=CHAIN[0][1],
        holder_code=holder,
        holder_path=holder_path,
        holder_level=holder_level,
        due_date=dt.date(2021, 6, 1) + dt.timedelta(days=revision),
        escalation_due_date=None if level == 0 else dt.date(2021, 7, 1) + dt.timedelta(days=level + revision),
        parent_id=None,
    )


def items(session: Session, low: int, high: int, offset: int) -> list[tuple[Any, ...]]:
    rows = session.execute(
        select(
            i.c.task_id,
            i.c.box,
            i.c.jurisdiction_code,
            i.c.jurisdiction_path,
            i.c.reason,
            i.c.title,
            i.c.category,
            i.c.kind,
            i.c.status,
            i.c.owner_code,
            i.c.holder_code,
            i.c.due_date,
            i.c.deadline,
            i.c.open,
        ).where(i.c.task_id >= low, i.c.task_id < high)
    ).all()
    return sorted((row[0] - offset, *row[1:]) for row in rows)


def test_inbox_batches_leave_what_one_snapshot_at_a_time_leaves(migrated_engine: Engine) -> None:
    @settings(
        max_examples=40 if ON_POSTGRES else 80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(steps=snapshot_steps(), sizes=st.lists(st.integers(1, 6), min_size=1, max_size=8))
    def check(steps: list[tuple[int, int, int, str]], sizes: Sequence[int]) -> None:
        base = next(_next_base)
        one_by_one = [snapshot(base + task, revision, level, status) for task, revision, level, status in steps]
        batched = [
            snapshot(COPY_OFFSET + base + task, revision, level, status) for task, revision, level, status in steps
        ]
        with Session(migrated_engine) as session, session.begin():
            for task in one_by_one:
                sync_inbox(session, task, NOW)
            position = 0
            for size in itertools.cycle(sizes):
                if position >= len(batched):
                    break
                sync_inboxes(session, batched[position : position + size], NOW)
                position += size
        with Session(migrated_engine) as session:
            assert items(session, COPY_OFFSET + base, COPY_OFFSET + base + 10, COPY_OFFSET) == items(
                session, base, base + 10, 0
            )

    check()
