"""Jurisdictions and chiefs over HTTP: the tree, appointments, replacements, terms and coverage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from linzhang.container import Container
from linzhang.domains.chiefs.tables import chiefs_table
from linzhang.domains.jurisdictions.tables import units_table
from linzhang.identity import Role
from linzhang.identity.tables import users_table
from tests.support.bus import drain
from tests.support.world import Api, add_user, api_client, seed_tree


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "city-office", Role.OFFICE, "50")
    add_user(container, "wz-chief", Role.CHIEF, "500101")
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def count(container: Container, table) -> int:  # type: ignore[no-untyped-def]
    with container.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def appoint(api: Api, code: str, name: str, role: str = "chief", **extra: str) -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/chiefs",
        "city-office",
        json={"name": name, "post": extra.pop("post", "林长"), "role": role, "jurisdiction_code": code, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


# -- the tree --------------------------------------------------------------------------------------


def test_jurisdiction_with_its_path(api: Api) -> None:
    body = api.get("/jurisdictions/500101001001", "wz-chief").json()
    assert body == {
        "code": "500101001001",
        "name": "示范村",
        "level": "village",
        "parent_code": "500101001",
        "path": ["50", "500101", "500101001", "500101001001"],
    }


def test_children_in_code_order(api: Api) -> None:
    items = api.get("/jurisdictions/50/children", "admin").json()["items"]
    assert [item["code"] for item in items] == ["500101", "500102", "LJXQ"]


def test_subtree_pages_through_everything_once(api: Api) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/jurisdictions", "admin", params=params).json()
        seen += [item["code"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(
        ["50", "500101", "500101001", "500101001001", "500101002", "500102", "500102001", "LJXQ"]
    )
    assert len(seen) == len(set(seen))


def test_subtree_by_level(api: Api) -> None:
    items = api.get("/jurisdictions", "admin", params={"under": "50", "level": "township"}).json()["items"]
    assert [item["code"] for item in items] == ["500101001", "500101002", "500102001"]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": 0}, 422), ({"limit": 100000}, 422), ({"cursor": "@@@"}, 422), ({"level": "province"}, 400)],
)
def test_bad_listing_parameters(api: Api, params: dict, status: int) -> None:  # type: ignore[type-arg]
    response = api.get("/jurisdictions", "admin", params=params)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


def test_admin_adds_a_village(api: Api, world: Container) -> None:
    response = api.post(
        "/jurisdictions",
        "admin",
        json={"code": "500101002001", "name": "新村", "level": "village", "parent_code": "500101002"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["path"] == ["50", "500101", "500101002", "500101002001"]
    # A chief can be appointed there at once, through the read facade.
    appoint(api, "500101002001", "李四")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"code": "500101", "name": "重复", "level": "district", "parent_code": "50"}, 409, "jurisdiction_exists"),
        ({"code": "500103", "name": "某区", "level": "district", "parent_code": "99"}, 422, "division_parent_unknown"),
        ({"code": "500103", "name": "某区", "level": "township", "parent_code": "50"}, 422, "division_level_mismatch"),
        ({"code": "5001 03", "name": "某区", "level": "district", "parent_code": "50"}, 422, "division_code_invalid"),
        ({"code": "500103", "name": "", "level": "district", "parent_code": "50"}, 422, "division_name_empty"),
        ({"code": "500103", "name": "某区", "level": "province", "parent_code": "50"}, 400, "level"),
    ],
)
def test_bad_jurisdictions_write_nothing(api: Api, world: Container, body: dict, status: int, words: str) -> None:  # type: ignore[type-arg]
    before = count(world, units_table)
    response = api.post("/jurisdictions", "admin", json=body)
    assert response.status_code == status, response.text
    assert words in response.text
    assert count(world, units_table) == before


def test_only_admins_add_jurisdictions(api: Api) -> None:
    response = api.post(
        "/jurisdictions",
        "city-office",
        json={"code": "500103", "name": "某区", "level": "district", "parent_code": "50"},
    )
    assert response.status_code == 403


# -- chiefs ----------------------------------------------------------------------------------------


def test_party_and_government_heads_are_both_general_chiefs(api: Api) -> None:
    secretary = appoint(api, "500101", "王书记", role="general", post="区委书记")
    mayor = appoint(api, "500101", "陈区长", role="general", post="区长")
    items = api.get("/chiefs", "wz-chief", params={"jurisdiction_code": "500101"}).json()["items"]
    assert {(item["name"], item["role_label"]) for item in items} == {("王书记", "总林长"), ("陈区长", "总林长")}
    assert secretary["active"]
    assert mayor["active"]


def test_appointment_with_an_account_signs_in_as_that_chief(api: Api) -> None:
    chief = appoint(api, "500101001", "赵林长", username="zhao", password="zhao-password")
    api.token("zhao", "zhao-password")
    me = api.get("/me", "zhao").json()
    assert me == {
        "username": "zhao",
        "role": "chief",
        "jurisdiction_code": "500101001",
        "chief_id": chief["id"],
        "display_name": "赵林长",
    }


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "甲", "post": "林长", "role": "chief", "jurisdiction_code": "999"}, 404, "jurisdiction_not_found"),
        ({"name": "", "post": "林长", "role": "chief", "jurisdiction_code": "500101"}, 422, "name"),
        ({"name": "甲", "post": "林长", "role": "king", "jurisdiction_code": "500101"}, 400, "role"),
        (
            {"name": "甲", "post": "林长", "role": "chief", "jurisdiction_code": "500101", "username": "solo"},
            422,
            "account_incomplete",
        ),
        (
            {
                "name": "甲",
                "post": "林长",
                "role": "chief",
                "jurisdiction_code": "500101",
                "username": "wz-chief",
                "password": "long enough pw",
            },
            409,
            "taken",
        ),
        (
            {"name": "甲", "post": "林长", "role": "chief", "jurisdiction_code": "500101", "term_start": "2021-02-30"},
            400,
            "term_start",
        ),
        (
            {"name": "甲", "post": "林长", "role": "chief", "jurisdiction_code": "500101", "term_start": "1990-01-01"},
            422,
            "term",
        ),
    ],
)
def test_bad_appointments_write_nothing(api: Api, world: Container, body: dict, status: int, words: str) -> None:  # type: ignore[type-arg]
    chiefs, users = count(world, chiefs_table), count(world, users_table)
    response = api.post("/chiefs", "city-office", json=body)
    assert response.status_code == status, response.text
    assert words in response.text
    assert (count(world, chiefs_table), count(world, users_table)) == (chiefs, users)


def test_replacement_ends_the_term_and_account_and_hands_over_the_inbox(api: Api, world: Container) -> None:
    old = appoint(api, "500101001", "旧林长", username="old-chief", password="old-password")
    old_token = api.token("old-chief", "old-password")
    for title in ("春季防火巡查", "松材线虫病除治"):
        created = api.post(
            "/tasks",
            "wz-chief",
            json={"title": title, "kind": "order", "jurisdiction_code": "500101001", "due_in_workdays": 10},
        )
        assert created.status_code == 201, created.text
    drain(world)
    before = {item["title"] for item in api.get("/inbox", "old-chief").json()["items"]}
    assert before == {"春季防火巡查", "松材线虫病除治"}

    response = api.post(
        f"/chiefs/{old['id']}/replace",
        "wz-chief",
        json={"name": "新林长", "post": "街道党工委书记", "username": "new-chief", "password": "new-password"},
    )

    assert response.status_code == 201, response.text
    new = response.json()
    assert new["predecessor_id"] == old["id"]
    assert new["role"] == old["role"]
    assert new["jurisdiction_code"] == "500101001"
    ended = api.get(f"/chiefs/{old['id']}", "wz-chief").json()
    assert ended["active"] is False
    assert ended["successor_id"] == new["id"]
    assert ended["term_end"] is not None
    # The predecessor's token and password stop working; the successor's work.
    assert api.get("/me", headers={"authorization": f"Bearer {old_token}"}).status_code == 401
    assert api.post("/auth/token", json={"username": "old-chief", "password": "old-password"}).status_code == 401
    api.token("new-chief", "new-password")
    assert api.get("/me", "new-chief").json()["chief_id"] == new["id"]
    # Everything open in the predecessor's inbox is the successor's now.
    assert {item["title"] for item in api.get("/inbox", "new-chief").json()["items"]} == before
    # A chief whose term ended cannot be replaced or ended again.
    again = api.post(f"/chiefs/{old['id']}/replace", "wz-chief", json={"name": "又一个", "post": "林长"})
    assert again.status_code == 409


def test_a_chief_cannot_replace_itself_at_its_own_level(api: Api) -> None:
    peer = appoint(api, "500101", "同级林长")
    assert api.post(f"/chiefs/{peer['id']}/replace", "wz-chief", json={"name": "x", "post": "y"}).status_code == 403


# -- coverage (全域覆盖) ------------------------------------------------------------------------------


def test_coverage_follows_appointments_and_ends(api: Api, world: Container) -> None:
    empty = api.get("/jurisdictions/500101/coverage", "wz-chief").json()
    assert (empty["total"], empty["covered"]) == (4, 0)

    appoint(api, "500101", "王书记", role="general")
    appoint(api, "500101", "陈区长", role="general")
    village = appoint(api, "500101001001", "村林长")
    appoint(api, "500101001", "街道林长")
    drain(world)

    covered = api.get("/jurisdictions/500101/coverage", "wz-chief").json()
    assert (covered["total"], covered["covered"]) == (4, 3)
    assert covered["gaps"] == [{"code": "500101002", "name": "太白街道", "level": "township"}]
    assert covered["gaps_truncated"] is False

    # Ending the village chief's term without a successor opens a gap; replacing keeps coverage.
    assert api.post(f"/chiefs/{village['id']}/end-term", "wz-chief", json={"reason": "退休"}).status_code == 200
    drain(world)
    after = api.get("/jurisdictions/500101/coverage", "wz-chief").json()
    assert after["covered"] == 2
    assert {gap["code"] for gap in after["gaps"]} == {"500101002", "500101001001"}

    city = api.get("/jurisdictions/50/coverage", "admin", params={"gaps_limit": 2}).json()
    assert city["total"] == 8
    assert len(city["gaps"]) == 2
    assert city["gaps_truncated"] is True


def test_coverage_survives_replacement(api: Api, world: Container) -> None:
    chief = appoint(api, "500101002", "旧")
    drain(world)
    api.post(f"/chiefs/{chief['id']}/replace", "wz-chief", json={"name": "新", "post": "林长"})
    drain(world)
    body = api.get("/jurisdictions/500101002/coverage", "wz-chief").json()
    assert (body["total"], body["covered"], body["gaps"]) == (1, 1, [])


def test_end_term_checks_its_input(api: Api, world: Container) -> None:
    chief = appoint(api, "500101001", "某", term_start="2021-03-01")
    assert api.post(f"/chiefs/{chief['id']}/end-term", "wz-chief", json={"reason": ""}).status_code == 422
    early = api.post(f"/chiefs/{chief['id']}/end-term", "wz-chief", json={"reason": "调任", "term_end": "2021-02-01"})
    assert early.status_code == 422
    assert early.json()["code"] == "term_end_before_start"
    assert "不能早于此日结束" in early.json()["detail"]
    assert api.get(f"/chiefs/{chief['id']}", "wz-chief").json()["active"] is True
