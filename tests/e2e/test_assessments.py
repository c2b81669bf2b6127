"""Assessments from real task events through the bus to scores, ranks, vetoes and the workbook."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from openpyxl import load_workbook

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.world import Api, api_client, seeded_world

ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "city-office": (Role.OFFICE, "50"),
    "wanzhou-office": (Role.OFFICE, "500101"),
    "wanzhou": (Role.CHIEF, "500101"),
    "fuling": (Role.CHIEF, "500102"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "taibai": (Role.CHIEF, "500101002"),
    "village": (Role.CHIEF, "500101001001"),
}
CONFIG = Path(__file__).resolve().parents[2] / "config"


def at(api: Api, clock: FixedClock, when: str) -> None:
    clock.set(datetime.fromisoformat(f"{when}+08:00"))
    api.forget()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 3, 1, 1, tzinfo=UTC))


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry, clock: FixedClock) -> Iterator[Container]:
    with seeded_world(settings, registry, clock, ACCOUNTS) as container:
        yield container


def season(api: Api, world: Container, clock: FixedClock) -> dict[str, int]:
    """A season: 高笋塘 reaches its target on time; 太白 falls short; a village issue escalates and is
    sent back once; 涪陵 finishes its order late."""
    ids: dict[str, int] = {}
    target = api.post(
        "/tasks",
        "wanzhou",
        json={
            "title": "营造林",
            "kind": "target",
            "jurisdiction_code": "500101",
            "due_date": "2021-06-30",
            "target_quantity": 100,
            "unit": "亩",
        },
    ).json()
    parts = api.post(
        f"/tasks/{target['id']}/split",
        "wanzhou",
        json={
            "parts": [
                {"jurisdiction_code": "500101001", "target_quantity": 60},
                {"jurisdiction_code": "500101002", "target_quantity": 40},
            ]
        },
    ).json()["items"]
    ids["gaosuntang_target"], ids["taibai_target"] = parts[0]["id"], parts[1]["id"]
    issue = api.post(
        "/tasks",
        "gaosuntang",
        json={"title": "违规用火", "kind": "issue", "jurisdiction_code": "500101001001", "due_date": "2021-03-10"},
    ).json()
    ids["issue"] = issue["id"]
    order = api.post(
        "/tasks",
        "admin",
        json={"title": "林长令", "kind": "order", "jurisdiction_code": "500102", "due_date": "2021-03-05"},
    ).json()
    ids["order"] = order["id"]
    api.post(f"/tasks/{parts[0]['id']}/progress", "gaosuntang", json={"completed_quantity": 60})
    # 验收: the district accepts the township's reached target.
    assert api.post(f"/tasks/{parts[0]['id']}/verify", "wanzhou", json={"accepted": True}).json()["status"] == "done"
    api.post(f"/tasks/{parts[1]['id']}/progress", "taibai", json={"completed_quantity": 10})
    at(api, clock, "2021-03-11T09:00:00")
    assert api.post("/escalations/sweep", "admin", json={"as_of": "2021-03-11T09:00:00+08:00"}).json()["escalated"] == 2
    api.post(f"/tasks/{order['id']}/complete", "fuling", json={})
    api.post(f"/tasks/{issue['id']}/complete", "village", json={})
    api.post(f"/tasks/{issue['id']}/verify", "gaosuntang", json={"accepted": False, "note": "未整改到位"})
    api.post(f"/tasks/{issue['id']}/complete", "village", json={})
    api.post(f"/tasks/{issue['id']}/verify", "gaosuntang", json={"accepted": True})
    drain(world)
    return ids


def test_scores_from_real_events(world: Container, clock: FixedClock) -> None:
    with api_client(world) as api:
        ids = season(api, world, clock)
        at(api, clock, "2022-01-10T09:00:00")
        assert api.post("/assessments", "wanzhou", json={"period": "2021"}).status_code == 403
        run = api.post("/assessments", "city-office", json={"period": "2021"})
        assert run.status_code == 201, run.text
        assert run.json()["status"] == "computed"

        townships = {
            i["jurisdiction_code"]: i
            for i in api.get("/assessments/2021/scores", "city-office", params={"level": "township"}).json()["items"]
        }
        gaosuntang, taibai = townships["500101001"], townships["500101002"]
        # 高笋塘 reached its target on time but its village's issue escalated once and was sent back once.
        assert gaosuntang["components"]["target_completion"] == 100
        assert gaosuntang["components"]["escalations"] == 98
        assert gaosuntang["components"]["issue_rectification"] == 50
        assert {d["task_id"] for d in gaosuntang["deductions"] if d["points"] < 0} == {ids["issue"]}
        # 太白 reached a quarter of its target and missed the due date.
        assert taibai["components"]["target_completion"] == 25
        assert taibai["components"]["timeliness"] == 0
        assert taibai["score"] < gaosuntang["score"]
        assert (gaosuntang["rank"], taibai["rank"]) == (1, 2)
        assert townships["500102001"]["score"] is None  # no work: not assessed
        assert townships["500102001"]["rank"] is None

        districts = {
            i["jurisdiction_code"]: i
            for i in api.get("/assessments/2021/scores", "city-office", params={"level": "district"}).json()["items"]
        }
        assert districts["500102"]["components"]["timeliness"] == 0  # the late order
        assert districts["500101"]["score"] is not None
        grades = {i["grade"] for i in districts.values() if i["score"] is not None}
        assert grades <= {"优秀", "良好", "合格", "不合格"}

        # Scope: a district's office sees its own subtree's scores only.
        mine = api.get("/assessments/2021/scores", "wanzhou-office", params={"level": "township"}).json()["items"]
        assert {i["jurisdiction_code"] for i in mine} == {"500101001", "500101002"}
        assert api.get("/assessments/2021/jurisdictions/500102", "wanzhou-office").status_code == 404

        # Repeatable: the same ledger and rubric give the same scores.
        api.post("/assessments", "city-office", json={"period": "2021"})
        again = {
            i["jurisdiction_code"]: i["score"]
            for i in api.get("/assessments/2021/scores", "city-office", params={"level": "township"}).json()["items"]
        }
        assert again == {code: item["score"] for code, item in townships.items()}

        # A veto fails the grade whatever the points; a bonus raises the score.
        assert (
            api.post(
                "/assessments/2021/vetoes",
                "city-office",
                json={"jurisdiction_code": "500101001", "reason": "发生重大森林火灾"},
            ).status_code
            == 201
        )
        assert (
            api.post(
                "/assessments/2021/vetoes", "city-office", json={"jurisdiction_code": "500101001", "reason": "again"}
            ).status_code
            == 409
        )
        assert (
            api.post(
                "/assessments/2021/vetoes", "wanzhou-office", json={"jurisdiction_code": "500101002", "reason": "x"}
            ).status_code
            == 403
        )
        assert (
            api.post(
                "/assessments/2021/bonuses",
                "city-office",
                json={"jurisdiction_code": "500101002", "item": "innovation", "reason": "经验推广"},
            ).status_code
            == 201
        )
        assert (
            api.post(
                "/assessments/2021/bonuses",
                "city-office",
                json={"jurisdiction_code": "500101002", "item": "nothing", "reason": "x"},
            ).status_code
            == 422
        )
        api.post("/assessments", "city-office", json={"period": "2021"})
        after = {
            i["jurisdiction_code"]: i
            for i in api.get("/assessments/2021/scores", "city-office", params={"level": "township"}).json()["items"]
        }
        assert after["500101001"]["grade"] == "不合格"
        assert after["500101001"]["veto_reason"] == "发生重大森林火灾"
        assert after["500101002"]["score"] == pytest.approx(taibai["score"] + 1)
        assert (after["500101002"]["rank"], after["500101001"]["rank"]) == (1, 2)

        # The workbook: one sheet per level, Chinese headers, ranks and grades.
        response = api.get("/assessments/2021/export.xlsx", "city-office")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        book = load_workbook(io.BytesIO(response.content))
        assert {"区县", "乡镇街道", "村社区"} <= set(book.sheetnames)
        sheet = book["乡镇街道"]
        assert sheet["A1"].value == "2021年度林长制考核结果（乡镇街道）"
        assert [c.value for c in sheet[2]][:5] == ["排名", "区划代码", "名称", "总分", "等级"]
        assert [sheet.cell(row=3, column=c).value for c in (1, 2)] == [1, "500101002"]

        assert api.get("/assessments/2020/scores", "city-office").status_code == 404
        assert api.post("/assessments", "city-office", json={"period": "2021Q9"}).status_code == 422


def test_a_new_rubric_gives_new_scores_from_the_same_ledger(
    world: Container, clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    with api_client(world) as api:
        season(api, world, clock)
        at(api, clock, "2022-01-10T09:00:00")
        api.post("/assessments", "city-office", json={"period": "2021"})
        before = {
            i["jurisdiction_code"]: i["score"]
            for i in api.get("/assessments/2021/scores", "city-office", params={"level": "township"}).json()["items"]
        }
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    rubric = config / "assessment.toml"
    text = rubric.read_text(encoding="utf-8")
    rubric.write_text(text.replace("1 = 2\n2 = 5\n3 = 10\n", "1 = 30\n2 = 40\n3 = 50\n"), encoding="utf-8")
    assert rubric.read_text(encoding="utf-8") != text
    other = bootstrap(msgspec.structs.replace(settings, config_dir=str(config)), clock=clock)
    try:
        with api_client(other) as api:
            at(api, clock, "2022-01-10T09:00:00")
            api.post("/assessments", "city-office", json={"period": "2021"})
            after = {
                i["jurisdiction_code"]: i["score"]
                for i in api.get("/assessments/2021/scores", "city-office", params={"level": "township"}).json()[
                    "items"
                ]
            }
    finally:
        other.close()
    assert after["500101001"] < before["500101001"]  # its escalation now costs 30 points, not 2
    assert after["500101002"] == before["500101002"]  # nothing of its changed
