"""Stateful property test of escalation through the real services and the bus.

Whatever the sequence of sweeps at increasing times, new work and completions: a task's holder only
ever moves up, one level per sweep, and never above the city; a done task never escalates again; and
once the bus settles, every open escalated task sits in exactly one supervising inbox - its holder's.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, select

from linzhang.bootstrap import bootstrap
from linzhang.bus import consume_delivery
from linzhang.bus.relay import OutgoingDelivery, relay_pending
from linzhang.clock import FixedClock
from linzhang.domains.chiefs.tables import inbox_table
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.escalation import SWEEPER, sweep
from linzhang.domains.tasks.model import TaskKind
from linzhang.domains.tasks.service import NewTask, complete_task, create_task, verify_task
from linzhang.domains.tasks.tables import Escalation, Task
from linzhang.errors import Conflict
from linzhang.identity import Principal, Role
from linzhang.vocabularies import LEVEL_CODES as LEVELS
from tests.conftest import ON_POSTGRES, clean_database, make_settings
from tests.support.world import seed_tree

ADMIN = Principal(0, "admin", Role.ADMIN, None, "/")
OWNERS = ["500101001001", "500101002", "500102001", "500101"]
START = dt.datetime(2021, 3, 1, 1, tzinfo=dt.UTC)


def test_escalation_rules_hold_for_any_sequence(migrated_engine: Engine, database_url: str, tmp_path: Path) -> None:
    clock = FixedClock(START)
    container = bootstrap(make_settings(database_url, tmp_path), clock=clock)
    context = container.context(TasksContext)

    class Escalations(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clean_database(container.engine)
            seed_tree(container)
            clock.set(START)
            self.in_transit: list[OutgoingDelivery] = []
            self.levels: dict[int, str] = {}
            self.done: set[int] = set()

        def _send(self, deliveries: Sequence[OutgoingDelivery]) -> None:
            self.in_transit.extend(deliveries)

        def _tasks(self) -> dict[int, Task]:
            with container.reading() as session:
                return {task.id: task for task in session.execute(select(Task)).scalars()}

        @rule(
            owner=st.sampled_from(OWNERS),
            kind=st.sampled_from([TaskKind.ISSUE, TaskKind.ORDER]),
            days=st.integers(0, 12),
        )
        def new_work(self, owner: str, kind: TaskKind, days: int) -> None:
            due = context.today() + dt.timedelta(days=days)
            with container.transaction() as session:
                task = create_task(
                    session,
                    ADMIN,
                    context,
                    NewTask(title="巡林问题", kind=kind, jurisdiction_code=owner, due_date=due),
                )
            self.levels[task.id] = task.holder_level

        @rule(days=st.integers(0, 12), hours=st.integers(0, 23))
        def sweep_later(self, days: int, hours: int) -> None:
            clock.advance(dt.timedelta(days=days, hours=hours))
            before = self._tasks()
            with container.transaction() as session:
                sweep(session, SWEEPER, context, clock.now())
            after = self._tasks()
            for task_id, task in after.items():
                old, new = LEVELS.index(before[task_id].holder_level), LEVELS.index(task.holder_level)
                assert new in (old, old - 1), (
                    f"task {task_id} moved from {before[task_id].holder_level} to {task.holder_level}"
                )
                if task_id in self.done:
                    assert new == old, "a done task escalated"
                self.levels[task_id] = task.holder_level

        @rule(data=st.data())
        def finish(self, data: st.DataObject) -> None:
            candidates = sorted(set(self.levels) - self.done)
            if not candidates:
                return
            task_id = data.draw(st.sampled_from(candidates))
            task = self._tasks()[task_id]
            owner = Principal(1, "owner", Role.CHIEF, task.jurisdiction_code, task.jurisdiction_path)
            try:
                with container.transaction() as session:
                    finished = complete_task(session, owner, context, task_id, None)
                if finished.status == "submitted":
                    with container.transaction() as session:
                        verify_task(session, ADMIN, context, task_id, True, "")
            except Conflict:
                return
            self.done.add(task_id)

        @rule()
        def bus_moves(self) -> None:
            relay_pending(container.session_factory, self._send, clock, batch_size=50)
            for message in self.in_transit[:25]:
                consume_delivery(
                    container.session_factory, container.registry, clock, container.bus.policy, message.delivery_id
                )
            del self.in_transit[:25]

        @invariant()
        def climbs_are_one_level_each(self) -> None:
            with container.reading() as session:
                climbs = session.execute(select(Escalation).order_by(Escalation.task_id, Escalation.id)).scalars().all()
            by_task: dict[int, list[Escalation]] = {}
            for climb in climbs:
                by_task.setdefault(climb.task_id, []).append(climb)
            for task_id, steps in by_task.items():
                for step in steps:
                    assert LEVELS.index(step.to_level) == LEVELS.index(step.from_level) - 1, (
                        task_id,
                        step.from_level,
                        step.to_level,
                    )
                for lower, upper in itertools.pairwise(steps):
                    assert upper.from_code == lower.to_code

        def teardown(self) -> None:
            while True:
                relay_pending(container.session_factory, self._send, clock, batch_size=1000)
                if not self.in_transit:
                    break
                for message in self.in_transit:
                    consume_delivery(
                        container.session_factory, container.registry, clock, container.bus.policy, message.delivery_id
                    )
                self.in_transit.clear()
            tasks = self._tasks()
            with container.reading() as session:
                items = session.execute(select(inbox_table).where(inbox_table.c.open.is_(True))).all()
            supervising: dict[int, list[str]] = {}
            todo: dict[int, list[str]] = {}
            for item in items:
                (supervising if item.box == "supervising" else todo).setdefault(item.task_id, []).append(
                    item.jurisdiction_code
                )
            for task_id, task in tasks.items():
                if task.status == "done":
                    assert task_id not in supervising
                    assert task_id not in todo
                    continue
                assert todo.get(task_id) == [task.jurisdiction_code]
                if task.holder_code != task.jurisdiction_code:
                    assert supervising.get(task_id) == [task.holder_code], task_id
                else:
                    assert task_id not in supervising

    try:
        run_state_machine_as_test(
            Escalations,
            settings=settings(
                max_examples=20 if ON_POSTGRES else 40,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        container.close()
