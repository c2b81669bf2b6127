"""The assessments' ledger after 验收: a target sent back is no failed rectification (核查不合格)."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from sqlalchemy import select

from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.contracts import TaskSentBack
from linzhang.domains.assessments.ledger import on_sent_back
from linzhang.domains.assessments.tables import ledger_table
from linzhang.settings import Settings
from tests.integration.test_inbox_projection import KINDS, NOW, snapshot
from tests.support.world import seeded_world


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    with seeded_world(settings, registry, FixedClock(NOW), {}) as container:
        yield container


def test_a_target_sent_back_at_acceptance_is_no_failed_rectification(world: Container) -> None:
    """The ledger keeps 核查不合格 lines for issues only; a target's 验收 is scored by its figure and date."""
    with world.transaction() as session:
        for kind in KINDS:
            on_sent_back(
                session,
                TaskSentBack(
                    task=msgspec.structs.replace(snapshot(kind, 3, "open"), task_id=KINDS.index(kind) + 1),
                    reason="不合格",
                    sent_back_by="gaosuntang",
                ),
            )
    with world.reading() as session:
        lines = session.execute(select(ledger_table.c.task_id, ledger_table.c.fact)).all()
    assert [tuple(line) for line in lines] == [(1, "sent_back")]
