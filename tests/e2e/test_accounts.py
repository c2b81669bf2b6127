"""The account lifecycle over HTTP: password changes, resets, disabling; the password policy; case-folded
usernames; the login throttle; grants under the role's rules; display names instead of usernames."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, update

from linzhang.container import Container
from linzhang.identity import Action, Role
from linzhang.identity.tables import users_table
from linzhang.identity.throttle import LoginAttempt
from linzhang.metrics import PROCESS_REGISTRY
from linzhang.settings import Settings
from linzhang.web.session import SESSION_COOKIE
from tests.conftest import make_settings
from tests.support.pages import sign_in_form_token
from tests.support.world import PASSWORD, Api, add_user, api_client, seed_tree

NEW_PASSWORD = "spruce larch cypress"


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "wanzhou", Role.CHIEF, "500101")
    add_user(container, "office-wz", Role.OFFICE, "500101")
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def user_id(container: Container, username: str) -> int:
    with container.engine.connect() as connection:
        return int(connection.execute(select(users_table.c.id).where(users_table.c.username == username)).scalar_one())


def login(api: Api, username: str, password: str) -> Any:
    return api.post("/auth/token", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_changing_ones_own_password_kills_every_token(api: Api) -> None:
    first, second = (login(api, "wanzhou", PASSWORD).json()["access_token"] for _ in range(2))
    changed = api.post(
        "/me/password", headers=bearer(first), json={"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204, changed.text
    for token in (first, second):
        assert api.get("/me", headers=bearer(token)).status_code == 401
    assert login(api, "wanzhou", PASSWORD).status_code == 401
    assert login(api, "wanzhou", NEW_PASSWORD).status_code == 200


def test_the_old_password_is_required(api: Api, world: Container) -> None:
    token = login(api, "wanzhou", PASSWORD).json()["access_token"]
    wrong = api.post(
        "/me/password", headers=bearer(token), json={"old_password": "not the password", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "old_password_wrong"
    # Nothing changed: the token still works and the old password still signs in.
    assert api.get("/me", headers=bearer(token)).status_code == 200
    assert login(api, "wanzhou", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("new_password", "code"),
    [
        ("short-pw", "password_too_short"),
        ("WanZhou", "password_too_short"),
        ("Wanzhou-Chief", None),  # long enough, not the username, not common: accepted
        ("qwertyuiop", "password_too_common"),
        ("1q2w3e4r5t", "password_too_common"),
        ("Password123", "password_too_common"),
    ],
)
def test_the_password_policy(api: Api, new_password: str, code: str | None) -> None:
    token = login(api, "wanzhou", PASSWORD).json()["access_token"]
    response = api.post(
        "/me/password", headers=bearer(token), json={"old_password": PASSWORD, "new_password": new_password}
    )
    if code is None:
        assert response.status_code == 204, response.text
        return
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert response.json()["field"] == "new_password" or response.json()["field"] == "password"
    assert api.get("/me", headers=bearer(token)).status_code == 200


def test_a_password_equal_to_the_username_is_refused(api: Api, world: Container) -> None:
    created = api.post(
        "/users",
        "admin",
        json={"username": "Huanglong-Office", "password": "huanglong-office", "role": "admin"},
    )
    assert created.status_code == 422
    assert created.json()["code"] == "password_is_username"


def test_the_demo_password_stays_valid(api: Api) -> None:
    created = api.post("/users", "admin", json={"username": "demo-admin", "password": "linzhang-demo", "role": "admin"})
    assert created.status_code == 201, created.text


def test_usernames_are_compared_case_folded(api: Api, world: Container) -> None:
    clash = api.post("/users", "admin", json={"username": "WanZhou", "password": NEW_PASSWORD, "role": "admin"})
    assert clash.status_code == 409
    assert clash.json()["code"] == "username_taken"
    assert login(api, "WANZHOU", PASSWORD).status_code == 200
    with world.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(users_table)).scalar_one() == 3


def test_an_administrator_resets_a_password(api: Api, world: Container) -> None:
    token = login(api, "wanzhou", PASSWORD).json()["access_token"]
    target = user_id(world, "wanzhou")
    assert api.post(f"/users/{target}/password", "office-wz", json={"new_password": NEW_PASSWORD}).status_code == 403
    assert api.post(f"/users/{target}/password", "admin", json={"new_password": "qwertyuiop"}).status_code == 422
    assert api.get("/me", headers=bearer(token)).status_code == 200

    reset = api.post(f"/users/{target}/password", "admin", json={"new_password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text
    assert api.get("/me", headers=bearer(token)).status_code == 401
    assert login(api, "wanzhou", NEW_PASSWORD).status_code == 200
    assert api.post("/users/999999/password", "admin", json={"new_password": NEW_PASSWORD}).status_code == 404


def test_disabling_and_enabling_an_account(api: Api, world: Container) -> None:
    token = login(api, "office-wz", PASSWORD).json()["access_token"]
    target = user_id(world, "office-wz")
    assert api.post(f"/users/{target}/disable", "wanzhou").status_code == 403

    assert api.post(f"/users/{target}/disable", "admin").status_code == 204
    assert api.get("/me", headers=bearer(token)).status_code == 401
    assert login(api, "office-wz", PASSWORD).status_code == 401
    assert api.get(f"/users/{target}", "admin").json()["active"] is False

    assert api.post(f"/users/{target}/enable", "admin").status_code == 204
    # The old token stays dead: enabling does not bring back tokens from before.
    assert api.get("/me", headers=bearer(token)).status_code == 401
    assert login(api, "office-wz", PASSWORD).status_code == 200
    assert api.get(f"/users/{target}", "admin").json()["active"] is True


def test_an_administrator_cannot_disable_itself(api: Api, world: Container) -> None:
    response = api.post(f"/users/{user_id(world, 'admin')}/disable", "admin")
    assert response.status_code == 409
    assert response.json()["code"] == "cannot_disable_self"


def test_changing_role_or_grants_in_the_table_is_not_enough_for_an_old_token(api: Api, world: Container) -> None:
    """Tokens carry the account's version: the service bumps it with every change of rights."""
    token = login(api, "office-wz", PASSWORD).json()["access_token"]
    with world.engine.begin() as connection:
        connection.execute(
            update(users_table)
            .where(users_table.c.username == "office-wz")
            .values(token_version=users_table.c.token_version + 1)
        )
    assert api.get("/me", headers=bearer(token)).status_code == 401


# --- the login throttle ---------------------------------------------------------------------------


@pytest.fixture
def throttled(settings: Settings, database_url: str, tmp_path: Any, registry: Any) -> Iterator[tuple[Api, Container]]:
    """A world whose throttle allows 3 failures per account and 8 per address, then waits 1 s, 2 s ..."""
    from linzhang.bootstrap import bootstrap

    tight = make_settings(
        database_url,
        tmp_path / "var-throttled",
        login={
            "account_free_failures": 3,
            "address_free_failures": 8,
            "backoff_seconds": 1.0,
            "refusal_delay_seconds": 0.3,
        },
    )
    container = bootstrap(tight, registry=registry)
    try:
        container.login_throttle.forget_everything()
        seed_tree(container)
        add_user(container, "admin", Role.ADMIN, None)
        add_user(container, "wanzhou", Role.CHIEF, "500101")
        with api_client(container) as api:
            yield api, container
    finally:
        container.login_throttle.forget_everything()
        container.close()


def test_failed_logins_back_off_per_account_with_retry_after(throttled: tuple[Api, Container]) -> None:
    api, container = throttled
    checks = 0
    verify = container.passwords.verify_async

    async def counting(password_hash: str | None, password: str) -> bool:
        nonlocal checks
        checks += 1
        return await verify(password_hash, password)

    container.passwords.verify_async = counting  # type: ignore[method-assign]
    for _ in range(3):
        assert login(api, "wanzhou", "wrong password!").status_code == 401
    # The fourth failure starts the back-off ...
    assert login(api, "wanzhou", "wrong password!").status_code == 401
    assert checks == 4
    # ... during which even the right password is not checked at all, and the refusal is held a moment.
    started = time.monotonic()
    blocked = login(api, "WanZhou", PASSWORD)
    assert time.monotonic() - started >= 0.3
    assert blocked.status_code == 429
    assert blocked.headers["content-type"].startswith("application/problem+json")
    assert blocked.json()["code"] == "login_throttled"
    assert blocked.headers["retry-after"] == "1"
    assert checks == 4
    time.sleep(1.1)
    assert login(api, "wanzhou", PASSWORD).status_code == 200
    # Success cleared the account's counter: three more failures are free again.
    for _ in range(3):
        assert login(api, "wanzhou", "wrong password!").status_code == 401
    assert login(api, "wanzhou", PASSWORD).status_code == 200


def test_the_back_off_doubles(throttled: tuple[Api, Container]) -> None:
    api, _container = throttled
    for _ in range(4):
        login(api, "nobody-at-all", "wrong password!")
    assert login(api, "nobody-at-all", "wrong password!").status_code == 429
    time.sleep(1.1)
    assert login(api, "nobody-at-all", "wrong password!").status_code == 401  # the fifth failure: 2 s
    retry = login(api, "nobody-at-all", "wrong password!")
    assert retry.status_code == 429
    assert int(retry.headers["retry-after"]) == 2


def test_failed_logins_back_off_per_address(throttled: tuple[Api, Container]) -> None:
    api, _container = throttled
    # Nine different names, each failing once, from one address: the address is throttled.
    for number in range(9):
        assert login(api, f"guess-{number}", "wrong password!").status_code == 401
    response = login(api, "wanzhou", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


def page_sign_in(api: Api, username: str, password: str) -> Any:
    form = api.client.get("/login")
    assert form.status_code == 200
    return api.client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": sign_in_form_token(form.text)},
        follow_redirects=False,
    )


def metric(name: str, **labels: str) -> float:
    return PROCESS_REGISTRY.get_sample_value(name, labels) or 0.0


def test_page_sign_in_backs_off_per_account_with_a_chinese_page_and_retry_after(
    throttled: tuple[Api, Container],
) -> None:
    api, _container = throttled
    failures, throttled_accounts = (
        metric("linzhang_login_failures_total"),
        metric("linzhang_login_throttled_total", scope="account"),
    )
    for _ in range(4):
        wrong = page_sign_in(api, "wanzhou", "wrong password!")
        assert wrong.status_code == 401
        assert "用户名或密码错误" in wrong.text
    assert metric("linzhang_login_failures_total") - failures == 4
    # The back-off holds the right password too, without checking it, on a page that says why and how long.
    started = time.monotonic()
    blocked = page_sign_in(api, "WanZhou", PASSWORD)
    assert time.monotonic() - started >= 0.3
    assert blocked.status_code == 429
    assert blocked.headers["content-type"].startswith("text/html")
    assert blocked.headers["retry-after"] == "1"
    assert "登录失败次数过多，请 1 秒后再试" in blocked.text
    assert SESSION_COOKIE not in blocked.cookies
    assert metric("linzhang_login_throttled_total", scope="account") - throttled_accounts == 1
    time.sleep(1.1)
    assert page_sign_in(api, "wanzhou", PASSWORD).status_code == 303


def test_the_api_and_the_pages_share_one_throttle(throttled: tuple[Api, Container]) -> None:
    api, _container = throttled
    for _ in range(4):
        assert login(api, "wanzhou", "wrong password!").status_code == 401
    assert page_sign_in(api, "wanzhou", PASSWORD).status_code == 429
    time.sleep(1.1)
    # The fifth failure, on a page, doubles the wait for the API.
    assert page_sign_in(api, "wanzhou", "wrong password!").status_code == 401
    retry = login(api, "wanzhou", PASSWORD)
    assert retry.status_code == 429
    assert retry.headers["retry-after"] == "2"


def test_page_sign_in_backs_off_per_address(throttled: tuple[Api, Container]) -> None:
    api, _container = throttled
    throttled_addresses = metric("linzhang_login_throttled_total", scope="address")
    for number in range(9):
        assert page_sign_in(api, f"guess-{number}", "wrong password!").status_code == 401
    blocked = page_sign_in(api, "wanzhou", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "登录失败次数过多" in blocked.text
    assert metric("linzhang_login_throttled_total", scope="address") - throttled_addresses == 1


def test_api_login_failures_and_refusals_are_counted(throttled: tuple[Api, Container]) -> None:
    api, _container = throttled
    failures = metric("linzhang_login_failures_total")
    throttled_accounts = metric("linzhang_login_throttled_total", scope="account")
    assert login(api, "wanzhou", PASSWORD).status_code == 200
    for _ in range(4):
        login(api, "wanzhou", "wrong password!")
    assert login(api, "wanzhou", "wrong password!").status_code == 429
    assert metric("linzhang_login_failures_total") - failures == 4
    assert metric("linzhang_login_throttled_total", scope="account") - throttled_accounts == 1


def test_a_full_hashing_queue_answers_429_without_hashing(world: Container, settings: Settings) -> None:
    from linzhang.identity.passwords import Passwords

    passwords = Passwords(settings.security)
    try:
        # Take every place in the queue, as a flood would.
        while passwords._places.acquire(blocking=False):
            pass
        with api_client(world) as api:
            world.passwords, original = passwords, world.passwords
            try:
                response = login(api, "wanzhou", PASSWORD)
            finally:
                world.passwords = original
        assert response.status_code == 429
        assert response.json()["code"] == "password_checks_busy"
        assert response.headers["retry-after"] == "1"
    finally:
        passwords.close()


def run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` on a thread of its own: the browser tests' session keeps a loop in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def test_logins_of_one_account_are_checked_one_after_the_other(throttled: tuple[Api, Container]) -> None:
    """A burst of parallel guesses cannot all pass the throttle before the first failure is counted."""
    _api, container = throttled
    throttle = container.login_throttle
    running = 0
    most = 0

    async def guess(username: str) -> None:
        nonlocal running, most
        async with throttle.one_at_a_time(LoginAttempt(username, "198.51.100.7")):
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)
            running -= 1

    async def burst() -> None:
        await asyncio.gather(*(guess(name) for name in ["wanzhou", "WANZHOU", "WanZhou"] * 5))

    run_apart(burst())
    assert most == 1

    async def two_accounts() -> None:
        await asyncio.gather(*(guess(name) for name in ["wanzhou", "admin"] * 5))

    most = 0
    run_apart(two_accounts())
    assert most == 2


# --- grants obey the role's rules -------------------------------------------------------------------


def test_a_grant_that_can_never_work_is_refused(api: Api, world: Container) -> None:
    def create(username: str, code: str, grants: list[str]) -> Any:
        return api.post(
            "/users",
            "admin",
            json={
                "username": username,
                "password": NEW_PASSWORD,
                "role": "integration",
                "jurisdiction_code": code,
                "grants": grants,
            },
        )

    for code, grants in [
        ("500101001", ["assess"]),  # the city's act, for a township
        ("500101", ["manage_users"]),  # administrators' only
        ("50", ["run_sweep"]),
        ("500101001001", ["verify"]),  # work from below, for a village
    ]:
        refused = create(f"sys-{code}-{grants[0]}", code, grants)
        assert refused.status_code == 422, (code, grants, refused.text)
        assert refused.json()["code"] == "grant_never_usable"
    assert create("sys-city-assess", "50", ["assess"]).status_code == 201
    assert create("sys-township-report", "500101001", ["report", "verify"]).status_code == 201


def test_a_granted_action_obeys_the_city_only_rule(api: Api, world: Container) -> None:
    """An older account whose grant slipped through still cannot assess the city or veto itself."""
    add_user(world, "sys-township", Role.INTEGRATION, "500101001", grants=(Action.REPORT,))
    add_user(world, "sys-city", Role.INTEGRATION, "50", grants=(Action.ASSESS,))
    with world.engine.begin() as connection:
        connection.execute(update(users_table).where(users_table.c.username == "sys-township").values(grants="assess"))
    assessment = api.post("/assessments", "sys-township", json={"period": "2021"})
    assert assessment.status_code == 403, assessment.text
    assert api.post("/assessments", "office-wz", json={"period": "2021"}).status_code == 403
    assert api.post("/assessments", "sys-city", json={"period": "2021"}).status_code == 201
    veto = api.post(
        "/assessments/2021/vetoes",
        "sys-township",
        json={"jurisdiction_code": "500101001", "reason": "重大森林火灾"},
    )
    assert veto.status_code == 403, veto.text


# --- display names --------------------------------------------------------------------------------


def test_chiefs_see_display_names_not_usernames(api: Api, world: Container) -> None:
    appointed = api.post(
        "/chiefs",
        "admin",
        json={
            "name": "李万州",
            "post": "区长",
            "role": "general",
            "jurisdiction_code": "500101",
            "username": "li-wanzhou",
            "password": PASSWORD,
        },
    )
    assert appointed.status_code == 201, appointed.text
    task = api.post(
        "/tasks",
        "li-wanzhou",
        json={
            "title": "森林防火巡查",
            "kind": "order",
            "jurisdiction_code": "500101001",
            "due_date": "2099-12-31",
        },
    )
    assert task.status_code == 201, task.text
    assert task.json()["created_by"] == "李万州"
    # What the township's chief sees of it: the name, never the other person's username.
    seen = api.get(f"/tasks/{task.json()['id']}", "office-wz").json()
    assert seen["created_by"] == "李万州"
    timeline = api.get(f"/tasks/{task.json()['id']}/timeline", "office-wz").json()["items"]
    assert [entry["actor"] for entry in timeline] == ["李万州"]
    assert api.get("/me", "li-wanzhou").json()["display_name"] == "李万州"
    assert api.get(f"/users/{user_id(world, 'office-wz')}", "admin").json()["display_name"] == "万州区林长办"
