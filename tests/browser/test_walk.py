"""The pages in a real browser: a village chief on a phone, the township's 核查, the city's board and ranking."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Request, expect

from tests.browser.conftest import BOARD_REFRESH, LiveServer
from tests.support.bus import drain
from tests.support.pages import PASSWORD

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# Screenshots for a person to look at, outside the repository; off unless asked for.
SHOTS = os.environ.get("LINZHANG_TEST_SCREENSHOTS")


class Requests:
    """Every request any page makes, to prove none leaves 127.0.0.1."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, request: Request) -> None:
        self.urls.append(request.url)

    def foreign(self) -> list[str]:
        return [
            url
            for url in self.urls
            if urlparse(url).scheme not in {"data", "blob"} and urlparse(url).hostname != "127.0.0.1"
        ]


@pytest.fixture
def requests(context: BrowserContext) -> Iterator[Requests]:
    recorder = Requests()
    context.on("request", recorder)
    yield recorder
    context.remove_listener("request", recorder)
    assert recorder.urls, "no request was recorded"
    assert recorder.foreign() == []


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(context: BrowserContext, server: LiveServer, username: str, size: dict[str, int]) -> Page:
    context.clear_cookies()
    page = context.new_page()
    page.set_viewport_size(size)  # type: ignore[arg-type]
    page.goto(f"{server.base_url}/")
    expect(page).to_have_url(f"{server.base_url}/login?next=/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


def board_item(page: Page, title: str) -> Locator:
    return page.locator("#board table").get_by_role("link", name=title)


def test_the_daily_walk(context: BrowserContext, live_server: LiveServer, requests: Requests) -> None:
    server, ids = live_server, live_server.ids

    # The city office sees the issue that climbed to the city, on the board with its chart.
    city = sign_in(context, server, "city-office", DESKTOP)
    expect(city).to_have_url(f"{server.base_url}/board")
    expect(city.locator("#chart-districts canvas")).to_be_visible()
    expect(board_item(city, "松材线虫病疫木清理")).to_be_visible()
    shot(city, "board-desktop")
    # This month's patrol compliance per district, each leading to its people.
    compliance = city.locator("#patrol-compliance")
    expect(compliance).to_contain_text("巡林履职（按区县）")
    expect(compliance.locator("th").first).to_have_text("区县")
    compliance.get_by_role("link", name="万州区").click()
    expect(city).to_have_url(re.compile(r"/patrols/compliance\?code=500101&month=\d{4}-\d{2}$"))
    expect(city.locator("h1")).to_contain_text("万州区")
    city.close()

    # A village chief on a phone reports progress without a full reload, then submits the issue.
    village = sign_in(context, server, "village", PHONE)
    expect(village).to_have_url(f"{server.base_url}/inbox")
    assert village.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off the screen
    village.evaluate("window.__stayed = true")
    card = village.locator(f"#task-{ids['target']}")
    expect(card).to_contain_text("完成 0 / 目标 100 亩")
    button = card.get_by_role("button", name="报告进度")
    assert button.bounding_box()["height"] >= 48  # type: ignore[index]  # a large touch target
    card.get_by_label("累计完成量").fill("60")
    button.click()
    expect(card).to_contain_text("已报告进度")
    expect(card).to_contain_text("完成 60 / 目标 100 亩（60%）")
    assert village.evaluate("window.__stayed") is True  # the same page: HTMX swapped the card only
    shot(village, "inbox-phone")
    issue = village.locator(f"#task-{ids['issue']}")
    expect(issue).to_contain_text("逾期")
    issue.get_by_role("button", name="整改完成，提交核查").click()
    expect(issue).to_contain_text("已提交上级核查")
    village.goto(f"{server.base_url}/tasks/{ids['issue']}")
    expect(village.locator("ol.steps")).to_contain_text("重庆市")
    shot(village, "task-phone")
    village.close()
    drain(server.container)

    # The township chief verifies it from the 待核查 tab; it leaves the city's board.
    township = sign_in(context, server, "gaosuntang", DESKTOP)
    township.get_by_role("link", name="待核查").click()
    review = township.locator(f"#task-{ids['issue']}")
    review.get_by_label("核查意见").fill("现场核实，已清理")
    review.get_by_role("button", name="核查通过").click()
    expect(review).to_contain_text("核查通过")
    township.close()

    city = sign_in(context, server, "city-office", PHONE)
    expect(city.locator("#chart-districts canvas")).to_be_visible()
    expect(board_item(city, "松材线虫病疫木清理")).to_have_count(0)
    expect(board_item(city, "违法占用林地整改")).to_be_visible()
    assert city.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(city, "board-phone")
    city.get_by_role("link", name="考核排名").click()
    expect(city.locator("table").first).to_contain_text("万州区")
    shot(city, "ranking-phone")
    with city.expect_download() as download:
        city.get_by_role("link", name="下载排名表（xlsx）").click()
    saved = download.value.path()
    assert Path(saved).read_bytes()[:2] == b"PK"
    # The workbook names its period and the version it prints (docs/adr/0012).
    assert download.value.suggested_filename == "assessment-2021-v1.xlsx"
    city.goto(f"{server.base_url}/coverage?code=500101")
    expect(city.locator("ul.tree")).to_contain_text("缺林长")
    shot(city, "coverage-phone")
    city.close()


def test_a_click_on_a_district_narrows_the_board(
    context: BrowserContext, live_server: LiveServer, requests: Requests
) -> None:
    server = live_server
    admin = sign_in(context, server, "admin", DESKTOP)
    expect(admin).to_have_url(f"{server.base_url}/board")
    chart = admin.locator("#chart-districts")
    expect(chart.locator("canvas")).to_be_visible()
    # The board refreshes itself (HTMX) and draws its charts again.
    admin.evaluate("document.getElementById('chart-districts').dataset.before = 'refresh'")
    with admin.expect_response(
        lambda r: r.url.endswith("/board") and r.request.headers.get("hx-request") == "true",
        timeout=(BOARD_REFRESH + 5) * 1000,
    ) as refreshed:
        pass
    assert refreshed.value.status == 200
    expect(admin.locator("#chart-districts:not([data-before]) canvas")).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    # The first district's bar, where ECharts drew it.
    x, y = admin.evaluate(
        "() => { const c = echarts.getInstanceByDom(document.getElementById('chart-districts'));"
        " const data = JSON.parse(document.getElementById('board-data').textContent).districts;"
        " return c.convertToPixel({seriesIndex: 0}, [0, data.length ? data[0].count / 2 : 0]); }"
    )
    districts = admin.evaluate("JSON.parse(document.getElementById('board-data').textContent).districts")
    if not districts:
        pytest.fail("the board has no district to click (the season should leave work at the city)")
    admin.mouse.click(box["x"] + x, box["y"] + y)
    expect(admin).to_have_url(f"{server.base_url}/board?district={districts[0]['code']}")
    expect(admin.get_by_role("link", name="查看全部区县")).to_be_visible()


def test_a_village_chief_cannot_see_the_city_board_or_another_village(
    context: BrowserContext, live_server: LiveServer, requests: Requests
) -> None:
    server = live_server
    village = sign_in(context, server, "village", PHONE)
    expect(village.get_by_role("link", name="督办看板")).to_have_count(0)
    for path in ("/board", f"/tasks/{server.ids['other']}", "/tasks/987654"):
        response = village.goto(f"{server.base_url}{path}")
        assert response is not None
        assert response.status == 404
        expect(village.locator("h1")).to_have_text("未找到")
    shot(village, "not-found-phone")


def test_the_api_viewer_works_offline(context: BrowserContext, live_server: LiveServer, requests: Requests) -> None:
    page = context.new_page()
    page.goto(f"{live_server.base_url}/schema")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("linzhang")
    expect(page.locator(".opblock").first).to_be_visible()


def test_sign_in_is_throttled_with_a_chinese_message(
    context: BrowserContext, live_server: LiveServer, requests: Requests
) -> None:
    """Wrong passwords for one account: after the free failures the waits double, and the page says so."""
    context.clear_cookies()
    page = context.new_page()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(f"{live_server.base_url}/login")
    alert = page.get_by_role("alert")
    for _ in range(12):
        page.get_by_label("用户名").fill("nobody-guessing")
        page.get_by_label("密码").fill("not the password")
        page.get_by_role("button", name="登录").click()
        expect(alert).to_be_visible()
        if "登录失败次数过多" in alert.inner_text():
            break
    expect(alert).to_contain_text("登录失败次数过多")
    expect(alert).to_contain_text("秒后再试")
    shot(page, "sign-in-throttled-phone")
