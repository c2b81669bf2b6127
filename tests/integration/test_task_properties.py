"""Stateful property test of the task rules through the real services and the bus.

Whatever the sequence of reports (corrections included) and acceptances (验收) or send-backs on the
leaves of a split target, and however far the bus has got: once the bus settles, every split target's
figure is the sum of its leaves and it is done exactly when all its leaves are accepted; a leaf is done
only by acceptance; a done task stays done. An issue moves only open -> submitted -> done or back to
open by verification, and a done issue stays done.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, select

from linzhang.bootstrap import bootstrap
from linzhang.bus import consume_delivery
from linzhang.bus.relay import OutgoingDelivery, relay_pending
from linzhang.clock import FixedClock
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.model import SplitPart, TaskKind
from linzhang.domains.tasks.service import (
    NewTask,
    complete_task,
    create_task,
    report_progress,
    split_task,
    verify_task,
)
from linzhang.domains.tasks.tables import Task
from linzhang.errors import Conflict
from linzhang.identity import Principal, Role
from tests.conftest import ON_POSTGRES, clean_database, make_settings
from tests.support.world import seed_tree

ADMIN = Principal(0, "admin", Role.ADMIN, None, "/")
# The seed tree's split: city 1000 -> 万州 600 (-> 高笋塘 400 -> 示范村 400, 太白 200), 涪陵 300 (-> 敦仁 300), 两江 100.
SPLITS = {
    "50": [("500101", 600), ("500102", 300), ("LJXQ", 100)],
    "500101": [("500101001", 400), ("500101002", 200)],
    "500101001": [("500101001001", 400)],
    "500102": [("500102001", 300)],
}
LEAVES = ["500101001001", "500101002", "500102001", "LJXQ"]


def chief(code: str, path: str) -> Principal:
    return Principal(1, f"chief-{code}", Role.CHIEF, code, path)


def test_task_rules_hold_for_any_sequence(migrated_engine: Engine, database_url: str, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2021, 3, 1, tzinfo=UTC))
    container = bootstrap(make_settings(database_url, tmp_path), clock=clock)
    context = TasksContext(clock, container.calendar, container.lookup_jurisdiction)

    class Tasks(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clean_database(container.engine)
            seed_tree(container)
            self.in_transit: list[OutgoingDelivery] = []
            self.task_of: dict[str, int] = {}
            with container.transaction() as session:
                root = create_task(
                    session,
                    ADMIN,
                    context,
                    NewTask(
                        title="营造林",
                        kind=TaskKind.TARGET,
                        jurisdiction_code="50",
                        due_date=datetime(2021, 12, 31).date(),
                        target_quantity=Decimal(1000),
                        unit="亩",
                    ),
                )
            self.task_of["50"] = root.id
            for code in ("50", "500101", "500102", "500101001"):
                with container.transaction() as session:
                    parts = [SplitPart(child, Decimal(amount)) for child, amount in SPLITS[code]]
                    for child in split_task(session, ADMIN, context, self.task_of[code], parts):
                        self.task_of[child.jurisdiction_code] = child.id
            with container.transaction() as session:
                self.issue = create_task(
                    session,
                    ADMIN,
                    context,
                    NewTask(
                        title="病虫害",
                        kind=TaskKind.ISSUE,
                        jurisdiction_code="500101001001",
                        due_date=datetime(2021, 6, 30).date(),
                    ),
                ).id
            self.ever_done: set[int] = set()
            self.issue_status = "open"

        def _send(self, deliveries: Sequence[OutgoingDelivery]) -> None:
            self.in_transit.extend(deliveries)

        def _rows(self) -> dict[int, Task]:
            with container.reading() as session:
                return {task.id: task for task in session.execute(select(Task)).scalars()}

        @rule(leaf=st.sampled_from(LEAVES), share=st.integers(0, 130))
        def report(self, leaf: str, share: int) -> None:
            task_id = self.task_of[leaf]
            target = dict(x for parts in SPLITS.values() for x in parts)[leaf]
            figure = Decimal(target * share) / 100
            reference_path = {t.id: t.jurisdiction_path for t in self._rows().values()}[task_id]
            try:
                with container.transaction() as session:
                    after = report_progress(
                        session, chief(leaf, reference_path), context, task_id, figure, None, "更正"
                    ).status
                assert task_id not in self.ever_done, "a done task accepted a report"
                # Reaching the target submits the leaf for acceptance; a report never closes it.
                assert after == ("submitted" if figure >= target else "open")
            except Conflict:
                assert task_id in self.ever_done

        @rule(leaf=st.sampled_from(LEAVES), accept=st.booleans())
        def review(self, leaf: str, accept: bool) -> None:
            task_id = self.task_of[leaf]
            before = self._rows()[task_id].status
            try:
                with container.transaction() as session:
                    after = verify_task(session, ADMIN, context, task_id, accept, "台账与现场不符").status
            except Conflict:
                assert before != "submitted"
                return
            assert before == "submitted"
            assert after == ("done" if accept else "open")

        @rule(count=st.integers(1, 6))
        def bus_moves(self, count: int) -> None:
            relay_pending(container.session_factory, self._send, clock, batch_size=count)
            for _ in range(min(count, len(self.in_transit))):
                message = self.in_transit.pop(0)
                consume_delivery(
                    container.session_factory, container.registry, clock, container.bus.policy, message.delivery_id
                )

        @rule(action=st.sampled_from(["complete", "accept", "send_back"]))
        def issue_step(self, action: str) -> None:
            village = chief("500101001001", "/50/500101/500101001/500101001001/")
            township = chief("500101001", "/50/500101/500101001/")
            before = self.issue_status
            try:
                with container.transaction() as session:
                    if action == "complete":
                        after = complete_task(session, village, context, self.issue, None).status
                    else:
                        after = verify_task(
                            session, township, context, self.issue, action == "accept", "整改不到位"
                        ).status
            except Conflict:
                allowed = {"complete": "open", "accept": "submitted", "send_back": "submitted"}[action]
                assert before != allowed
                return
            expected = {
                ("complete", "open"): "submitted",
                ("accept", "submitted"): "done",
                ("send_back", "submitted"): "open",
            }
            assert after == expected[(action, before)]
            self.issue_status = after

        @invariant()
        def done_stays_done(self) -> None:
            rows = self._rows()
            for task_id in self.ever_done:
                assert rows[task_id].status == "done"
            self.ever_done |= {task_id for task_id, task in rows.items() if task.status == "done"}

        def teardown(self) -> None:
            # Let the bus settle, then the figures must add up at every level.
            while True:
                relay_pending(container.session_factory, self._send, clock, batch_size=1000)
                if not self.in_transit:
                    break
                while self.in_transit:
                    message = self.in_transit.pop(0)
                    consume_delivery(
                        container.session_factory, container.registry, clock, container.bus.policy, message.delivery_id
                    )
            rows = self._rows()
            by_code = {code: rows[task_id] for code, task_id in self.task_of.items()}

            def leaves_under(code: str) -> list[str]:
                if code not in SPLITS:
                    return [code]
                return [leaf for child, _ in SPLITS[code] for leaf in leaves_under(child)]

            for code in SPLITS:
                leaves = [by_code[leaf] for leaf in leaves_under(code)]
                assert by_code[code].completed_quantity == sum(
                    (leaf.completed_quantity for leaf in leaves), Decimal(0)
                ), code
                assert (by_code[code].status == "done") == all(leaf.status == "done" for leaf in leaves), code

    try:
        run_state_machine_as_test(
            Tasks,
            settings=settings(
                max_examples=15 if ON_POSTGRES else 30,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        container.close()
