"""The record as it stood at as_of: whatever happens after it, an assessment as of that day reads the same.

Random histories of figures, completions and escalations go through the ledger's own handlers, in any
delivery order; the facts an assessment reads as of a day are the same before and after the events that
came later.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.container import Container
from linzhang.contracts import (
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskProgressReported,
    TaskSentBack,
    TaskSnapshot,
)
from linzhang.domains.assessments import ledger
from linzhang.domains.assessments.model import parse_period
from linzhang.domains.assessments.service import _collect
from linzhang.domains.assessments.tables import figures_table, ledger_table, tracked_table
from linzhang.settings import Settings

START = dt.datetime(2021, 1, 4, 1, tzinfo=dt.UTC)
PERIOD = parse_period("2021Q1")
OWNERS = ["/50/500101/500101001/", "/50/500101/500101002/", "/50/500102/500102001/"]


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    container = bootstrap(settings, registry=registry)
    try:
        yield container
    finally:
        container.close()


@dataclass(frozen=True)
class Step:
    task: int
    day: int  # days after START
    action: str  # report | complete | escalate
    value: int


steps = st.lists(
    st.builds(
        Step,
        task=st.integers(1, 3),
        day=st.integers(0, 80),
        action=st.sampled_from(["report", "report", "complete", "escalate"]),
        value=st.integers(0, 2_000_000),
    ),
    max_size=14,
)


def _snapshot(task: int, revision: int, status: str = "open") -> TaskSnapshot:
    path = OWNERS[task - 1]
    code = path.strip("/").split("/")[-1]
    return TaskSnapshot(
        task_id=task,
        revision=revision,
        kind="target",
        title=f"任务{task}",
        category=None,
        status=status,
        jurisdiction_code=code,
        path=path,
        holder_code=code,
        holder_path=path,
        holder_level="township",
        due_date=dt.date(2021, 2, 10) + dt.timedelta(days=task * 7),
        escalation_due_date=None,
        parent_id=None,
    )


def _events(history: list[Step]) -> list[tuple[int, Any, Any]]:
    """(day, handler, event) for every step, with each task's revisions in the order of its days."""
    made: list[tuple[int, Any, Any]] = []
    revision = dict.fromkeys((1, 2, 3), 1)
    done: set[int] = set()
    for task in (1, 2, 3):
        made.append(
            (
                0,
                ledger.on_created,
                TaskCreated(
                    task=_snapshot(task, 1),
                    target_quantity=Decimal(1_000_000),
                    unit="亩",
                    plan_key=None,
                    created_by="t",
                    occurred_at=START,
                ),
            )
        )
    for step in sorted(history, key=lambda s: s.day):
        if step.task in done:
            continue
        revision[step.task] += 1
        at = START + dt.timedelta(days=step.day)
        snapshot = _snapshot(step.task, revision[step.task])
        if step.action == "report":
            event: Any = TaskProgressReported(
                task=snapshot,
                completed_quantity=Decimal(step.value),
                target_quantity=Decimal(1_000_000),
                reported_by="t",
                occurred_at=at,
            )
            made.append((step.day, ledger.on_progress, event))
        elif step.action == "complete":
            done.add(step.task)
            day = at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
            event = TaskCompleted(
                task=_snapshot(step.task, revision[step.task], "done"),
                completed_on=day,
                late=day > snapshot.due_date,
                completed_by="t",
                occurred_at=at,
            )
            made.append((step.day, ledger.on_completed, event))
        else:
            event = TaskEscalated(
                task=snapshot,
                escalation_id=step.value,
                from_code="a",
                from_level="township",
                to_code="b",
                to_level="district",
                escalation_due_date=snapshot.due_date,
                days_overdue=1,
                levels_climbed=1 + step.value % 3,
                occurred_at=at,
            )
            made.append((step.day, ledger.on_escalated, event))
    return made


def _facts(container: Container, as_of: dt.date) -> dict[str, Any]:
    with container.reading() as session:
        collected, _ = _collect(session, PERIOD, as_of, None)
    return {
        code: (sorted(c.targets), sorted(c.due), sorted(c.escalated.items()), sorted(c.issues), sorted(c.sent_back))
        for code, c in collected.items()
    }


def _deliver(container: Container, events: list[tuple[int, Any, Any]]) -> None:
    with container.transaction() as session:
        for _, handler, event in events:
            handler(session, event)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=steps, cut=st.integers(0, 80), seed=st.integers(0, 2**16))
def test_events_after_as_of_never_change_what_an_assessment_reads(
    world: Container, history: list[Step], cut: int, seed: int
) -> None:
    with world.transaction() as session:
        for table in (figures_table, ledger_table, tracked_table):
            session.execute(delete(table))
    events = _events(history)
    as_of = (START + dt.timedelta(days=cut)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    earlier = [e for e in events if e[0] <= cut]
    later = [e for e in events if e[0] > cut]
    shuffle = random.Random(seed).shuffle
    shuffle(earlier)
    shuffle(later)
    _deliver(world, earlier)
    before = _facts(world, as_of)
    _deliver(world, later)
    assert _facts(world, as_of) == before
    # And the later record is read as of later days: the last figure reported counts at the period's end.
    everything = _facts(world, PERIOD.end)
    for task in (1, 2, 3):
        reports = [s for s in sorted(history, key=lambda s: s.day) if s.task == task]
        finished = next((i for i, s in enumerate(reports) if s.action == "complete"), None)
        figures = [s.value for s in (reports if finished is None else reports[: finished + 1]) if s.action == "report"]
        code = OWNERS[task - 1].strip("/").split("/")[-1]
        if figures:
            targets = {t: completed for t, completed, _ in everything[code][0]}
            assert targets[task] == figures[-1]  # the newest figure by the period's end


def test_on_time_is_the_tasks_judgement_and_a_target_sent_back_is_not_an_issue(world: Container) -> None:
    """Work submitted by its due date and accepted (验收) later is on time; a target sent back at 验收 is
    not counted as an issue sent back at 核查."""
    first, second = _snapshot(1, 1), _snapshot(2, 1)
    accepted_late_day = first.due_date + dt.timedelta(days=5)
    _deliver(
        world,
        [
            (
                0,
                ledger.on_created,
                TaskCreated(
                    task=first, target_quantity=Decimal(10), unit="亩", plan_key=None, created_by="t", occurred_at=START
                ),
            ),
            (
                0,
                ledger.on_created,
                TaskCreated(
                    task=second,
                    target_quantity=Decimal(10),
                    unit="亩",
                    plan_key=None,
                    created_by="t",
                    occurred_at=START,
                ),
            ),
            (
                1,
                ledger.on_sent_back,
                TaskSentBack(
                    task=_snapshot(2, 2), reason="数量不实", sent_back_by="t", occurred_at=START + dt.timedelta(days=30)
                ),
            ),
            (
                2,
                ledger.on_completed,
                TaskCompleted(
                    task=_snapshot(1, 2, "done"),
                    completed_on=accepted_late_day,
                    late=False,
                    completed_by="t",
                    occurred_at=START + dt.timedelta(days=50),
                ),
            ),
        ],
    )
    facts = _facts(world, PERIOD.end)
    _targets, due, _escalated, _issues, sent_back = facts["500101"]
    assert (1, True) in due
    assert (2, False) in due
    assert sent_back == []
