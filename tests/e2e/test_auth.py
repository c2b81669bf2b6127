"""Accounts and tokens over HTTP; every endpoint but health and the token itself needs a bearer token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.identity.tables import users_table
from linzhang.settings import Settings
from tests.support.world import PASSWORD, Api, add_user, api_client, seed_tree


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


def user_count(container: Container) -> int:
    with container.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(users_table)).scalar_one()


def test_token_for_good_credentials(api: Api) -> None:
    response = api.post("/auth/token", json={"username": "wanzhou", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = api.get("/me", headers={"authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "username": "wanzhou",
        "role": "chief",
        "jurisdiction_code": "500101",
        "chief_id": None,
        "display_name": "万州区林长",
    }


@pytest.mark.parametrize(
    ("username", "password"), [("wanzhou", "wrong password"), ("nobody", PASSWORD), ("wanzhou", "")]
)
def test_bad_credentials_are_one_401(api: Api, username: str, password: str) -> None:
    response = api.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "bad_credentials"
    assert response.json()["detail"] == "用户名或密码错误，或账号已停用"


def test_token_body_must_be_well_formed(api: Api) -> None:
    response = api.post("/auth/token", json={"username": "wanzhou"})
    assert response.status_code == 400
    assert "password" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer not-a-token", "Basic d2FuemhvdTpwYXNz", "bearer eyJhbGciOiJIUzI1NiJ9.e30.x"],
)
def test_missing_or_bad_tokens_are_401_with_a_challenge(api: Api, header: str) -> None:
    response = api.get("/me", headers={"authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]


def test_every_api_endpoint_requires_a_token(api: Api) -> None:
    app = api.client.app
    public = {"/api/v1/auth/token"}
    checked = 0
    for route in app.routes:
        if not route.path.startswith("/api/v1") or route.path in public:
            continue
        path = re.sub(r"\{[^}:]+:int\}", "1", route.path)
        path = re.sub(r"\{[^}]+\}", "50", path)
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            response = api.client.request(method, path, json={})
            assert response.status_code == 401, f"{method} {route.path} answered {response.status_code}"
            checked += 1
    assert checked >= 12


def test_admin_creates_users_and_others_may_not(api: Api, world: Container) -> None:
    created = api.post(
        "/users",
        "admin",
        json={"username": "office-wz", "password": "long enough pw", "role": "office", "jurisdiction_code": "500101"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "office"
    assert api.post("/auth/token", json={"username": "office-wz", "password": "long enough pw"}).status_code == 200

    before = user_count(world)
    denied = api.post(
        "/users",
        "wanzhou",
        json={"username": "sneaky", "password": "long enough pw", "role": "admin"},
    )
    assert denied.status_code == 403
    assert user_count(world) == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (
            {"username": "x", "password": "long enough pw", "role": "chief", "jurisdiction_code": "50"},
            422,
            "invalid_username",
        ),
        (
            {"username": "shorty", "password": "short", "role": "chief", "jurisdiction_code": "50"},
            422,
            "password_too_short",
        ),
        (
            {"username": "wanzhou", "password": "long enough pw", "role": "chief", "jurisdiction_code": "50"},
            409,
            "taken",
        ),
        (
            {"username": "nowhere", "password": "long enough pw", "role": "chief", "jurisdiction_code": "99"},
            404,
            "jurisdiction_not_found",
        ),
        ({"username": "floating", "password": "long enough pw", "role": "chief"}, 422, "jurisdiction_required"),
        (
            {"username": "emperor", "password": "long enough pw", "role": "emperor", "jurisdiction_code": "50"},
            400,
            "role",
        ),
        (
            {
                "username": "grantee",
                "password": "long enough pw",
                "role": "chief",
                "jurisdiction_code": "50",
                "grants": ["report"],
            },
            422,
            "grants",
        ),
    ],
)
def test_bad_accounts_are_refused_and_write_nothing(
    api: Api, world: Container, body: dict[str, str], status: int, words: str
) -> None:
    before = user_count(world)
    response = api.post("/users", "admin", json=body)
    assert response.status_code == status, response.text
    assert words in response.text
    assert user_count(world) == before


def test_expired_token_is_refused(settings: Settings, registry) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(datetime(2021, 6, 1, tzinfo=UTC))
    container = bootstrap(settings, registry=registry, clock=clock)
    try:
        seed_tree(container)
        add_user(container, "shortlived", Role.CHIEF, "500101")
        with api_client(container) as api:
            token = api.token("shortlived")
            assert api.get("/me", headers={"authorization": f"Bearer {token}"}).status_code == 200
            clock.advance(timedelta(seconds=settings.security.token_ttl_seconds + 1))
            assert api.get("/me", headers={"authorization": f"Bearer {token}"}).status_code == 401
    finally:
        container.close()


def test_token_signed_with_another_key_is_refused(api: Api, world: Container, settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings

    other = bootstrap(
        make_settings(
            settings.database_url,
            tmp_path / "elsewhere",
            security={"secret_key": "another key of forty characters, easily"},
        )
    )
    try:
        with api_client(other) as foreign:
            token = foreign.token("wanzhou")
        assert api.get("/me", headers={"authorization": f"Bearer {token}"}).status_code == 401
    finally:
        other.close()


def test_openapi_declares_bearer_security(world: Container) -> None:
    from litestar.testing import TestClient

    with TestClient(create_app(container=world, run_embedded_bus=False)) as client:
        schema = client.get("/schema/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/jurisdictions/{code}/coverage" in schema["paths"]
