"""Patrol compliance on the district and city boards, and what a ranger's pages offer, over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.errors import PermissionDenied
from linzhang.identity import Role, sessions
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.pages import sign_in_form_token
from tests.support.tracks import to_gpx, track
from tests.support.world import PASSWORD, Api, add_user, seed_tree

VILLAGE = "500101001001"
# 20 October 2026, noon in 重庆: the board shows October (a fire-season month).
NOW = dt.datetime(2026, 10, 20, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def container(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    container = bootstrap(settings, registry=registry, clock=FixedClock(NOW))
    try:
        seed_tree(container)
        add_user(container, "admin", Role.ADMIN, None)
        add_user(container, "city-office", Role.OFFICE, "50")
        add_user(container, "wz-office", Role.OFFICE, "500101")
        add_user(container, "integration", Role.INTEGRATION, "50")
        with TestClient(create_app(container=container, run_embedded_bus=False)) as client:
            api = Api(client)
            for name, code, username in (("村林长", VILLAGE, "village-chief"), ("太白林长", "500101002", "taibai")):
                appointed = api.post(
                    "/chiefs",
                    "wz-office",
                    json={
                        "name": name,
                        "post": "书记",
                        "role": "chief",
                        "jurisdiction_code": code,
                        "term_start": "2026-01-01",
                        "username": username,
                        "password": PASSWORD,
                    },
                )
                assert appointed.status_code == 201, appointed.text
            registered = api.post(
                "/rangers",
                "wz-office",
                json={
                    "name": "李护林",
                    "phone": "13800000001",
                    "post": "ranger",
                    "jurisdiction_code": VILLAGE,
                    "username": "ranger-li",
                    "password": PASSWORD,
                },
            )
            assert registered.status_code == 201, registered.text
            # The township chief of 太白街道 patrols once: their month's requirement (1 day) is met.
            walk = dt.datetime(2026, 10, 12, 0, 30, tzinfo=dt.UTC)
            patrol = api.post("/patrols/upload", "taibai", content=to_gpx(track(walk, minutes=75, speed_kmh=4)))
            assert patrol.json()["valid"] is True, patrol.text
        drain(container)
        yield container
    finally:
        container.bus.broker.flush_all()
        container.close()


def signed_in(container: Container, username: str) -> TestClient:  # type: ignore[type-arg]
    client = TestClient(create_app(container=container, run_embedded_bus=False))
    client.__enter__()
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": sign_in_form_token(form.text), "next": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def compliance_rows(html: str) -> dict[str, list[str]]:
    """The board's patrol compliance table: each part's name and its figures."""
    section = re.search(r'<section class="panel" id="patrol-compliance">(.*?)</section>', html, re.S)
    assert section, "the board has no patrol compliance"
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section.group(1), re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_city_board_shows_each_districts_patrol_compliance(container: Container) -> None:
    client = signed_in(container, "city-office")
    try:
        page = client.get("/board")
        assert page.status_code == 200
        assert "2026-10 巡林履职（按区县）" in page.text
        assert "森林防火期" in page.text
        rows = compliance_rows(page.text)
        # 万州区: 村林长 (4 days asked, none done), 太白林长 (1 of 1), 李护林 (20 asked in the fire season).
        # Columns: people, valid days, required days, people meeting it, share.
        assert rows["万州区"] == ["3", "1", "25", "1", "33%"]
        assert rows["涪陵区"] == ["0", "0", "0", "0", "无人员"]
        assert set(rows) == {"万州区", "涪陵区", "两江新区"}
        assert 'href="/patrols/compliance?code=500101&amp;month=2026-10"' in page.text
        assert 'href="/patrols/compliance?code=50&amp;month=2026-10"' in page.text
        # The city narrowed to one district sees its townships.
        narrowed = compliance_rows(client.get("/board", params={"district": "500101"}).text)
        assert narrowed == {"高笋塘街道": ["2", "0", "24", "0", "0%"], "太白街道": ["1", "1", "1", "1", "100%"]}
        # The detail page the link leads to lists the people.
        detail = client.get("/patrols/compliance", params={"code": "500101", "month": "2026-10"})
        assert detail.status_code == 200
        assert all(name in detail.text for name in ("村林长", "太白林长", "李护林"))
    finally:
        client.__exit__(None, None, None)


def test_a_district_board_shows_its_townships(container: Container) -> None:
    client = signed_in(container, "wz-office")
    try:
        page = client.get("/board")
        assert page.status_code == 200
        assert "巡林履职（按乡镇（街道））" in page.text
        assert compliance_rows(page.text) == {
            "高笋塘街道": ["2", "0", "24", "0", "0%"],
            "太白街道": ["1", "1", "1", "1", "100%"],
        }
    finally:
        client.__exit__(None, None, None)


def test_a_ranger_is_offered_only_what_answers_them(container: Container) -> None:
    client = signed_in(container, "ranger-li")
    try:
        home = client.get("/", follow_redirects=False)
        assert home.headers["location"] == "/patrols"
        page = client.get("/patrols")
        assert page.status_code == 200
        menu = re.search(r'<nav class="tabs-main".*?</nav>', page.text, re.S)
        assert menu
        assert "巡林" in menu.group(0)
        assert "我的待办" not in menu.group(0)
        assert "督办看板" not in menu.group(0)
        assert "护林员 · ranger-li" in page.text  # the role in Chinese, not its code
        assert client.get("/inbox").status_code in (403, 404)
        assert client.get("/board").status_code == 404
    finally:
        client.__exit__(None, None, None)
    # A chief still sees both.
    chief = signed_in(container, "village-chief")
    try:
        menu = re.search(r'<nav class="tabs-main".*?</nav>', chief.get("/inbox").text, re.S)
        assert menu
        assert "我的待办" in menu.group(0)
    finally:
        chief.__exit__(None, None, None)


def test_a_refused_sign_in_names_the_accounts_own_kind(container: Container) -> None:
    def refusal(username: str, roles: frozenset[Role]) -> str:
        with container.transaction() as session, pytest.raises(PermissionDenied) as caught:
            sessions.sign_in(session, container.passwords, container.clock, username, PASSWORD, 3600, roles)
        assert caught.value.code == "role_not_for_pages"
        return caught.value.detail

    assert refusal("integration", sessions.PAGE_ROLES) == "系统对接账号不能登录页面，请使用接口"
    # A page that only rangers may use refuses a chief without speaking of integration accounts.
    chief = refusal("village-chief", frozenset({Role.RANGER}))
    assert "对接" not in chief
    assert chief == "林长账号不能登录此页面"
