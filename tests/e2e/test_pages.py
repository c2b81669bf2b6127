"""The pages over HTTP: sign-in and its cookie, anti-forgery, sign-out and expiry, scope, every page in Chinese."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta

import msgspec
import pytest
from litestar.testing import TestClient

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.settings import Settings
from linzhang.web.session import SESSION_COOKIE
from tests.support.bus import drain
from tests.support.pages import PASSWORD, TODAY, seed_season, shanghai, sign_in_form_token
from tests.support.world import Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(shanghai(TODAY))


@pytest.fixture
def world(
    settings: Settings, registry: SubscriberRegistry, clock: FixedClock
) -> Iterator[tuple[Container, dict[str, int]]]:
    container = bootstrap(settings, registry=registry, clock=clock)
    try:
        with TestClient(create_app(container=container, run_embedded_bus=False)) as client:
            ids = seed_season(container, Api(client), clock)
        yield container, ids
    finally:
        container.bus.broker.flush_all()
        container.close()


@pytest.fixture
def container(world: tuple[Container, dict[str, int]]) -> Container:
    return world[0]


@pytest.fixture
def ids(world: tuple[Container, dict[str, int]]) -> dict[str, int]:
    return world[1]


def client_for(container: Container) -> TestClient:  # type: ignore[type-arg]
    return TestClient(create_app(container=container, run_embedded_bus=False))


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "") -> object:  # type: ignore[type-arg]
    form = client.get("/login")
    assert form.status_code == 200
    token = sign_in_form_token(form.text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


def csrf_of(client: TestClient) -> str:  # type: ignore[type-arg]
    page = client.get("/coverage")
    assert page.status_code == 200, page.text
    match = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_sign_in_sets_a_guarded_session_cookie_and_lands_by_role(container: Container) -> None:
    landing = {
        "village": "/inbox",
        "gaosuntang": "/inbox",
        "wanzhou": "/inbox",
        "city-office": "/board",
        "admin": "/board",
    }
    for username, page in landing.items():
        with client_for(container) as client:
            response = sign_in(client, username)
            assert response.status_code == 303
            cookie = response.headers["set-cookie"]
            assert cookie.startswith(f"{SESSION_COOKIE}=")
            flags = {part.strip().lower() for part in cookie.split(";")}
            assert "httponly" in flags
            assert "samesite=lax" in flags
            assert "path=/" in flags
            assert f"max-age={container.settings.web.session_ttl_seconds}" in flags
            assert "secure" not in flags  # plain http for `make run`; see the next test
            assert client.get("/", follow_redirects=False).headers["location"] == page


def test_the_cookie_is_secure_when_configured(container: Container) -> None:
    web = msgspec.structs.replace(container.settings.web, cookie_secure=True)
    secure = dataclasses.replace(container, settings=msgspec.structs.replace(container.settings, web=web))
    with client_for(secure) as client:
        response = sign_in(client, "village")
        assert "secure" in {part.strip().lower() for part in response.headers["set-cookie"].split(";")}


def test_sign_in_refusals_open_no_session(container: Container) -> None:
    with client_for(container) as client:
        wrong = sign_in(client, "village", "not the password")
        assert wrong.status_code == 401
        assert "用户名或密码错误" in wrong.text
        assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
        client.get("/login")
        forged = client.post("/login", data={"username": "village", "password": PASSWORD, "csrf_token": "forged"})
        assert forged.status_code == 403
        assert "登录页已过期" in forged.text
        assert SESSION_COOKIE not in forged.headers.get("set-cookie", "")
        machine = sign_in(client, "integration")
        assert machine.status_code == 403
        assert "系统对接账号不能登录页面" in machine.text
        assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login?next=/inbox"


def test_sign_in_returns_to_a_local_page_only(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as client:
        back = sign_in(client, "village", next_url=f"/tasks/{ids['target']}")
        assert back.headers["location"] == f"/tasks/{ids['target']}"
    with client_for(container) as client:
        assert sign_in(client, "village", next_url="//elsewhere.example/x").headers["location"] == "/"
        assert sign_in(client, "village", next_url="https://elsewhere.example").headers["location"] == "/"


def test_actions_need_the_sessions_anti_forgery_token(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as client:
        sign_in(client, "village")
        token = csrf_of(client)
        url = f"/tasks/{ids['target']}/progress"
        headers = {"HX-Request": "true"}
        missing = client.post(url, data={"completed_quantity": "30"}, headers=headers)
        assert missing.status_code == 403
        assert "请刷新页面" in missing.text
        wrong = client.post(url, data={"completed_quantity": "30"}, headers={**headers, "X-CSRF-Token": "x" * 43})
        assert wrong.status_code == 403
        page = client.get(f"/tasks/{ids['target']}")
        assert "完成 0 / 目标 100 亩" in page.text  # nothing was written
        done = client.post(url, data={"completed_quantity": "30"}, headers={**headers, "X-CSRF-Token": token})
        assert done.status_code == 200
        assert "已报告进度" in done.text
        assert "完成 30 / 目标 100 亩" in done.text
        # A form post (no HTMX) carries the token as a field.
        form = client.post(url, data={"completed_quantity": "40", "csrf_token": token})
        assert form.status_code == 200
        assert "完成 40 / 目标 100 亩" in form.text


def test_a_refused_action_answers_in_chinese_and_writes_nothing(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as client:
        sign_in(client, "village")
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client)}
        not_a_number = client.post(
            f"/tasks/{ids['target']}/progress", data={"completed_quantity": "三十"}, headers=headers
        )
        assert not_a_number.status_code == 422
        assert "请输入数字" in not_a_number.text
        other = client.post(f"/tasks/{ids['other']}/complete", data={}, headers=headers)
        assert other.status_code == 404
        assert "完成 0 / 目标 100 亩" in client.get(f"/tasks/{ids['target']}").text


def test_sign_out_ends_the_session_at_once(container: Container) -> None:
    with client_for(container) as client:
        sign_in(client, "village")
        cookie = client.cookies.get(SESSION_COOKIE)
        token = csrf_of(client)
        out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303
        assert out.headers["location"] == "/login"
        assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
    with client_for(container) as stolen:
        stolen.cookies.set(SESSION_COOKIE, cookie)
        assert stolen.get("/inbox", follow_redirects=False).status_code == 303


def test_a_session_expires(container: Container, clock: FixedClock) -> None:
    with client_for(container) as client:
        sign_in(client, "village")
        assert client.get("/inbox").status_code == 200
        clock.advance(timedelta(seconds=container.settings.web.session_ttl_seconds - 1))
        assert client.get("/inbox", follow_redirects=False).status_code == 200
        clock.advance(timedelta(seconds=1))
        expired = client.get("/inbox", follow_redirects=False)
        assert expired.status_code == 303
        assert expired.headers["location"] == "/login?next=/inbox"
        htmx = client.get("/inbox", headers={"HX-Request": "true"}, follow_redirects=False)
        assert htmx.status_code == 401
        assert htmx.headers["HX-Redirect"] == "/login"


def test_outside_the_subtree_looks_like_nothing(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as client:
        sign_in(client, "village")
        missing = client.get("/tasks/987654")
        foreign = client.get(f"/tasks/{ids['other']}")
        board = client.get("/board")
        assert missing.status_code == foreign.status_code == board.status_code == 404
        for refused in (missing, foreign, board, client.get("/inbox")):
            assert "default-src 'self'" in refused.headers["content-security-policy"]
        assert "未找到" in foreign.text
        assert "新华村护林巡查" not in foreign.text
        assert client.get("/coverage?code=500101002001").status_code == 404
    with client_for(container) as client:
        sign_in(client, "wanzhou")
        assert client.get("/board?district=500102").status_code == 404
        assert client.get("/board?district=500101").status_code == 200


def test_every_page_in_chinese_with_names_beside_codes(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as client:
        sign_in(client, "village")
        inbox = client.get("/inbox")
        assert inbox.status_code == 200
        for text in (
            "我的待办",
            "新造林",
            "松材线虫病疫木清理",
            "示范村",
            "目标任务",
            "问题整改",
            "造林绿化",
            "逾期",
            "完成 0 / 目标 100 亩",
        ):
            assert text in inbox.text, text
        assert "待核查" not in inbox.text  # a village has nothing below it to verify
        # Most urgent first: the overdue issue, the order due tomorrow (due soon), then the target.
        order = [inbox.text.index(title) for title in ("松材线虫病疫木清理", "森林防火巡查", "新造林")]
        assert order == sorted(order)
        assert "即将到期" in inbox.text
        assert client.get("/inbox?box=elsewhere").status_code == 422
        task = client.get(f"/tasks/{ids['issue']}")
        for text in ("上升路径", "重庆市", "万州区", "高笋塘街道", "示范村", "逾期上升", "办理记录"):
            assert text in task.text, text
    with client_for(container) as client:
        sign_in(client, "city-office")
        board = client.get("/board")
        for text in (
            "督办看板",
            "松材线虫病疫木清理",
            "万州区",
            "有害生物防治",
            "/static/vendor/echarts/echarts.min.js",
        ):
            assert text in board.text, text
        assert "松材线虫病疫木清理" not in client.get("/board?district=500102").text
        assert "松材线虫病疫木清理" in client.get("/board?district=500101").text
        coverage = client.get("/coverage")
        for text in ("林长体系", "党政同责", "总林长", "张明", "万州区"):
            assert text in coverage.text, text
        district = client.get("/coverage?code=500101")
        for text in ("王强", "陈静", "缺林长", "太白街道", "新华村"):
            assert text in district.text, text
        ranking = client.get("/ranking")
        for text in ("考核排名", "2021年", "万州区", "下载排名表"):
            assert text in ranking.text, text
        townships = client.get("/ranking?level=township")
        assert "高笋塘街道" in townships.text
        workbook = client.get("/ranking/export.xlsx?period=2021")
        assert workbook.status_code == 200
        assert workbook.headers["content-type"].startswith(XLSX)
        assert workbook.content[:2] == b"PK"


def test_the_township_verifies_from_its_review_tab(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as village:
        sign_in(village, "village")
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(village)}
        submitted = village.post(f"/tasks/{ids['issue']}/complete", data={"note": "已清理"}, headers=headers)
        assert submitted.status_code == 200
        assert "已提交上级核查" in submitted.text
    drain(container)  # the 待核查 box is the inbox projection's, fed over the bus
    with client_for(container) as township:
        sign_in(township, "gaosuntang")
        assert township.get("/inbox?box=supervising").status_code == 200
        review = township.get("/inbox?box=review")
        assert "松材线虫病疫木清理" in review.text
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(township)}
        url = f"/tasks/{ids['issue']}/verify"
        no_reason = township.post(url, data={"decision": "send_back", "note": ""}, headers=headers)
        assert no_reason.status_code == 422  # a send-back needs its reason
        sent_back = township.post(url, data={"decision": "send_back", "note": "疫木未粉碎"}, headers=headers)
        assert sent_back.status_code == 200
        assert "已退回整改" in sent_back.text
        drain(container)
        assert "松材线虫病疫木清理" not in township.get("/inbox?box=review").text
    with client_for(container) as village:
        sign_in(village, "village")
        assert "疫木未粉碎" in village.get(f"/tasks/{ids['issue']}").text  # the reason is on the timeline
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(village)}
        again = village.post(f"/tasks/{ids['issue']}/complete", data={"note": "已粉碎"}, headers=headers)
        assert "已提交上级核查" in again.text
    drain(container)
    with client_for(container) as township:
        sign_in(township, "gaosuntang")
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(township)}
        verified = township.post(
            f"/tasks/{ids['issue']}/verify", data={"decision": "accept", "note": "属实"}, headers=headers
        )
        assert verified.status_code == 200
        assert "核查通过" in verified.text
        drain(container)
        assert "松材线虫病疫木清理" not in township.get("/inbox?box=review").text
    with client_for(container) as city:
        sign_in(city, "city-office")
        assert "松材线虫病疫木清理" not in city.get("/board").text


def test_the_api_still_wants_a_bearer_token_and_the_schema_is_local(container: Container) -> None:
    with client_for(container) as client:
        assert client.get("/api/v1/me").status_code == 401
        sign_in(client, "village")
        assert client.get("/api/v1/me").status_code == 401  # the session cookie opens pages, not the API
        for path in ("/schema", "/schema/swagger"):
            viewer = client.get(path)
            assert viewer.status_code == 200
            assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in viewer.text
            assert not re.search(r"(src|href)=[\"']https?://", viewer.text)
        assert client.get("/schema/openapi.json").status_code == 200
        for asset in ("htmx/htmx.min.js", "echarts/echarts.min.js", "swagger-ui/swagger-ui.css", "MANIFEST.toml"):
            assert client.get(f"/static/vendor/{asset}").status_code == 200, asset


def test_the_board_narrows_to_a_district_and_counts_climbs_per_week(container: Container) -> None:
    with client_for(container) as client:
        api = Api(client)
        narrowed = api.get("/escalations/board", "city-office", params={"district_code": "500102"}).json()
        assert [item["title"] for item in narrowed["items"]] == ["违法占用林地整改"]
        assert narrowed["total"] == 1
        assert [c["code"] for c in narrowed["by_district"]] == ["500102"]
        whole = api.get("/escalations/board", "city-office").json()
        assert whole["total"] == 2
        assert api.get("/escalations/board", "city-office", params={"district_code": "500101001"}).status_code == 404
        assert (
            api.get(
                "/escalations/board", "wanzhou", params={"level": "district", "district_code": "500102"}
            ).status_code
            == 404
        )

        def weeks(user: str, **params: str) -> dict[str, int]:
            response = api.get("/escalations/weekly", user, params={"year": "2021", **params})
            assert response.status_code == 200, response.text
            return {w["week_start"]: w["count"] for w in response.json()["items"] if w["count"]}

        # Sweeps on 2021-03-04, 03-12 and 03-22: the city received one climb in each of the last two weeks.
        assert weeks("city-office") == {"2021-03-08": 1, "2021-03-22": 1}
        assert weeks("city-office", district_code="500102") == {"2021-03-08": 1}
        assert weeks("city-office", level="district") == {"2021-03-01": 1, "2021-03-08": 1}
        assert weeks("wanzhou", level="district") == {"2021-03-08": 1}  # only its own subtree
        every = api.get("/escalations/weekly", "city-office", params={"year": "2021"}).json()["items"]
        assert every[0]["week_start"] == "2020-12-28"  # the week holding 1 January
        assert every[-1]["week_start"] == "2021-03-22"  # up to this week, none in the future
        assert (
            api.get("/escalations/weekly", "city-office", params={"year": "2021", "level": "village"}).status_code
            == 422
        )
        assert (
            api.get("/escalations/weekly", "wanzhou", params={"year": "2021", "district_code": "500102"}).status_code
            == 404
        )


def test_the_city_supervises_summons_and_comments_from_the_task_page(container: Container, ids: dict[str, int]) -> None:
    with client_for(container) as client:
        sign_in(client, "city-office")
        page = client.get(f"/tasks/{ids['land']}")
        for text in ("下达督办", "记录约谈", "发送批示", "违法占地", "敦仁街道"):
            assert text in page.text, text
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(client)}
        url = f"/tasks/{ids['land']}"
        supervised = client.post(
            f"{url}/supervise", data={"view": "task", "note": "限期整改", "new_due_date": "2021-04-02"}, headers=headers
        )
        assert supervised.status_code == 200, supervised.text
        assert "已下达督办" in supervised.text
        assert "限期整改" in supervised.text  # the timeline shows it
        held = client.post(
            f"{url}/summons", data={"view": "task", "held_on": "2021-03-23", "note": "约谈区林长"}, headers=headers
        )
        assert held.status_code == 200, held.text
        assert "已记录约谈" in held.text
        said = client.post(f"{url}/comments", data={"view": "task", "text": "请区林长亲自督导"}, headers=headers)
        assert "批示已送达" in said.text
        bad_date = client.post(
            f"{url}/supervise", data={"view": "task", "note": "x", "new_due_date": "明天"}, headers=headers
        )
        assert bad_date.status_code == 422
        assert "请选择日期" in bad_date.text
    with client_for(container) as client:
        sign_in(client, "gaosuntang")
        # Outside the township's subtree: not found, and no button was ever offered.
        assert client.get(f"/tasks/{ids['land']}").status_code == 404
        own = client.get(f"/tasks/{ids['issue']}")
        assert "下达督办" not in own.text  # the city holds it: a township below the holder does not supervise


def test_an_unknown_address_is_a_page_for_people_and_a_problem_for_clients(container: Container) -> None:
    with client_for(container) as client:
        page = client.get("/no-such-page", headers={"accept": "text/html,application/xhtml+xml"})
        assert page.status_code == 404
        assert "未找到" in page.text
        assert page.headers["content-type"].startswith("text/html")
        api = client.get("/api/v1/no-such-call", headers={"accept": "text/html"})
        assert api.status_code == 404
        assert api.headers["content-type"].startswith("application/problem+json")
        plain = client.get("/no-such-page")
        assert plain.headers["content-type"].startswith("application/problem+json")


def test_a_database_outage_is_a_page_asking_to_try_again(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    import linzhang.web.work

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionError("the server closed the connection"))

    with client_for(container) as client:
        sign_in(client, "village")
        monkeypatch.setattr(linzhang.web.work, "read_inbox", unavailable)
        page = client.get("/inbox")
        assert page.status_code == 503
        assert page.headers["retry-after"] == "5"
        assert "数据库暂时不可用" in page.text
        assert page.headers["content-type"].startswith("text/html")
