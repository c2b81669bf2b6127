"""Assessments from real task events through the bus to scores, ranks, vetoes and the workbook."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import msgspec
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.settings import DEFAULTS_DIR, Settings
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
CONFIG = DEFAULTS_DIR


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
        assert (run.json()["status"], run.json()["version"]) == ("draft", 1)

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
        assert sheet["A1"].value == "2021年度林长制考核结果（乡镇（街道））"
        assert [c.value for c in sheet[3]][:5] == ["区县内排名", "全市排名", "区划代码", "名称", "所属区县"]
        assert [sheet.cell(row=4, column=c).value for c in (1, 3)] == [1, "500101002"]

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


def scores_of(api: Api, user: str, level: str = "township", **params: str) -> dict[str, dict]:  # type: ignore[type-arg]
    response = api.get("/assessments/2021/scores", user, params={"level": level, **params})
    assert response.status_code == 200, response.text
    return {i["jurisdiction_code"]: i for i in response.json()["items"]}


def test_later_reports_never_change_an_earlier_period(world: Container, clock: FixedClock) -> None:
    """The record as it stood at as_of: figures, splits, new work and completions after it do not count."""
    with api_client(world) as api:
        ids = season(api, world, clock)
        at(api, clock, "2022-01-10T09:00:00")
        assert api.post("/assessments", "city-office", json={"period": "2021"}).status_code == 201
        before = scores_of(api, "city-office", version="draft")
        assert before["500101002"]["components"]["target_completion"] == 25

        # Years later 太白 corrects its figure upwards, 高笋塘's village issue gets new send-backs...
        at(api, clock, "2026-03-02T09:00:00")
        assert (
            api.post(f"/tasks/{ids['taibai_target']}/progress", "taibai", json={"completed_quantity": 40}).status_code
            == 200
        )
        drain(world)
        assert api.post("/assessments", "city-office", json={"period": "2021"}).status_code == 201
        again = scores_of(api, "city-office", version="draft")
        for code, item in before.items():
            assert (again[code]["score"], again[code]["components"], again[code]["rank"]) == (
                item["score"],
                item["components"],
                item["rank"],
            ), code
        # ... while an assessment as of a later day (2026's own) does see the new figure.
        with world.reading() as session:
            figures = session.execute(
                text("SELECT revision, occurred_on FROM assessments_figures WHERE task_id = :t ORDER BY revision"),
                {"t": ids["taibai_target"]},
            ).all()
        assert [str(day) for _, day in figures][-1] == "2026-03-02"
        assert len(figures) >= 3  # created, the 2021 figure, the 2026 one


def test_a_split_made_after_as_of_is_not_yet_a_split(world: Container, clock: FixedClock) -> None:
    with api_client(world) as api:
        target = api.post(
            "/tasks",
            "wanzhou",
            json={
                "title": "森林抚育",
                "kind": "target",
                "jurisdiction_code": "500101",
                "due_date": "2021-06-30",
                "target_quantity": 50,
                "unit": "亩",
            },
        ).json()
        drain(world)
        at(api, clock, "2021-05-10T09:00:00")
        assert api.post("/assessments", "city-office", json={"period": "2021Q2"}).status_code == 201
        first = scores_of_period(api, "2021Q2", "district")["500101"]
        at(api, clock, "2021-05-20T09:00:00")
        split = api.post(
            f"/tasks/{target['id']}/split",
            "wanzhou",
            json={"parts": [{"jurisdiction_code": "500101001", "target_quantity": 50}]},
        )
        assert split.status_code == 201, split.text
        api.post(f"/tasks/{split.json()['items'][0]['id']}/progress", "gaosuntang", json={"completed_quantity": 20})
        drain(world)
        assert (
            api.post("/assessments", "city-office", json={"period": "2021Q2", "as_of": "2021-05-10"}).status_code == 201
        )
        assert scores_of_period(api, "2021Q2", "district")["500101"]["components"] == first["components"]
        deductions = scores_of_period(api, "2021Q2", "district")["500101"]["deductions"]
        assert {d["task_id"] for d in deductions if d["component"] == "target_completion"} == {target["id"]}


def scores_of_period(api: Api, period: str, level: str) -> dict[str, dict]:  # type: ignore[type-arg]
    response = api.get(f"/assessments/{period}/scores", "city-office", params={"level": level, "version": "draft"})
    assert response.status_code == 200, response.text
    return {i["jurisdiction_code"]: i for i in response.json()["items"]}


def test_draft_publish_and_versions(world: Container, clock: FixedClock) -> None:
    with api_client(world) as api:
        season(api, world, clock)
        at(api, clock, "2022-01-10T09:00:00")
        assert api.post("/assessments/2021/publish", "city-office").status_code == 404
        assert (
            api.post("/assessments", "city-office", json={"period": "2021", "as_of": "2021-12-31"}).status_code == 201
        )
        # A draft is the offices' working copy: chiefs do not see it, nor can they ask for it.
        assert api.get("/assessments/2021/scores", "wanzhou", params={"level": "township"}).status_code == 404
        assert api.get("/assessments/2021", "wanzhou").status_code == 404
        draft = api.get("/assessments/2021/scores", "wanzhou", params={"level": "township", "version": "draft"})
        assert (draft.status_code, draft.json()["code"]) == (403, "assessment_draft_forbidden")
        shown = api.get("/assessments/2021", "city-office").json()
        assert (shown["status"], shown["version"], shown["as_of"], shown["stale"]) == ("draft", 1, "2021-12-31", False)
        assert shown["status_name"] == "草稿"
        assert api.post("/assessments/2021/publish", "wanzhou").status_code == 403

        published = api.post("/assessments/2021/publish", "city-office")
        assert published.status_code == 200, published.text
        assert published.json() == {"period": "2021", "version": 1, "status": "published"}
        again = api.post("/assessments/2021/publish", "city-office")
        assert (again.status_code, again.json()["code"]) == (409, "assessment_already_published")
        v1 = scores_of(api, "wanzhou")  # chiefs read the published version
        assert set(v1) == {"500101001", "500101002"}

        # A veto after publication: the published version stays as it was, and says a newer fact waits.
        api.post("/assessments/2021/vetoes", "city-office", json={"jurisdiction_code": "500101001", "reason": "山火"})
        shown = api.get("/assessments/2021", "wanzhou").json()
        assert (shown["status"], shown["version"], shown["stale"]) == ("published", 1, True)
        assert "500101001" in shown["stale_reason"]
        assert scores_of(api, "wanzhou")["500101001"]["grade"] == v1["500101001"]["grade"]

        # The recomputation is version 2, a draft; scores pages still show the published version.
        v2 = api.post("/assessments", "city-office", json={"period": "2021", "as_of": "2021-12-31"}).json()
        assert (v2["version"], v2["status"], v2["stale"]) == (2, "draft", False)
        assert scores_of(api, "city-office")["500101001"]["grade"] == v1["500101001"]["grade"]
        assert scores_of(api, "city-office", version="draft")["500101001"]["grade"] == "不合格"
        assert scores_of(api, "city-office", version="1")["500101001"]["grade"] == v1["500101001"]["grade"]
        assert api.get("/assessments/2021/scores", "city-office", params={"version": "x1"}).status_code == 422
        assert api.get("/assessments/2021/scores", "city-office", params={"version": "9"}).status_code == 404

        # The differences against the published version, per jurisdiction.
        changes = api.get("/assessments/2021/changes", "city-office")
        assert changes.status_code == 200, changes.text
        body = changes.json()
        assert (body["published_version"], body["version"]) == (1, 2)
        by_code = {c["jurisdiction_code"]: c for c in body["items"]}
        gaosuntang = by_code["500101001"]
        assert gaosuntang["name"] == "高笋塘街道"
        assert gaosuntang["before"]["grade"] == v1["500101001"]["grade"]
        assert gaosuntang["after"]["grade"] == "不合格"
        assert (gaosuntang["before"]["rank"], gaosuntang["after"]["rank"]) == (1, 2)
        assert by_code["500101002"]["after"]["rank"] == 1
        assert "500102" not in by_code  # unchanged jurisdictions are not listed
        assert api.get("/assessments/2021/changes", "wanzhou").status_code == 403

        # A bonus on a draft marks it stale: publishing it is refused until it is recomputed.
        bonus = api.post(
            "/assessments/2021/bonuses",
            "city-office",
            json={"jurisdiction_code": "500101002", "item": "innovation", "reason": "经验推广"},
        )
        assert bonus.status_code == 201
        shown = api.get("/assessments/2021", "city-office", params={"version": "draft"}).json()
        assert (shown["version"], shown["status"], shown["stale"]) == (2, "draft", True)
        refused = api.post("/assessments/2021/publish", "city-office")
        assert (refused.status_code, refused.json()["code"]) == (409, "assessment_stale")
        assert (
            api.post("/assessments", "city-office", json={"period": "2021", "as_of": "2021-12-31"}).status_code == 201
        )
        assert api.post("/assessments/2021/publish", "city-office").json()["version"] == 3

        listed = api.get("/assessments/2021/versions", "city-office").json()["items"]
        assert [(v["version"], v["status"]) for v in listed] == [(3, "published"), (2, "superseded"), (1, "superseded")]
        # Chiefs see the versions that were published, nothing of the drafts.
        assert [v["version"] for v in api.get("/assessments/2021/versions", "wanzhou").json()["items"]] == [3, 1]
        assert scores_of(api, "wanzhou")["500101001"]["grade"] == "不合格"


def test_bonus_items_are_listed_and_given_by_code_or_chinese_name(world: Container, clock: FixedClock) -> None:
    with api_client(world) as api:
        items = api.get("/assessments/bonus-items", "wanzhou").json()["items"]
        assert {"code": "innovation", "name": "林长制工作创新经验被推广", "points": 1.0} in items
        given = api.post(
            "/assessments/2021/bonuses",
            "city-office",
            json={"jurisdiction_code": "500101002", "item": "林长制工作创新经验被推广", "reason": "经验推广"},
        )
        assert given.status_code == 201, given.text
        assert given.json()["item"] == "innovation"
        twice = api.post(
            "/assessments/2021/bonuses",
            "city-office",
            json={"jurisdiction_code": "500101002", "item": "innovation", "reason": "经验推广"},
        )
        assert (twice.status_code, twice.json()["code"]) == (409, "bonus_exists")
        unknown = api.post(
            "/assessments/2021/bonuses",
            "city-office",
            json={"jurisdiction_code": "500101002", "item": "创新", "reason": "x"},
        )
        assert (unknown.status_code, unknown.json()["code"]) == (422, "bonus_item_unknown")
        assert "林长制工作创新经验被推广" in unknown.json()["detail"]


@pytest.mark.parametrize("period", ["2021\n", "２０２１", " 2021", "2021 ", "2021Q3\n", "2021q3"])
def test_periods_are_strict(world: Container, clock: FixedClock, period: str) -> None:
    with api_client(world) as api:
        at(api, clock, "2022-01-10T09:00:00")
        refused = api.post("/assessments", "city-office", json={"period": period})
        assert (refused.status_code, refused.json()["code"]) == (422, "period_invalid"), refused.text
        with world.reading() as session:
            assert session.execute(text("SELECT count(*) FROM assessments_runs")).scalar_one() == 0
        read = api.get(f"/assessments/{quote(period)}/scores", "city-office")
        assert (read.status_code, read.json()["code"]) == (422, "period_invalid")


def test_townships_are_ranked_within_their_district(world: Container, clock: FixedClock) -> None:
    with api_client(world) as api:
        season(api, world, clock)
        late = api.post(
            "/tasks",
            "admin",
            json={"title": "林长公示牌", "kind": "order", "jurisdiction_code": "500102001", "due_date": "2021-04-01"},
        ).json()
        at(api, clock, "2021-05-06T09:00:00")
        api.post(f"/tasks/{late['id']}/complete", "admin", json={})
        drain(world)
        at(api, clock, "2022-01-10T09:00:00")
        api.post("/assessments", "city-office", json={"period": "2021"})
        townships = scores_of(api, "city-office", version="draft")
        dunren = townships["500102001"]
        # 敦仁 is 涪陵's only assessed township: first in its district, last in the city.
        assert (dunren["rank"], dunren["peers"], dunren["ranked_within"], dunren["group_code"]) == (
            1,
            1,
            "district",
            "500102",
        )
        assert dunren["city_rank"] > 1  # 万州's 太白 or 高笋塘 did better
        assert dunren["city_peers"] == 3
        assert (dunren["district_code"], dunren["district_name"]) == ("500102", "涪陵区")
        city = scores_of(api, "city-office", version="draft", within="city")
        assert (city["500102001"]["rank"], city["500102001"]["ranked_within"]) == (dunren["city_rank"], "city")
        assert [i["rank"] for i in city.values()] == [1, 2, 3]
        wrong = api.get("/assessments/2021/scores", "city-office", params={"level": "township", "within": "village"})
        assert (wrong.status_code, wrong.json()["code"]) == (422, "ranking_scope_invalid")
        # Pages follow the grouping: one township per page still walks every district's ranking.
        seen, cursor = [], None
        while True:
            params = {"level": "township", "version": "draft", "limit": "1"}
            if cursor:
                params["cursor"] = cursor
            page = api.get("/assessments/2021/scores", "city-office", params=params).json()
            seen += [(i["group_code"], i["rank"], i["jurisdiction_code"]) for i in page["items"]]
            cursor = page["next"]
            if not cursor:
                break
        assert seen == [("500101", 1, "500101001"), ("500101", 2, "500101002"), ("500102", 1, "500102001")]


def test_the_workbook_as_offices_print_it(world: Container, clock: FixedClock) -> None:
    with api_client(world) as api:
        season(api, world, clock)
        big = api.post(
            "/tasks",
            "wanzhou",
            json={
                "title": "国土绿化",
                "kind": "target",
                "jurisdiction_code": "500101002",
                "due_date": "2021-11-30",
                "target_quantity": 2_000_000,
                "unit": "株",
            },
        ).json()
        api.post(f"/tasks/{big['id']}/progress", "taibai", json={"completed_quantity": 1_089_430})
        drain(world)
        at(api, clock, "2022-01-10T09:00:00")
        formula = '=HYPERLINK("http://x","y")'
        api.post("/assessments/2021/vetoes", "city-office", json={"jurisdiction_code": "500101001", "reason": formula})
        api.post("/assessments", "city-office", json={"period": "2021", "as_of": "2021-12-31"})
        response = api.get("/assessments/2021/export.xlsx", "city-office", params={"version": "draft"})
        assert response.status_code == 200, response.text
        book = load_workbook(io.BytesIO(response.content))

        assert book.sheetnames == ["市级", "区县", "乡镇街道", "村社区"]
        for sheet in book.worksheets:
            # The period, as-of date, issuing unit and page numbers on every printed page.
            assert sheet.oddHeader.left.text == "重庆市全面推行林长制工作领导小组办公室"
            assert "2021年度" in sheet.oddHeader.center.text
            assert sheet.oddHeader.right.text == "截止日期：2021-12-31"
            assert "&P" in sheet.oddFooter.center.text
            assert "&N" in sheet.oddFooter.center.text
            assert sheet.print_title_rows == "$3:$3"
        sheet = book["乡镇街道"]
        headers = [c.value for c in sheet[3]]
        rows = {
            sheet.cell(row=r, column=3).value: {h: sheet.cell(row=r, column=i + 1) for i, h in enumerate(headers)}
            for r in range(4, sheet.max_row + 1)
        }
        taibai, gaosuntang = rows["500101002"], rows["500101001"]
        assert taibai["所属区县"].value == "万州区"
        # Exact figures, never scientific notation, in the text as in the number formats.
        deductions = taibai[headers[-1]]
        assert "「国土绿化」（任务" in deductions.value
        assert f"任务{big['id']}）" in deductions.value
        assert "责任单位：太白街道" in deductions.value
        assert "1089430/2000000株" in deductions.value
        assert "e+" not in deductions.value.lower()
        assert deductions.alignment.wrap_text
        assert taibai["总分"].number_format == "0.00"
        for row in rows.values():
            for cell in row.values():
                assert "E+" not in cell.number_format
                assert not (isinstance(cell.value, str) and "e+0" in cell.value.lower())
        # Weighted points beside each component's score.
        target_score = headers.index("目标任务完成得分")
        assert headers[target_score + 1] == "目标任务完成折算分（权重40）"
        assert isinstance(taibai[headers[target_score + 1]].value, float)
        # A reason beginning with "=" stays text: no formula in the file.
        veto = gaosuntang["一票否决"]
        assert veto.value == formula
        assert veto.data_type == "s"
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in archive.read(name)
