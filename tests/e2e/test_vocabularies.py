"""Vocabularies with Chinese names, and names beside codes in the API's items."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from linzhang.container import Container
from linzhang.identity import Role
from linzhang.vocabularies import load_categories
from tests.support.world import Api, add_user, api_client, seed_tree


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    seed_tree(container)
    add_user(container, "wz-office", Role.OFFICE, "500101")
    add_user(container, "village-chief", Role.CHIEF, "500101001001")
    with api_client(container) as api:
        yield api


def names(api: Api, vocabulary: str) -> dict[str, str]:
    response = api.get(f"/vocabularies/{vocabulary}", "village-chief")
    assert response.status_code == 200, response.text
    return {item["code"]: item["name"] for item in response.json()["items"]}


def test_built_in_vocabularies_name_every_code_in_chinese(api: Api) -> None:
    assert names(api, "statuses") == {"open": "办理中", "submitted": "待核查/验收", "done": "已办结"}
    assert names(api, "kinds") == {"target": "目标任务", "issue": "问题整改", "order": "林长令"}
    assert names(api, "levels") == {"city": "市", "district": "区县", "township": "乡镇街道", "village": "村社区"}
    assert names(api, "posts") == {
        "general": "总林长",
        "deputy": "副总林长",
        "chief": "林长",
        "ranger": "护林员",
        "supervisor": "监管员",
    }


def test_categories_come_from_the_configured_file_in_its_order(api: Api, container: Container) -> None:
    response = api.get("/vocabularies/categories", "village-chief").json()["items"]
    configured = load_categories(container.settings.config_file("categories.toml"))
    assert [(item["code"], item["name"]) for item in response] == [(t.code, t.name) for t in configured.terms]
    assert {"code": "fire_prevention", "name": "森林防火"} in response


def test_an_unknown_vocabulary_is_a_chinese_404(api: Api) -> None:
    response = api.get("/vocabularies/colours", "village-chief")
    assert response.status_code == 404
    assert response.json()["code"] == "vocabulary_not_found"
    assert "categories" in response.json()["detail"]
    assert api.get("/vocabularies/kinds").status_code == 401


def test_tasks_inbox_and_chiefs_carry_names_beside_codes(api: Api) -> None:
    created = api.post(
        "/tasks",
        "wz-office",
        json={
            "title": "示范村造林",
            "kind": "target",
            "category": "afforestation",
            "jurisdiction_code": "500101001001",
            "target_quantity": 10,
            "unit": "亩",
            "due_in_workdays": 5,
        },
    )
    assert created.status_code == 201, created.text
    task = api.get(f"/tasks/{created.json()['id']}", "village-chief").json()
    assert (task["jurisdiction_name"], task["holder_name"]) == ("示范村", "示范村")
    assert (task["status_name"], task["kind_name"]) == ("办理中", "目标任务")
    listed = api.get("/tasks", "wz-office", params={"jurisdiction_code": "500101001001"}).json()["items"]
    assert listed[0]["jurisdiction_name"] == "示范村"

    chief = api.post(
        "/chiefs",
        "wz-office",
        json={"name": "张三", "post": "村支书", "role": "chief", "jurisdiction_code": "500101001"},
    )
    assert chief.json()["jurisdiction_name"] == "高笋塘街道"
    chiefs = api.get("/chiefs", "wz-office", params={"jurisdiction_code": "500101001"}).json()["items"]
    assert chiefs[0]["jurisdiction_name"] == "高笋塘街道"
