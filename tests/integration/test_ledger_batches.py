"""The assessments' ledger takes batches of deliveries and leaves what its one-event handlers leave.

A few tasks' events (created, progress, escalation, submission, sending back, completion, repeats and late
arrivals), applied one at a time to one set of tasks and through the ledger's batch handler, in batches
of any size, to a copy of them, give the same tracked tasks, ledger lines and figures.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.contracts import (
    Event,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskProgressReported,
    TaskSentBack,
    TaskSnapshot,
    TaskSubmitted,
)
from linzhang.domains.assessments import ledger
from linzhang.domains.assessments.tables import figures_table, ledger_table, tracked_table
from tests.conftest import ON_POSTGRES

SUBSCRIBER = "assessments.ledger"
AT = dt.datetime(2021, 7, 1, 8, tzinfo=dt.UTC)
# The one-at-a-time copy's task ids, and the batch copy's (other tests of the database use small ids).
COPY_OFFSET = 1_000_000
_next_base = itertools.count(600_001, 10)
VILLAGE = ("500101001001", "/50/500101/500101001/500101001001/")
TOWNSHIP = ("500101001", "/50/500101/500101001/")


def snapshot(task_id: int, revision: int, kind: str, status: str, escalated: bool = False) -> TaskSnapshot:
    holder = TOWNSHIP if escalated else VILLAGE
    return TaskSnapshot(
        task_id=task_id,
        revision=revision,
        kind=kind,
        title=f"任务第{revision}版",
        category=None,
        status=status,
        jurisdiction_code=VILLAGE[0],
        path=VILLAGE[1],
        holder_code=holder[0],
        holder_path=holder[1],
        holder_level="township" if escalated else "village",
        due_date=dt.date(2021, 6, 1),
        escalation_due_date=dt.date(2021, 7, 10) if escalated else None,
        parent_id=None,
    )


def history(task_id: int, kind: str) -> list[Event]:
    """One task's events in their true order (each with its own event id, fixed per copy below)."""
    target = Decimal(100) if kind == "target" else None

    def at(revision: int, status: str, escalated: bool = False) -> TaskSnapshot:
        return snapshot(task_id, revision, kind, status, escalated)

    events: list[Event] = [
        TaskCreated(
            task=at(1, "open"), target_quantity=target, unit=None, plan_key=None, created_by="city", occurred_at=AT
        )
    ]
    if target is not None:
        events.append(
            TaskProgressReported(
                task=at(2, "open"),
                completed_quantity=Decimal(40),
                target_quantity=target,
                reported_by="village",
                occurred_at=AT + dt.timedelta(days=1),
            )
        )
    events += [
        TaskEscalated(
            task=at(3, "open", escalated=True),
            escalation_id=task_id,
            from_code=VILLAGE[0],
            from_level="village",
            to_code=TOWNSHIP[0],
            to_level="township",
            escalation_due_date=dt.date(2021, 7, 10),
            days_overdue=4,
            levels_climbed=1,
            occurred_at=AT + dt.timedelta(days=2),
        ),
        TaskSubmitted(task=at(4, "submitted", escalated=True), submitted_by="village", occurred_at=AT),
        TaskSentBack(task=at(5, "open", escalated=True), reason="不合格", sent_back_by="township", occurred_at=AT),
        TaskCompleted(
            task=at(6, "done"),
            completed_on=dt.date(2021, 7, 12),
            late=True,
            completed_by="township",
            occurred_at=AT + dt.timedelta(days=11),
        ),
    ]
    return events


def moved(event: Event, offset: int) -> Event:
    """The same event about the copy's task (a stable event id of its own)."""
    task: TaskSnapshot = event.task  # type: ignore[attr-defined]
    copy_task = TaskSnapshot(
        **{**{f: getattr(task, f) for f in task.__struct_fields__}, "task_id": task.task_id + offset}
    )
    fields = {f: getattr(event, f) for f in event.__struct_fields__}
    fields.update(task=copy_task, event_id=uuid.uuid5(event.event_id, str(offset)))
    return type(event)(**fields)


def state(session: Session, low: int, high: int) -> list[tuple[Any, ...]]:
    """Every row the ledger keeps for tasks ``low``..``high``, task ids made relative to ``low``."""
    out: list[tuple[Any, ...]] = []
    tables: list[tuple[str, Table, list[str]]] = [
        ("tracked", tracked_table, [c.name for c in tracked_table.c]),
        ("ledger", ledger_table, [c.name for c in ledger_table.c if c.name not in ("id", "event_id")]),
        ("figures", figures_table, [c.name for c in figures_table.c if c.name != "id"]),
    ]
    for name, table, columns in tables:
        rows = session.execute(
            select(*(table.c[c] for c in columns)).where(table.c.task_id >= low, table.c.task_id < high)
        ).mappings()
        out += sorted((name, *((v - low if k == "task_id" else v) for k, v in row.items())) for row in rows)
    return out


def test_ledger_batches_leave_what_one_event_at_a_time_leaves(migrated_engine: Engine) -> None:
    registry = SubscriberRegistry()
    ledger.register(registry)
    batch_handler = registry.batch_handler_for(SUBSCRIBER)
    assert batch_handler is not None

    @settings(
        max_examples=30 if ON_POSTGRES else 60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(data=st.data(), sizes=st.lists(st.integers(1, 8), min_size=1, max_size=6))
    def check(data: st.DataObject, sizes: Sequence[int]) -> None:
        base = next(_next_base)
        kinds = data.draw(st.lists(st.sampled_from(["target", "issue", "order"]), min_size=1, max_size=3))
        events = [event for n, kind in enumerate(kinds) for event in history(base + n, kind)]
        order = data.draw(st.permutations(events))
        arrivals = [*order, *data.draw(st.lists(st.sampled_from(events), max_size=4))]
        with Session(migrated_engine) as session, session.begin():
            for event in arrivals:
                registry.handler_for(SUBSCRIBER, event.event_type, event.version)(session, event)
            copies = [moved(event, COPY_OFFSET) for event in arrivals]
            position = 0
            for size in itertools.cycle(sizes):
                if position >= len(copies):
                    break
                batch_handler(session, copies[position : position + size])
                position += size
        with Session(migrated_engine) as session:
            one_by_one = state(session, base, base + 10)
            batched = state(session, COPY_OFFSET + base, COPY_OFFSET + base + 10)
        assert batched == one_by_one
        assert one_by_one  # the ledger did record something

    check()
