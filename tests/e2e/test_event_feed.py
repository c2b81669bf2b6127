"""GET /events: the integration feed, in order, resumable, and limited to the caller's subtree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from linzhang.container import Container
from linzhang.identity import Action, Role
from tests.support.world import Api, add_user, api_client, seed_tree


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "city-system", Role.INTEGRATION, "50")
    add_user(container, "wanzhou-system", Role.INTEGRATION, "500101")
    add_user(container, "wanzhou-chief", Role.CHIEF, "500101")
    add_user(container, "writer", Role.INTEGRATION, "500101", (Action.ASSIGN_WORK,))
    with api_client(container) as api:
        yield api


def read_all(api: Api, user: str, limit: int = 3) -> list[dict]:  # type: ignore[type-arg]
    items, after = [], 0
    for _ in range(100):
        page = api.get("/events", user, params={"after": after, "limit": limit}).json()
        items += page["items"]
        if page["next"] == after:
            return items
        after = page["next"]
    raise AssertionError("the feed did not end")


def test_feed_in_order_and_scoped(api: Api) -> None:
    for code in ("500101001", "500102001"):
        response = api.post(
            "/tasks", "admin", json={"title": "巡林", "kind": "order", "jurisdiction_code": code, "due_in_workdays": 5}
        )
        assert response.status_code == 201
    everything = read_all(api, "city-system")
    ids = [item["id"] for item in everything]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    types = [item["type"] for item in everything]
    assert types.count("JurisdictionCreated") == 8
    assert types.count("TaskCreated") == 2
    mine = read_all(api, "wanzhou-system")
    assert {item["payload"].get("code") or item["payload"]["task"]["jurisdiction_code"] for item in mine} <= {
        "500101",
        "500101001",
        "500101001001",
        "500101002",
    }
    assert [i["type"] for i in mine].count("TaskCreated") == 1


def test_feed_is_for_integrations_and_admins(api: Api) -> None:
    assert api.get("/events", "wanzhou-chief").status_code == 403
    assert api.get("/events", "admin").status_code == 200


def test_an_integration_grant_allows_only_what_it_lists(api: Api) -> None:
    ok = api.post(
        "/tasks",
        "writer",
        json={"title": "巡护", "kind": "order", "jurisdiction_code": "500101001", "due_in_workdays": 3},
    )
    assert ok.status_code == 201
    assert (
        api.post(
            "/tasks",
            "wanzhou-system",
            json={"title": "x", "kind": "order", "jurisdiction_code": "500101001", "due_in_workdays": 3},
        ).status_code
        == 403
    )
    assert (
        api.post(
            "/tasks",
            "writer",
            json={"title": "x", "kind": "order", "jurisdiction_code": "500102001", "due_in_workdays": 3},
        ).status_code
        == 404
    )
