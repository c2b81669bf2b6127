"""The rules people rely on, over HTTP and the real bus: 督办 by the holder, 验收 with corrections, the
待核查 box, categories as a vocabulary, planned summonses (约谈)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.domains.tasks.tables import Summons, Task, TimelineEntry
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.world import Api, api_client, seeded_world

ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "city": (Role.CHIEF, "50"),
    "wanzhou": (Role.CHIEF, "500101"),
    "fuling": (Role.CHIEF, "500102"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "taibai": (Role.CHIEF, "500101002"),
    "village": (Role.CHIEF, "500101001001"),
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 3, 1, 1, tzinfo=UTC))  # Monday 1 March 2021, 09:00 in Shanghai


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry, clock: FixedClock) -> Iterator[Container]:
    with seeded_world(settings, registry, clock, ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def at(api: Api, clock: FixedClock, when: str) -> None:
    clock.set(datetime.fromisoformat(f"{when}+08:00"))
    api.forget()


def sweep(api: Api, when: str) -> int:
    response = api.post("/escalations/sweep", "admin", json={"as_of": f"{when}+08:00"})
    assert response.status_code == 200, response.text
    return int(response.json()["escalated"])


def rows(world: Container) -> tuple[int, int, int]:
    with world.engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(Task)).scalar_one(),
            connection.execute(select(func.count()).select_from(TimelineEntry)).scalar_one(),
            connection.execute(select(func.count()).select_from(Summons)).scalar_one(),
        )


def inbox(api: Api, user: str, box: str = "all") -> dict:  # type: ignore[type-arg]
    response = api.get("/inbox", user, params={"box": box})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_supervision_cannot_switch_escalation_off(api: Api, world: Container, clock: FixedClock) -> None:
    order = api.post(
        "/tasks",
        "gaosuntang",
        json={
            "title": "清理火险隐患",
            "kind": "order",
            "category": "fire_prevention",
            "jurisdiction_code": "500101001001",
            "due_date": "2021-03-03",
        },
    ).json()
    url = f"/tasks/{order['id']}/supervise"
    # Never escalated: nothing to supervise, however far ahead the deadline.
    refused = api.post(url, "gaosuntang", json={"note": "限期", "new_due_date": "2100-12-31"})
    assert (refused.status_code, refused.json()["code"]) == (409, "not_escalated")

    at(api, clock, "2021-03-04T09:00:00")
    assert sweep(api, "2021-03-04T09:00:00") == 1  # now held by the township
    before = rows(world)
    for body, code in (
        ({"note": "限期", "new_due_date": "2100-12-31"}, "deadline_too_far"),
        ({"note": "限期", "new_due_date": "2021-04-02"}, "deadline_too_far"),  # 21 working days ahead
        ({"note": "限期", "new_due_date": "2021-03-06"}, "not_a_workday"),  # a Saturday
        ({"note": "限期", "new_due_date": "2021-03-03"}, "date_in_past"),
    ):
        response = api.post(url, "gaosuntang", json=body)
        assert (response.status_code, response.json().get("code"), response.json().get("field")) == (
            422,
            code,
            "new_due_date",
        ), response.text
    assert rows(world) == before
    # The owner and another district cannot supervise at all.
    assert api.post(url, "village", json={"note": "x", "new_due_date": "2021-03-10"}).status_code == 403
    assert api.post(url, "fuling", json={"note": "x", "new_due_date": "2021-03-10"}).status_code == 404

    # The level above the holder may supervise; the work stays with its holder (never moves down).
    upheld = api.post(url, "wanzhou", json={"note": "区林长督办", "new_due_date": "2021-03-31"})
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["holder_code"], upheld.json()["escalation_due_date"]) == ("500101001", "2021-03-31")

    at(api, clock, "2021-04-01T09:00:00")
    assert sweep(api, "2021-04-01T09:00:00") == 1  # past the 督办 deadline: it climbs to the district
    held_above = api.post(url, "gaosuntang", json={"note": "x", "new_due_date": "2021-04-06"})
    assert (held_above.status_code, held_above.json()["code"]) == (403, "not_holder_or_above")
    assert api.post(url, "wanzhou", json={"note": "再次督办", "new_due_date": "2021-04-07"}).status_code == 200
    board = api.get("/escalations/board", "wanzhou", params={"level": "district"}).json()
    assert board["by_category"] == [{"code": "fire_prevention", "name": "森林防火", "count": 1}]
    assert api.post(url, "city", json={"note": "市级督办", "new_due_date": "2021-04-08"}).status_code == 200


def test_a_typo_is_corrected_before_acceptance_and_nothing_closes_on_it(
    api: Api, world: Container, clock: FixedClock
) -> None:
    district = api.post(
        "/tasks",
        "wanzhou",
        json={
            "title": "营造林",
            "kind": "target",
            "category": "afforestation",
            "jurisdiction_code": "500101",
            "due_date": "2021-06-30",
            "target_quantity": 1856,
            "unit": "亩",
        },
    ).json()
    township, _ = api.post(
        f"/tasks/{district['id']}/split",
        "wanzhou",
        json={
            "parts": [
                {"jurisdiction_code": "500101001", "target_quantity": 1756},
                {"jurisdiction_code": "500101002", "target_quantity": 100},
            ]
        },
    ).json()["items"]
    (village,) = api.post(
        f"/tasks/{township['id']}/split",
        "gaosuntang",
        json={"parts": [{"jurisdiction_code": "500101001001", "target_quantity": 1756}]},
    ).json()["items"]
    progress = f"/tasks/{village['id']}/progress"

    # 2000 instead of 200: reached, so submitted for 验收 - not done, and its township is not closed.
    typo = api.post(progress, "village", json={"completed_quantity": 2000}).json()
    assert (typo["status"], typo["over_target"], typo["excess_quantity"]) == ("submitted", True, 244)
    drain(world)
    assert api.get(f"/tasks/{township['id']}", "wanzhou").json()["status"] == "open"
    assert api.get(f"/tasks/{district['id']}", "wanzhou").json()["completed_quantity"] == 2000

    # Lowering the figure needs a reason; with one it is corrected, on the timeline, and rolls up.
    before = rows(world)
    no_reason = api.post(progress, "village", json={"completed_quantity": 200})
    assert (no_reason.status_code, no_reason.json()["code"], no_reason.json()["field"]) == (
        422,
        "reason_required",
        "reason",
    )
    assert rows(world) == before
    fixed = api.post(progress, "village", json={"completed_quantity": 200, "reason": "误报，多写了一个零"}).json()
    assert (fixed["status"], fixed["completed_quantity"], fixed["over_target"]) == ("open", 200, False)
    drain(world)
    assert api.get(f"/tasks/{district['id']}", "wanzhou").json()["completed_quantity"] == 200
    timeline = api.get(f"/tasks/{village['id']}/timeline", "village").json()["items"]
    (correction,) = [e for e in timeline if e["action"] == "corrected"]
    assert correction["detail"] == {
        "completed_quantity": "200",
        "previous": "2000",
        "note": None,
        "reason": "误报，多写了一个零",
    }

    # Reached for real: the township has it to accept (待核查); it sends it back, then accepts an over-fulfilment.
    api.post(progress, "village", json={"completed_quantity": 1756})
    drain(world)
    review = inbox(api, "gaosuntang", "review")
    assert [(i["task_id"], i["box"], i["reason"]) for i in review["items"]] == [(village["id"], "review", "acceptance")]
    assert review["counts"]["review"] == 1
    verify = f"/tasks/{village['id']}/verify"
    assert api.post(verify, "village", json={"accepted": True}).status_code == 403  # never one's own
    assert api.post(verify, "fuling", json={"accepted": True}).status_code == 404
    sent_back = api.post(verify, "gaosuntang", json={"accepted": False, "note": "台账与现场不符"}).json()
    assert sent_back["status"] == "open"
    api.post(progress, "village", json={"completed_quantity": 1800, "note": "补报"})
    accepted = api.post(verify, "gaosuntang", json={"accepted": True, "note": "验收合格"}).json()
    assert (accepted["status"], accepted["over_target"], accepted["excess_quantity"]) == ("done", True, 44)
    assert api.post(progress, "village", json={"completed_quantity": 1700, "reason": "x"}).status_code == 409
    drain(world)
    assert inbox(api, "gaosuntang", "review")["items"] == []
    # Its only part accepted, the township's target is done; the district waits for 太白.
    assert api.get(f"/tasks/{township['id']}", "wanzhou").json()["status"] == "done"
    assert api.get(f"/tasks/{district['id']}", "wanzhou").json()["status"] == "open"
    actions = [e["action"] for e in api.get(f"/tasks/{village['id']}/timeline", "village").json()["items"]]
    assert actions[-3:] == ["progress", "submitted", "accepted"]


def test_submitted_issues_wait_in_the_verifiers_review_box(api: Api, world: Container) -> None:
    issue = api.post(
        "/tasks",
        "gaosuntang",
        json={
            "title": "松材线虫病疫木",
            "kind": "issue",
            "category": "pest_control",
            "jurisdiction_code": "500101001001",
            "due_date": "2021-03-03",
        },
    ).json()
    api.post(f"/tasks/{issue['id']}/complete", "village", json={})
    drain(world)
    page = inbox(api, "gaosuntang")
    (item,) = [i for i in page["items"] if i["box"] == "review"]
    assert (item["task_id"], item["reason"], item["status"]) == (issue["id"], "verification", "submitted")
    assert (item["jurisdiction_code"], item["jurisdiction_name"]) == ("500101001001", "示范村")
    assert page["counts"] == {"todo": 0, "supervising": 0, "review": 1}
    assert inbox(api, "wanzhou", "review")["items"] == []  # the level above the owner verifies, not the district
    api.post(f"/tasks/{issue['id']}/verify", "gaosuntang", json={"accepted": True})
    drain(world)
    assert inbox(api, "gaosuntang")["counts"]["review"] == 0


def test_categories_are_a_vocabulary(api: Api, world: Container) -> None:
    body = {"title": "松材线虫病", "kind": "issue", "jurisdiction_code": "500101001001", "due_date": "2021-03-10"}
    before = rows(world)
    refused = api.post("/tasks", "gaosuntang", json={**body, "category": "病虫害"})
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["code"], problem["field"]) == ("unknown_category", "category")
    assert {"code": "pest_control", "name": "有害生物防治"} in problem["allowed"]
    assert "pest_control（有害生物防治）" in problem["detail"]
    assert rows(world) == before
    created = api.post("/tasks", "gaosuntang", json={**body, "category": "pest_control"})
    assert created.status_code == 201
    assert (created.json()["category"], created.json()["category_name"]) == ("pest_control", "有害生物防治")


def test_a_summons_is_planned_then_held(api: Api, world: Container, clock: FixedClock) -> None:
    issue = api.post(
        "/tasks",
        "gaosuntang",
        json={"title": "违规用火", "kind": "issue", "jurisdiction_code": "500101001001", "due_date": "2021-03-03"},
    ).json()
    url = f"/tasks/{issue['id']}/summons"
    before = rows(world)
    assert api.post(url, "wanzhou", json={"place": "区林长办"}).json()["code"] == "date_required"
    assert api.post(url, "wanzhou", json={"planned_on": "2021-02-26", "place": "x"}).status_code == 422
    assert api.post(url, "wanzhou", json={"planned_on": "2021-03-05"}).json()["code"] == "place_required"
    assert api.post(url, "village", json={"planned_on": "2021-03-05", "place": "x"}).status_code == 403
    assert rows(world) == before

    planned = api.post(
        url, "wanzhou", json={"planned_on": "2021-03-05", "place": "万州区林长办会议室", "attendees": ["李四 村支书"]}
    )
    assert planned.status_code == 201, planned.text
    summons = planned.json()
    assert (summons["status"], summons["summoned_code"], summons["summoned_name"]) == (
        "planned",
        "500101001001",
        "示范村",
    )
    assert api.post(url, "wanzhou", json={"planned_on": "2021-03-08", "place": "x"}).json()["code"] == (
        "summons_already_planned"
    )
    drain(world)
    (item,) = [i for i in inbox(api, "village", "todo")["items"] if i["reason"] == "summons"]
    assert (item["box"], item["deadline"], item["summons_id"]) == ("todo", "2021-03-05", summons["id"])

    at(api, clock, "2021-03-05T16:00:00")
    held_url = f"{url}/{summons['id']}/held"
    assert api.post(held_url, "wanzhou", json={"held_on": "2021-03-05", "minutes": ""}).status_code == 422
    held = api.post(held_url, "wanzhou", json={"held_on": "2021-03-05", "minutes": "责令三日内清理火源"})
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["minutes"], held.json()["attendees"]) == (
        "held",
        "责令三日内清理火源",
        ["李四 村支书"],
    )
    assert api.post(held_url, "wanzhou", json={"held_on": "2021-03-05", "minutes": "x"}).status_code == 409
    drain(world)
    assert [i for i in inbox(api, "village", "todo")["items"] if i["reason"] == "summons"] == []
    listed = api.get(url, "village").json()["items"]
    assert [s["status"] for s in listed] == ["held"]
    timeline = [e["action"] for e in api.get(f"/tasks/{issue['id']}/timeline", "village").json()["items"]]
    assert timeline[-2:] == ["summons_planned", "summons"]


def test_a_target_awaiting_acceptance_is_the_verifiers_and_does_not_escalate(
    api: Api, world: Container, clock: FixedClock
) -> None:
    target = api.post(
        "/tasks",
        "gaosuntang",
        json={
            "title": "补植补造",
            "kind": "target",
            "category": "afforestation",
            "jurisdiction_code": "500101001001",
            "due_date": "2021-03-03",
            "target_quantity": 50,
            "unit": "亩",
        },
    ).json()
    api.post(f"/tasks/{target['id']}/progress", "village", json={"completed_quantity": 50})
    at(api, clock, "2021-03-10T09:00:00")
    assert sweep(api, "2021-03-10T09:00:00") == 0  # past its date, but waiting for 验收, not for the village
    api.post(f"/tasks/{target['id']}/verify", "gaosuntang", json={"accepted": False, "note": "面积不足"})
    at(api, clock, "2021-03-10T10:00:00")  # a sweep never runs ahead of the clock
    assert sweep(api, "2021-03-10T10:00:00") == 1  # sent back, it is the village's again, and overdue
