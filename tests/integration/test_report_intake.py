"""Report intake: a ProblemReported becomes one issue in its jurisdiction's inbox, answered by its task id."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from linzhang.bus import SubscriberRegistry, publish
from linzhang.bus.tables import events_table
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.contracts.reports import ProblemReported
from linzhang.domains.chiefs.tables import inbox_table
from linzhang.domains.tasks.tables import tasks_table, timeline_table
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import delivery_statuses, drain
from tests.support.world import seeded_world

NOW = dt.datetime(2021, 3, 1, 0, 0, tzinfo=dt.UTC)
VILLAGE = "500101001001"
PHOTO = "ab" * 32


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    with seeded_world(settings, registry, FixedClock(NOW), {"admin": (Role.ADMIN, None)}) as container:
        yield container


def report(reference: str = "R-1", **changes: object) -> ProblemReported:
    fields: dict[str, object] = {
        "source": "public",
        "reference": reference,
        "jurisdiction_code": VILLAGE,
        "category": "fire_prevention",
        "title": "公众举报：森林防火",
        "text": "山脚有人烧荒，火势不大",
        "reported_at": NOW,
        "reported_by": "公众",
        "longitude": 108.38,
        "latitude": 30.81,
        "photo_hashes": [PHOTO],
    }
    fields.update(changes)
    return ProblemReported(**fields)  # type: ignore[arg-type]


def send(container: Container, *events: ProblemReported) -> None:
    with container.transaction() as session:
        for event in events:
            publish(session, event)
    drain(container)


def published(container: Container, event_type: str) -> list[dict[str, object]]:
    with container.reading() as session:
        rows = session.execute(
            select(events_table.c.payload)
            .where(events_table.c.event_type == event_type)
            .order_by(events_table.c.position)
        ).scalars()
        return [json.loads(row) for row in rows]


def test_a_report_becomes_an_issue_in_the_villages_inbox(world: Container) -> None:
    send(world, report())
    with world.reading() as session:
        task = session.execute(select(tasks_table)).one()
        inbox = session.execute(select(inbox_table).where(inbox_table.c.task_id == task.id)).one()
        actions = session.execute(
            select(timeline_table.c.action, timeline_table.c.detail, timeline_table.c.actor).where(
                timeline_table.c.task_id == task.id
            )
        ).all()
    assert (task.kind, task.status, task.jurisdiction_code, task.category) == (
        "issue",
        "open",
        VILLAGE,
        "fire_prevention",
    )
    assert task.created_by == "公众举报"
    assert task.title == "公众举报：森林防火"
    assert "山脚有人烧荒" in task.description
    assert "经度 108.380000" in task.description
    # Ten working days from Monday 2021-03-01.
    assert task.due_date == dt.date(2021, 3, 15)
    assert (inbox.jurisdiction_code, inbox.box, inbox.open) == (VILLAGE, "todo", True)
    reported = [json.loads(detail) for action, detail, _ in actions if action == "reported"]
    assert reported == [
        {
            "source": "public",
            "reference": "R-1",
            "reported_by": "公众",
            "reported_at": NOW.isoformat(),
            "longitude": 108.38,
            "latitude": 30.81,
            "photos": [PHOTO],
        }
    ]
    answers = published(world, "ReportBecameIssue")
    assert [(a["source"], a["reference"], a["task_id"], a["jurisdiction_code"]) for a in answers] == [
        ("public", "R-1", task.id, VILLAGE)
    ]


def test_a_report_published_twice_makes_one_issue(world: Container) -> None:
    send(world, report("R-2"), report("R-2"))
    send(world, report("R-2", text="重复提交"))
    with world.reading() as session:
        assert len(session.execute(select(tasks_table.c.id)).all()) == 1
    assert len(published(world, "ReportBecameIssue")) == 1


def test_a_deadline_named_by_the_report_is_kept(world: Container) -> None:
    send(world, report("R-3", due_in_workdays=2))
    with world.reading() as session:
        assert session.execute(select(tasks_table.c.due_date)).scalar_one() == dt.date(2021, 3, 3)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"jurisdiction_code": "999999"}, "jurisdiction_not_found"),
        ({"category": "no_such_category"}, "unknown_category"),
        ({"title": "  "}, None),
    ],
)
def test_a_report_that_cannot_be_an_issue_is_refused_not_retried(
    world: Container, changes: dict[str, object], code: str | None
) -> None:
    send(world, report("R-4", **changes))
    with world.reading() as session:
        assert session.execute(select(tasks_table.c.id)).all() == []
    refusals = published(world, "ReportRefused")
    assert len(refusals) == 1
    assert refusals[0]["reference"] == "R-4"
    if code is not None:
        assert refusals[0]["code"] == code
    assert refusals[0]["detail"]
    assert published(world, "ReportBecameIssue") == []
    assert set(delivery_statuses(world.engine)) == {"done"}
