"""The issue's end-to-end check: the demo, then an earlier period assessed twice with a report in between."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import SHANGHAI, FixedClock
from linzhang.container import Container
from linzhang.demo import DEMO_PASSWORD, load_demo
from linzhang.domains.tasks.tables import Task
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.world import Api, api_client


@pytest.fixture
def clock() -> FixedClock:
    # The demo is loaded on this day: its record exists from then on, so an assessment as of it sees it.
    return FixedClock(datetime(2021, 9, 15, 2, tzinfo=UTC))


@pytest.fixture
def demo(settings: Settings, registry: SubscriberRegistry, clock: FixedClock) -> Iterator[Container]:
    container = bootstrap(settings, registry=registry, clock=clock)
    try:
        assert load_demo(container, villages=20).loaded
        drain(container, timeout=120)
        yield container
    finally:
        container.bus.broker.flush_all()
        container.close()


def every_score(api: Api, period: str, version: str) -> dict[str, tuple[object, ...]]:
    scores: dict[str, tuple[object, ...]] = {}
    for level in ("city", "district", "township", "village"):
        cursor = None
        while True:
            params = {"level": level, "version": version, "limit": "500"}
            if cursor:
                params["cursor"] = cursor
            page = api.get(f"/assessments/{period}/scores", "admin", params=params).json()
            for item in page["items"]:
                scores[item["jurisdiction_code"]] = (
                    item["score"],
                    item["grade"],
                    item["rank"],
                    item["city_rank"],
                    item["components"],
                    [(d["task_id"], d["points"]) for d in item["deductions"]],
                )
            cursor = page["next"]
            if not cursor:
                break
    return scores


def test_the_demo_assessed_twice_with_a_report_in_between_gives_the_same_scores(
    demo: Container, clock: FixedClock
) -> None:
    child = aliased(Task)
    with demo.reading() as session:
        leaves = session.execute(
            select(Task).where(
                Task.kind == "target",
                Task.status == "open",
                ~select(child.id).where(child.parent_id == Task.id).exists(),
                Task.completed_quantity + 2 < Task.target_quantity,
            )
        ).scalars()
        # The one furthest from its target: reporting nearly all of it moves its score most, and keeps it open.
        leaf = min(leaves, key=lambda task: (task.completed_quantity / task.target_quantity, task.id))
        leaf_id, target, due = leaf.id, leaf.target_quantity, leaf.due_date
    today = clock.now().astimezone(SHANGHAI).date()
    period = str(due.year)
    as_of = min(today, dt.date(due.year, 12, 31))
    with api_client(demo) as api:
        api.token("admin", DEMO_PASSWORD)
        first = api.post("/assessments", "admin", json={"period": period, "as_of": as_of.isoformat()})
        assert first.status_code == 201, first.text
        before = every_score(api, period, "draft")
        assert sum(1 for item in before.values() if item[0] is not None) > 10

        clock.set(clock.now() + dt.timedelta(days=1))
        api.forget()
        api.token("admin", DEMO_PASSWORD)
        report = api.post(f"/tasks/{leaf_id}/progress", "admin", json={"completed_quantity": float(target - 1)})
        assert report.status_code == 200, report.text
        drain(demo)

        second = api.post("/assessments", "admin", json={"period": period, "as_of": as_of.isoformat()})
        assert second.status_code == 201, second.text
        assert second.json()["version"] == first.json()["version"] + 1
        assert every_score(api, period, "draft") == before
