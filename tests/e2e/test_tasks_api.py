"""Tasks over HTTP: 交办, 层层压实 splits, progress rolled up through the bus, issues verified, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from linzhang.bus import SubscriberRegistry
from linzhang.bus.tables import events_table
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.domains.tasks.tables import tasks_table, timeline_table
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.world import Api, api_client, seeded_world

# 2021-03-01 08:00 in Shanghai
NOW = datetime(2021, 3, 1, 0, 0, tzinfo=UTC)
ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "city": (Role.CHIEF, "50"),
    "wanzhou": (Role.CHIEF, "500101"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "taibai": (Role.CHIEF, "500101002"),
    "village": (Role.CHIEF, "500101001001"),
    "fuling": (Role.CHIEF, "500102"),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry, clock: FixedClock) -> Iterator[Container]:
    with seeded_world(settings, registry, clock, ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def counts(container: Container) -> tuple[int, int, int]:
    with container.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (tasks_table, timeline_table, events_table)
        )


def create(api: Api, as_user: str, **body: object) -> dict:  # type: ignore[type-arg]
    payload = {
        "title": "营造林",
        "kind": "target",
        "jurisdiction_code": "50",
        "due_date": "2021-12-31",
        "target_quantity": 1000,
        "unit": "亩",
        **body,
    }
    response = api.post("/tasks", as_user, json=payload)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_task_as_the_contract_describes_it(api: Api) -> None:
    task = create(api, "city", category="afforestation", lead_department="市林业局")
    assert {k: task[k] for k in ("kind", "status", "jurisdiction_code", "holder_code", "holder_level", "due_date")} == {
        "kind": "target",
        "status": "open",
        "jurisdiction_code": "50",
        "holder_code": "50",
        "holder_level": "city",
        "due_date": "2021-12-31",
    }
    assert task["target_quantity"] == 1000
    assert task["completed_quantity"] == 0
    assert task["overdue"] is False
    assert task["escalations"] == []
    assert task["escalation_due_date"] is None
    assert api.get(f"/tasks/{task['id']}", "city").json() == task


def test_due_in_workdays_follows_the_official_calendar(api: Api, clock: FixedClock) -> None:
    # Wednesday 29 September: Thursday 30 is one, 1-7 October are off, Friday 8 and Saturday 9 (worked
    # in exchange) are two and three.
    clock.set(datetime(2021, 9, 29, 4, tzinfo=UTC))
    api.forget()
    task = create(
        api,
        "wanzhou",
        kind="order",
        title="督办",
        jurisdiction_code="500101",
        due_date=None,
        due_in_workdays=3,
        target_quantity=None,
        unit=None,
    )
    assert task["due_date"] == "2021-10-09"


def test_split_down_the_levels_and_roll_up_to_the_city(api: Api, world: Container) -> None:
    city = create(api, "city", target_quantity=1000)
    districts = api.post(
        f"/tasks/{city['id']}/split",
        "city",
        json={
            "parts": [
                {"jurisdiction_code": "500101", "target_quantity": 600},
                {"jurisdiction_code": "500102", "target_quantity": 300},
                {"jurisdiction_code": "LJXQ", "target_quantity": 100, "due_date": "2021-11-30"},
            ]
        },
    )
    assert districts.status_code == 201, districts.text
    by_code = {item["jurisdiction_code"]: item for item in districts.json()["items"]}
    assert by_code["LJXQ"]["due_date"] == "2021-11-30"
    assert by_code["500101"]["parent_id"] == city["id"]

    townships = api.post(
        f"/tasks/{by_code['500101']['id']}/split",
        "wanzhou",
        json={
            "parts": [
                {"jurisdiction_code": "500101001", "target_quantity": 450.5},
                {"jurisdiction_code": "500101002", "target_quantity": 149.5},
            ]
        },
    ).json()["items"]
    gaosuntang, taibai = townships
    (village,) = api.post(
        f"/tasks/{gaosuntang['id']}/split",
        "gaosuntang",
        json={"parts": [{"jurisdiction_code": "500101001001", "target_quantity": 450.5}]},
    ).json()["items"]

    assert api.post(f"/tasks/{village['id']}/progress", "village", json={"completed_quantity": 200}).status_code == 200
    assert api.post(f"/tasks/{taibai['id']}/progress", "taibai", json={"completed_quantity": 49.5}).status_code == 200
    drain(world)

    assert api.get(f"/tasks/{gaosuntang['id']}", "city").json()["completed_quantity"] == 200
    assert api.get(f"/tasks/{by_code['500101']['id']}", "city").json()["completed_quantity"] == 249.5
    assert api.get(f"/tasks/{city['id']}", "city").json()["completed_quantity"] == 249.5

    # A retried report changes nothing; finishing every leaf finishes the city's target.
    assert (
        api.post(f"/tasks/{village['id']}/progress", "village", json={"completed_quantity": 200}).json()[
            "completed_quantity"
        ]
        == 200
    )
    api.post(f"/tasks/{village['id']}/progress", "village", json={"completed_quantity": 450.5})
    api.post(f"/tasks/{taibai['id']}/progress", "taibai", json={"completed_quantity": 160})
    api.post(f"/tasks/{by_code['500102']['id']}/progress", "fuling", json={"completed_quantity": 300})
    drain(world)
    before_last = api.get(f"/tasks/{city['id']}", "city").json()
    assert before_last["status"] == "open"
    assert before_last["completed_quantity"] == 910.5
    api.post(f"/tasks/{by_code['LJXQ']['id']}/progress", "admin", json={"completed_quantity": 100})
    drain(world)
    # Reached, every leaf waits for 验收 from the level above; the city's target is not done before that.
    assert api.get(f"/tasks/{city['id']}", "city").json()["status"] == "open"
    for leaf, verifier in (
        (village, "gaosuntang"),
        (taibai, "wanzhou"),
        (by_code["500102"], "city"),
        (by_code["LJXQ"], "city"),
    ):
        accepted = api.post(f"/tasks/{leaf['id']}/verify", verifier, json={"accepted": True})
        assert accepted.json()["status"] == "done", accepted.text
    drain(world)
    final = api.get(f"/tasks/{city['id']}", "city").json()
    assert final["status"] == "done"
    assert final["completed_quantity"] == 1010.5
    actions = [entry["action"] for entry in api.get(f"/tasks/{city['id']}/timeline", "city").json()["items"]]
    assert actions[:2] == ["created", "split"]
    assert actions[-1] == "done"
    assert "rolled_up" in actions


def test_issue_is_submitted_then_verified_by_the_level_above(api: Api) -> None:
    issue = create(
        api,
        "gaosuntang",
        kind="issue",
        title="盗伐林木",
        category="illegal_logging",
        jurisdiction_code="500101001001",
        target_quantity=None,
        unit=None,
    )
    submitted = api.post(f"/tasks/{issue['id']}/complete", "village", json={"note": "已处置"}).json()
    assert submitted["status"] == "submitted"
    # Nobody verifies their own work.
    assert api.post(f"/tasks/{issue['id']}/verify", "village", json={"accepted": True}).status_code == 403
    back = api.post(f"/tasks/{issue['id']}/verify", "gaosuntang", json={"accepted": False, "note": "伐桩未处理"})
    assert back.status_code == 200
    assert back.json()["status"] == "open"
    assert api.post(f"/tasks/{issue['id']}/verify", "gaosuntang", json={"accepted": False}).status_code == 409
    api.post(f"/tasks/{issue['id']}/complete", "village", json={})
    done = api.post(f"/tasks/{issue['id']}/verify", "wanzhou", json={"accepted": True, "note": "销号"}).json()
    assert done["status"] == "done"
    assert done["done_on"] == "2021-03-01"
    timeline = api.get(f"/tasks/{issue['id']}/timeline", "village").json()["items"]
    assert [(e["action"], e["actor"]) for e in timeline] == [
        ("created", "高笋塘街道林长"),
        ("submitted", "示范村林长"),
        ("sent_back", "高笋塘街道林长"),
        ("submitted", "示范村林长"),
        ("verified", "万州区林长"),
    ]
    assert timeline[2]["detail"]["reason"] == "伐桩未处理"


def test_an_order_is_done_when_completed(api: Api) -> None:
    order = create(
        api,
        "wanzhou",
        kind="order",
        title="林长令：春季防火",
        jurisdiction_code="500101001",
        target_quantity=None,
        unit=None,
    )
    assert api.post(f"/tasks/{order['id']}/complete", "gaosuntang", json={}).json()["status"] == "done"
    assert api.post(f"/tasks/{order['id']}/complete", "gaosuntang", json={}).status_code == 409


def test_overdue_tasks_are_flagged_and_filtered(api: Api, clock: FixedClock) -> None:
    soon = create(
        api,
        "wanzhou",
        kind="order",
        title="甲",
        jurisdiction_code="500101",
        due_date="2021-03-02",
        target_quantity=None,
        unit=None,
    )
    create(
        api,
        "wanzhou",
        kind="order",
        title="乙",
        jurisdiction_code="500101",
        due_date="2021-06-30",
        target_quantity=None,
        unit=None,
    )
    clock.advance(timedelta(days=1))
    api.forget()  # a day later the morning's token has expired
    assert api.get(f"/tasks/{soon['id']}", "wanzhou").json()["overdue"] is False  # due today, inclusive
    clock.advance(timedelta(days=1))
    api.forget()
    assert api.get(f"/tasks/{soon['id']}", "wanzhou").json()["overdue"] is True
    listed = api.get("/tasks", "wanzhou", params={"jurisdiction_code": "500101", "overdue": "true"}).json()["items"]
    assert [item["title"] for item in listed] == ["甲"]


def test_listing_is_scoped_sorted_and_paginated(api: Api) -> None:
    for day in (20, 10, 30, 15):
        create(
            api,
            "wanzhou",
            kind="order",
            title=f"四月{day}日",
            jurisdiction_code="500101",
            due_date=f"2021-04-{day}",
            target_quantity=None,
            unit=None,
        )
    create(
        api,
        "fuling",
        kind="order",
        title="涪陵的",
        jurisdiction_code="500102",
        due_date="2021-04-01",
        target_quantity=None,
        unit=None,
    )
    titles, cursor = [], None
    while True:
        page = api.get(
            "/tasks",
            "wanzhou",
            params={"jurisdiction_code": "500101", "limit": 3, **({"cursor": cursor} if cursor else {})},
        ).json()
        titles += [item["title"] for item in page["items"]]
        if not (cursor := page["next"]):
            break
    assert titles == ["四月10日", "四月15日", "四月20日", "四月30日"]
    everything = api.get("/tasks", "wanzhou").json()["items"]
    assert "涪陵的" not in {item["title"] for item in everything}
    assert api.get("/tasks", "wanzhou", params={"jurisdiction_code": "500102"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"target_quantity": -5}, 422, "target_quantity"),
        ({"target_quantity": "lots"}, 400, "target_quantity"),
        ({"target_quantity": 0}, 422, "quantity_too_small"),
        ({"due_date": "2021-02-30"}, 400, "due_date"),
        ({"due_date": "2021-02-28"}, 422, "due_date_in_past"),
        ({"due_date": None}, 422, "due_date_ambiguous"),
        ({"due_in_workdays": 3}, 422, "due_date_ambiguous"),
        ({"jurisdiction_code": "999"}, 404, "jurisdiction_not_found"),
        ({"kind": "wish"}, 400, "kind"),
        ({"title": "  "}, 422, "title"),
        ({"kind": "issue"}, 422, "target_quantity_not_allowed"),
        ({"jurisdiction_code": "500102"}, 404, "jurisdiction_not_found"),
        ({"unexpected": 1}, 400, "unexpected"),
    ],
)
def test_bad_tasks_answer_4xx_and_write_nothing(
    api: Api, world: Container, body: dict, status: int, words: str
) -> None:  # type: ignore[type-arg]
    before = counts(world)
    payload = {
        "title": "营造林",
        "kind": "target",
        "jurisdiction_code": "500101",
        "due_date": "2021-12-31",
        "target_quantity": 10,
        "unit": "亩",
        **body,
    }
    response = api.post("/tasks", "wanzhou", json=payload)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.text
    assert counts(world) == before


def test_bad_splits_and_reports_write_nothing(api: Api, world: Container) -> None:
    task = create(api, "wanzhou", jurisdiction_code="500101", target_quantity=100)
    cases = [
        (
            "split",
            "wanzhou",
            {
                "parts": [
                    {"jurisdiction_code": "500101001", "target_quantity": 60},
                    {"jurisdiction_code": "500101002", "target_quantity": 30},
                ]
            },
            422,
            "各份合计 90",
        ),
        (
            "split",
            "wanzhou",
            {"parts": [{"jurisdiction_code": "500102", "target_quantity": 100}]},
            422,
            "split_not_a_child",
        ),
        (
            "split",
            "wanzhou",
            {"parts": [{"jurisdiction_code": "500101001001", "target_quantity": 100}]},
            422,
            "split_not_a_child",
        ),
        (
            "split",
            "wanzhou",
            {
                "parts": [
                    {"jurisdiction_code": "500101001", "target_quantity": -100},
                    {"jurisdiction_code": "500101002", "target_quantity": 200},
                ]
            },
            422,
            "quantity_too_small",
        ),
        (
            "split",
            "fuling",
            {"parts": [{"jurisdiction_code": "500101001", "target_quantity": 100}]},
            404,
            "task_not_found",
        ),
        ("progress", "wanzhou", {"completed_quantity": -1}, 422, "quantity_too_small"),
        ("progress", "wanzhou", {"completed_quantity": "x"}, 400, "completed_quantity"),
        ("progress", "gaosuntang", {"completed_quantity": 1}, 404, "task_not_found"),
        ("progress", "city", {"completed_quantity": 1}, 403, "own_jurisdiction_only"),
        ("progress", "fuling", {"completed_quantity": 1}, 404, "task_not_found"),
        ("complete", "wanzhou", {}, 409, "target_not_reached"),
        ("verify", "city", {"accepted": True}, 409, "not_submitted"),
    ]
    for action, user, body, status, words in cases:
        before = counts(world)
        response = api.post(f"/tasks/{task['id']}/{action}", user, json=body)
        assert (response.status_code, words in response.text) == (status, True), (action, user, body, response.text)
        assert counts(world) == before, (action, body)

    api.post(
        f"/tasks/{task['id']}/split",
        "wanzhou",
        json={"parts": [{"jurisdiction_code": "500101001", "target_quantity": 100}]},
    )
    before = counts(world)
    on_parent = api.post(f"/tasks/{task['id']}/progress", "wanzhou", json={"completed_quantity": 5})
    assert on_parent.status_code == 409
    assert on_parent.json()["code"] == "target_split"
    again = api.post(
        f"/tasks/{task['id']}/split",
        "wanzhou",
        json={"parts": [{"jurisdiction_code": "500101001", "target_quantity": 100}]},
    )
    assert again.status_code == 409
    assert counts(world) == before


def test_no_report_on_a_done_task(api: Api, world: Container) -> None:
    task = create(api, "wanzhou", jurisdiction_code="500101", target_quantity=10)
    assert (
        api.post(f"/tasks/{task['id']}/progress", "wanzhou", json={"completed_quantity": 10}).json()["status"]
        == "submitted"
    )
    assert api.post(f"/tasks/{task['id']}/verify", "city", json={"accepted": True}).json()["status"] == "done"
    before = counts(world)
    late = api.post(f"/tasks/{task['id']}/progress", "wanzhou", json={"completed_quantity": 3})
    assert late.status_code == 409
    assert counts(world) == before


def test_every_change_is_an_event_on_the_bus(api: Api, world: Container) -> None:
    task = create(api, "wanzhou", jurisdiction_code="500101", target_quantity=10)
    api.post(
        f"/tasks/{task['id']}/split",
        "wanzhou",
        json={"parts": [{"jurisdiction_code": "500101001", "target_quantity": 10}]},
    )
    with world.engine.connect() as connection:
        types = connection.execute(select(events_table.c.event_type).order_by(events_table.c.position)).scalars().all()
    assert [t for t in types if t.startswith("Task")] == ["TaskCreated", "TaskSplit", "TaskCreated"]
