"""Escalation over HTTP and the real bus: overdue work climbs village -> township -> district -> city."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from linzhang.bus import SubscriberRegistry
from linzhang.cli import cli
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.escalation import SWEEPER, sweep
from linzhang.domains.tasks.tables import escalations_table
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.world import Api, api_client, seeded_world

ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "city-office": (Role.OFFICE, "50"),
    "wanzhou": (Role.CHIEF, "500101"),
    "wanzhou-office": (Role.OFFICE, "500101"),
    "fuling": (Role.CHIEF, "500102"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "village": (Role.CHIEF, "500101001001"),
}


def shanghai(text: str) -> str:
    return f"{text}+08:00"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 3, 1, 1, tzinfo=UTC))


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry, clock: FixedClock) -> Iterator[Container]:
    with seeded_world(settings, registry, clock, ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def at(api: Api, clock: FixedClock, when: str) -> None:
    clock.set(datetime.fromisoformat(shanghai(when)))
    api.forget()  # tokens issued at another time have expired or are not valid yet


def run_sweep(api: Api, when: str) -> dict:  # type: ignore[type-arg]
    response = api.post("/escalations/sweep", "admin", json={"as_of": shanghai(when)})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def inbox(api: Api, user: str, box: str = "all") -> list[dict]:  # type: ignore[type-arg]
    return api.get("/inbox", user, params={"box": box}).json()["items"]  # type: ignore[no-any-return]


def new_issue(api: Api, due: str = "2021-03-03") -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/tasks",
        "gaosuntang",
        json={
            "title": "松材线虫病疫木",
            "kind": "issue",
            "category": "pest_control",
            "jurisdiction_code": "500101001001",
            "due_date": due,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_whole_cascade_and_its_end(api: Api, world: Container, clock: FixedClock) -> None:
    issue = new_issue(api)
    drain(world)
    assert [item["reason"] for item in inbox(api, "village")] == ["assigned"]

    at(api, clock, "2021-03-03T18:00:00")
    assert run_sweep(api, "2021-03-03T18:00:00")["escalated"] == 0  # due today: not overdue yet

    at(api, clock, "2021-03-04T09:00:00")
    assert run_sweep(api, "2021-03-04T09:00:00")["escalated"] == 1
    assert run_sweep(api, "2021-03-04T09:00:00")["escalated"] == 0  # the same sweep again changes nothing
    drain(world)
    task = api.get(f"/tasks/{issue['id']}", "village").json()
    assert (task["holder_code"], task["holder_level"], task["escalation_due_date"]) == (
        "500101001",
        "township",
        "2021-03-11",
    )
    assert task["overdue"] is True
    assert [(e["from_code"], e["to_code"]) for e in task["escalations"]] == [("500101001001", "500101001")]
    (supervising,) = inbox(api, "gaosuntang", "supervising")
    assert (supervising["task_id"], supervising["reason"], supervising["deadline"]) == (
        issue["id"],
        "escalated",
        "2021-03-11",
    )
    # One definition of overdue: the supervisor sees the task as overdue as it is; its own deadline is beside it.
    assert (supervising["overdue"], supervising["days_overdue"], supervising["due_soon"]) == (True, 1, False)
    (todo,) = inbox(api, "village", "todo")
    assert todo["overdue"] is True
    assert todo["days_overdue"] == 1

    at(api, clock, "2021-03-12T09:00:00")
    assert run_sweep(api, "2021-03-12T09:00:00")["escalated"] == 1
    drain(world)
    assert inbox(api, "gaosuntang", "supervising") == []  # it climbed on: the township no longer holds it
    assert [item["task_id"] for item in inbox(api, "wanzhou", "supervising")] == [issue["id"]]
    assert [item["task_id"] for item in inbox(api, "village", "todo")] == [issue["id"]]  # the owner still owns it

    at(api, clock, "2021-03-22T09:00:00")
    assert run_sweep(api, "2021-03-22T09:00:00")["escalated"] == 1
    drain(world)
    board = api.get("/escalations/board", "city-office", params={"level": "city"}).json()
    assert board["total"] == 1
    assert board["by_district"] == [{"code": "500101", "name": "万州区", "count": 1}]
    (item,) = board["items"]
    assert item["climb"] == ["500101001001", "500101001", "500101", "50"]
    assert item["path"] == ["50", "500101", "500101001", "500101001001"]
    assert item["days_overdue"] == 19
    # The task, every inbox showing it and the board agree on "is it overdue, and by how much".
    task = api.get(f"/tasks/{issue['id']}", "city-office").json()
    assert (task["overdue"], task["days_overdue"]) == (True, 19)
    for user, box in (("village", "todo"), ("city-office", "supervising")):
        (shown,) = [i for i in inbox(api, user, box) if i["task_id"] == issue["id"]]
        assert (shown["overdue"], shown["days_overdue"]) == (True, 19), (user, box)
    assert sum(bucket["count"] for bucket in board["aging"]) == 1
    assert next(b for b in board["aging"] if b["count"])["code"] == "16-30"

    at(api, clock, "2021-05-01T09:00:00")
    assert run_sweep(api, "2021-05-01T09:00:00")["escalated"] == 0  # the city is the top
    assert api.get(f"/tasks/{issue['id']}", "village").json()["holder_level"] == "city"

    # Completing it (an issue: handled, then verified from above) ends the escalation everywhere.
    api.post(f"/tasks/{issue['id']}/complete", "village", json={"note": "疫木已除治"})
    assert api.post(f"/tasks/{issue['id']}/verify", "wanzhou", json={"accepted": True}).json()["status"] == "done"
    drain(world)
    assert api.get("/escalations/board", "city-office", params={"level": "city"}).json()["total"] == 0
    for user in ("village", "gaosuntang", "wanzhou"):
        assert inbox(api, user) == []
    with world.engine.connect() as connection:
        assert connection.execute(select(func.count()).where(escalations_table.c.closed_at.is_(None))).scalar_one() == 0
    actions = [entry["action"] for entry in api.get(f"/tasks/{issue['id']}/timeline", "village").json()["items"]]
    assert actions.count("escalated") == 3


def test_sweeps_are_for_admins_and_never_go_back_in_time(api: Api, clock: FixedClock) -> None:
    assert api.post("/escalations/sweep", "city-office", json={}).status_code == 403
    at(api, clock, "2021-03-10T09:00:00")
    run_sweep(api, "2021-03-10T09:00:00")
    earlier = api.post("/escalations/sweep", "admin", json={"as_of": shanghai("2021-03-09T09:00:00")})
    assert earlier.status_code == 409
    assert earlier.json()["code"] == "as_of_before_last_sweep"
    naive = api.post("/escalations/sweep", "admin", json={"as_of": "2021-03-11T09:00:00"})
    assert naive.status_code == 422


def test_done_work_never_escalates_and_submitted_waits(api: Api, clock: FixedClock) -> None:
    issue = new_issue(api)
    order = api.post(
        "/tasks",
        "wanzhou",
        json={"title": "林长令", "kind": "order", "jurisdiction_code": "500101001", "due_date": "2021-03-02"},
    ).json()
    api.post(f"/tasks/{order['id']}/complete", "gaosuntang", json={})
    api.post(f"/tasks/{issue['id']}/complete", "village", json={})
    at(api, clock, "2021-04-01T09:00:00")
    assert run_sweep(api, "2021-04-01T09:00:00")["escalated"] == 0
    # Sent back, the issue is open and overdue again: it climbs.
    api.post(f"/tasks/{issue['id']}/verify", "gaosuntang", json={"accepted": False, "note": "未清理"})
    at(api, clock, "2021-04-01T10:00:00")
    assert run_sweep(api, "2021-04-01T10:00:00")["escalated"] == 1


def test_a_supervision_order_sets_a_new_deadline(api: Api, world: Container, clock: FixedClock) -> None:
    issue = new_issue(api)
    at(api, clock, "2021-03-04T09:00:00")
    run_sweep(api, "2021-03-04T09:00:00")
    response = api.post(
        f"/tasks/{issue['id']}/supervise", "gaosuntang", json={"note": "限期整改", "new_due_date": "2021-03-25"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["escalation_due_date"] == "2021-03-25"
    at(api, clock, "2021-03-20T09:00:00")
    assert run_sweep(api, "2021-03-20T09:00:00")["escalated"] == 0  # within the new deadline
    at(api, clock, "2021-03-26T09:00:00")
    assert run_sweep(api, "2021-03-26T09:00:00")["escalated"] == 1
    assert api.post(f"/tasks/{issue['id']}/comments", "wanzhou", json={"text": "请街道督促"}).status_code == 201
    summons = api.post(f"/tasks/{issue['id']}/summons", "wanzhou", json={"held_on": "2021-03-26", "note": "约谈村支书"})
    assert summons.status_code == 201, summons.text
    timeline = api.get(f"/tasks/{issue['id']}/timeline", "wanzhou").json()["items"]
    assert [e["action"] for e in timeline if e["action"] in {"supervised", "commented", "summons"}] == [
        "supervised",
        "commented",
        "summons",
    ]
    # Acting is for the levels above: not the owner itself, not outside the subtree.
    assert api.post(f"/tasks/{issue['id']}/comments", "village", json={"text": "x"}).status_code == 403
    assert api.post(f"/tasks/{issue['id']}/comments", "fuling", json={"text": "x"}).status_code == 404
    assert (
        api.post(
            f"/tasks/{issue['id']}/supervise", "wanzhou", json={"note": "x", "new_due_date": "2021-01-01"}
        ).status_code
        == 422
    )
    assert (
        api.post(f"/tasks/{issue['id']}/summons", "wanzhou", json={"held_on": "2021-12-01", "note": "x"}).status_code
        == 422
    )


def test_boards_by_level_and_scope(api: Api, world: Container, clock: FixedClock) -> None:
    new_issue(api)
    api.post(
        "/tasks",
        "fuling",
        # A township's issue: it climbs straight to its district, once overdue on 10 March.
        json={"title": "林地占用", "kind": "issue", "jurisdiction_code": "500102001", "due_date": "2021-03-09"},
    )
    at(api, clock, "2021-03-04T09:00:00")
    run_sweep(api, "2021-03-04T09:00:00")
    at(api, clock, "2021-03-12T09:00:00")
    run_sweep(api, "2021-03-12T09:00:00")
    district_board = api.get("/escalations/board", "city-office", params={"level": "district"}).json()
    assert district_board["total"] == 2
    assert {d["code"] for d in district_board["by_district"]} == {"500101", "500102"}
    own = api.get("/escalations/board", "wanzhou-office", params={"level": "district"}).json()
    assert own["total"] == 1
    assert own["items"][0]["holder_code"] == "500101"
    above = api.get("/escalations/board", "wanzhou", params={"level": "city"})
    assert above.status_code == 403
    assert above.json()["code"] == "board_level_above"
    assert api.get("/escalations/board", "wanzhou", params={"level": "village"}).status_code == 422


def test_inbox_flags_sorting_and_pages(api: Api, world: Container, clock: FixedClock) -> None:
    for title, due in (
        ("三月五日", "2021-03-05"),
        ("三月二日", "2021-03-02"),
        ("四月", "2021-04-30"),
        ("三月八日", "2021-03-08"),
    ):
        api.post(
            "/tasks",
            "gaosuntang",
            json={"title": title, "kind": "order", "jurisdiction_code": "500101001001", "due_date": due},
        )
    drain(world)
    at(api, clock, "2021-03-03T09:00:00")
    items, cursor = [], None
    while True:
        page = api.get("/inbox", "village", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        if not (cursor := page["next"]):
            break
    assert [i["title"] for i in items] == ["三月二日", "三月五日", "三月八日", "四月"]
    assert [(i["overdue"], i["due_soon"]) for i in items] == [
        (True, False),
        (False, True),
        (False, True),
        (False, False),
    ]
    assert api.get("/inbox", "admin").status_code == 422
    assert len(api.get("/inbox", "admin", params={"jurisdiction_code": "500101001001"}).json()["items"]) == 4
    assert api.get("/inbox", "fuling", params={"jurisdiction_code": "500101001001"}).status_code == 404


def test_racing_sweeps_escalate_each_task_once(world: Container, clock: FixedClock) -> None:
    context = world.context(TasksContext)
    with api_client(world) as api:
        for _ in range(30):
            new_issue(api)
    as_of = datetime.fromisoformat(shanghai("2021-03-04T09:00:00"))
    clock.set(as_of)
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def race() -> None:
        try:
            with world.session_factory() as session:
                barrier.wait()
                with session.begin():
                    results.append(sweep(session, SWEEPER, context, as_of).escalated)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 30
    with world.engine.connect() as connection:
        per_task = connection.execute(
            select(escalations_table.c.task_id, func.count()).group_by(escalations_table.c.task_id)
        ).all()
    assert len(per_task) == 30
    assert {count for _, count in per_task} == {1}


def test_cli_sweep(world: Container, settings: Settings, clock: FixedClock) -> None:
    with api_client(world) as api:
        new_issue(api)
    env = {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
    }
    result = CliRunner().invoke(cli, ["sweep", "--as-of", "2021-03-04T09:00:00+08:00"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 项任务上升督办" in result.output
    again = CliRunner().invoke(cli, ["sweep", "--as-of", "2021-03-01T09:00:00+08:00"], env=env)
    assert again.exit_code == 1
    assert "早于上次扫描" in again.output
    assert CliRunner().invoke(cli, ["sweep", "--as-of", "tomorrow"], env=env).exit_code == 2
