"""Bad input answers a 4xx problem document with a Chinese detail and a code, writes nothing and logs
no error: ids beyond their column, damaged cursors, bodies nested too deeply, NUL characters."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from linzhang.bus.tables import events_table
from linzhang.container import Container
from linzhang.domains.tasks.tables import tasks_table
from linzhang.identity import Role
from linzhang.identity.tables import users_table
from tests.support.world import PASSWORD, Api, add_user, api_client, seed_tree

DEEP = 100_000


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "wanzhou", Role.CHIEF, "500101")
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def written(container: Container) -> tuple[int, int, int]:
    with container.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (tasks_table, events_table, users_table)
        )


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    # The detail a person reads is Chinese.
    assert any("\u4e00" <= character <= "\u9fff" for character in body["detail"]), body["detail"]


def no_error_logged(captured: str) -> bool:
    return '"level": "error"' not in captured and "Traceback" not in captured


@pytest.mark.parametrize(
    "path",
    [
        "/users/2147483648",
        "/users/0",
        "/chiefs/2147483648",
        "/tasks/9223372036854775808",
        "/tasks/9007199254740992",
        "/tasks/99999999999999999999999999999",
        "/tasks/9223372036854775808/timeline",
        "/tasks/9223372036854775808/summons",
        "/tasks?parent_id=9223372036854775808",
        "/events?after=9223372036854775808",
        "/bus/dead?after=9223372036854775808",
    ],
)
def test_ids_beyond_their_column_are_400(api: Api, path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert_problem(api.get(path, "admin"), 400, "invalid_request")
    assert no_error_logged(capsys.readouterr().err)


@pytest.mark.parametrize(
    "path",
    ["/users/2147483647", "/chiefs/2147483647", "/tasks/9007199254740991", "/tasks/9007199254740991/timeline"],
)
def test_the_largest_ids_are_simply_not_found(api: Api, path: str) -> None:
    response = api.get(path, "admin")
    assert response.status_code == 404, response.text


def test_writes_to_ids_beyond_their_column_write_nothing(api: Api, world: Container) -> None:
    before = written(world)
    for path, body in [
        ("/tasks/9223372036854775808/progress", {"completed_quantity": 1}),
        ("/users/2147483648/disable", None),
        ("/users/2147483648/password", {"new_password": "spruce larch cypress"}),
        ("/bus/dead/9223372036854775808/redrive", None),
        ("/tasks/1/summons/9223372036854775808/held", {"held_on": "2026-01-05", "minutes": "已约谈"}),
    ]:
        assert_problem(api.post(path, "admin", json=body), 400, "invalid_request")
    assert written(world) == before


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


BAD_CURSORS = [
    cursor_of("[" * 10_000 + "]" * 10_000),
    cursor_of("[" * 300 + "]" * 300),
    cursor_of('{"a":' * 5000 + "1" + "}" * 5000),
    cursor_of("1e400"),
    cursor_of("[1e400, 1]"),
    cursor_of("9" * 5000),
    cursor_of('["2021-01-01", 99999999999999999999999]'),
    cursor_of("[]"),
    "not base64 at all!",
    "A" * 5000,
]
CURSOR_ENDPOINTS = [
    "/jurisdictions?cursor={}",
    "/chiefs?cursor={}",
    "/tasks?cursor={}",
    "/tasks?jurisdiction_code=500101&cursor={}",
    "/inbox?jurisdiction_code=500101&cursor={}",
    "/escalations/board?cursor={}",
    "/assessments/2021/scores?cursor={}",
]


def test_every_cursor_endpoint_refuses_damaged_cursors(
    api: Api, world: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    assert api.post("/assessments", "admin", json={"period": "2021"}).status_code == 201
    capsys.readouterr()
    for endpoint in CURSOR_ENDPOINTS:
        first = api.get(endpoint.format(""), "admin")
        assert first.status_code == 200, (endpoint, first.text)
        for cursor in BAD_CURSORS:
            response = api.get(endpoint.format(cursor), "admin")
            assert response.status_code == 422, (endpoint, cursor[:40], response.text[:300])
            assert_problem(response, 422, "invalid_cursor")
    assert no_error_logged(capsys.readouterr().err)


@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_bodies_are_400_even_unauthenticated(
    api: Api, world: Container, shape: str, capsys: pytest.CaptureFixture[str]
) -> None:
    nested = "[" * DEEP + "]" * DEEP if shape == "array" else '{"a":' * DEEP + "1" + "}" * DEEP
    before = written(world)
    token = api.client.post(
        "/api/v1/auth/token",
        content=f'{{"username": {nested}, "password": "x"}}',
        headers={"content-type": "application/json"},
    )
    assert_problem(token, 400, "body_too_deep")
    # A client that claims another content type is judged the same.
    sneaky = api.client.post("/api/v1/auth/token", content=nested, headers={"content-type": "text/plain"})
    assert_problem(sneaky, 400, "body_too_deep")
    task = api.post(
        "/tasks",
        "admin",
        content=f'{{"title": {nested}}}',
        headers={"content-type": "application/json"},
    )
    assert_problem(task, 400, "body_too_deep")
    assert written(world) == before
    assert no_error_logged(capsys.readouterr().err)


def test_brackets_inside_strings_do_not_count_as_nesting(api: Api) -> None:
    created = api.post(
        "/tasks",
        "admin",
        json={
            "title": '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{ \\" [[[[[[[[[',
            "kind": "order",
            "jurisdiction_code": "500101",
            "due_date": "2099-12-31",
        },
    )
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/tasks",
            {"title": "森林\u0000防火", "kind": "order", "jurisdiction_code": "500101", "due_date": "2099-12-31"},
        ),
        ("POST", "/users", {"username": "nul\u0000user", "password": "spruce larch cypress", "role": "admin"}),
        (
            "POST",
            "/jurisdictions",
            {"code": "500103", "name": "长寿\u0000区", "level": "district", "parent_code": "50"},
        ),
        ("GET", "/tasks?jurisdiction_code=50%00", None),
        ("GET", "/jurisdictions/50%00", None),
    ],
)
def test_nul_characters_are_refused_centrally(
    api: Api, world: Container, method: str, path: str, body: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    before = written(world)
    response = api.request(method, path, "admin", json=body) if body is not None else api.request(method, path, "admin")
    assert_problem(response, 400, "nul_character")
    assert written(world) == before
    assert no_error_logged(capsys.readouterr().err)


def test_nul_in_a_login_is_refused_before_any_lookup(api: Api) -> None:
    response = api.post("/auth/token", json={"username": "wanzhou\u0000", "password": PASSWORD})
    assert_problem(response, 400, "nul_character")


def test_the_text_backslash_u0000_is_not_a_nul(api: Api) -> None:
    created = api.post(
        "/tasks",
        "admin",
        json={
            "title": "路径 C:\\u0000 不是空字符",
            "kind": "order",
            "jurisdiction_code": "500101",
            "due_date": "2099-12-31",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "路径 C:\\u0000 不是空字符"


def test_an_anonymous_flood_of_bad_requests_logs_no_error(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(20):
        api.client.post("/api/v1/auth/token", content="{" * 1000, headers={"content-type": "application/json"})
        api.client.post(
            "/api/v1/auth/token", content=b"\xff\xfe not json", headers={"content-type": "application/json"}
        )
        api.client.post("/api/v1/auth/token", json={"username": "x" * 100000, "password": "y"})
        api.client.get("/api/v1/tasks/9223372036854775808")
    captured = capsys.readouterr().err
    assert no_error_logged(captured)
    assert json.dumps("request.failed") not in captured
