"""The patrols pages in a real browser: a ranger's phone walks a patrol, reports a problem, and the
district office reads the patrol's drawn track and the month's compliance. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import Engine, select

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.container import Container
from linzhang.domains.patrols.service import Account, NewRanger, PatrolsContext, register_ranger
from linzhang.domains.patrols.tables import field_reports_table
from linzhang.identity import Principal, Role
from tests.browser.conftest import SERVER_START_SECONDS, _free_port
from tests.browser.test_walk import PHONE, Requests, requests  # noqa: F401 (the fixture)
from tests.conftest import clean_database, make_settings
from tests.support.world import PASSWORD, add_user, seed_tree

VILLAGE = "500101001001"
ADMIN = Principal(0, "system", Role.ADMIN, None, "/")


@pytest.fixture(scope="module")
def server(
    migrated_engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Container]]:
    """The test tree with a ranger, served on the wall clock (the phone's positions carry the real time)."""
    clean_database(migrated_engine)
    container = bootstrap(make_settings(database_url, tmp_path_factory.mktemp("var")), registry=SubscriberRegistry())
    seed_tree(container)
    add_user(container, "wz-office", Role.OFFICE, "500101")
    with container.transaction() as session:
        register_ranger(
            session,
            ADMIN,
            container.context(PatrolsContext),
            NewRanger("李护林", "13800000001", "ranger", VILLAGE, Account("ranger-li", PASSWORD)),
        )
    app = create_app(container=container, run_embedded_bus=False)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=uv.run, name="patrols-pages", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", container
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        container.close()


def sign_in(context: BrowserContext, base: str, username: str):  # type: ignore[no-untyped-def]
    context.clear_cookies()
    page = context.new_page()
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(f"{base}/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


def test_a_ranger_walks_reports_and_the_office_sees_the_track(
    context: BrowserContext,
    server: tuple[str, Container],
    requests: Requests,  # noqa: F811
) -> None:
    base, container = server
    context.grant_permissions(["geolocation"], origin=base)
    context.set_geolocation({"longitude": 108.38, "latitude": 30.80, "accuracy": 8})
    page = sign_in(context, base, "ranger-li")
    # A ranger lands on the patrols page and sees no chiefs' menu.
    expect(page).to_have_url(f"{base}/patrols")
    expect(page.get_by_role("heading", name="开始巡林")).to_be_visible()
    page.get_by_role("button", name="开始巡林").click()
    expect(page.get_by_role("heading", name="巡护进行中")).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("已记录", timeout=15_000)
    context.set_geolocation({"longitude": 108.3815, "latitude": 30.8004, "accuracy": 8})
    page.wait_for_timeout(1500)
    # A problem found on the way, with the phone's position.
    expect(page.locator("#report-where")).to_contain_text("108.38")
    page.locator("select[name=category]").select_option("fire_prevention")
    page.locator("textarea[name=text]").fill("山脚有人烧荒")
    page.get_by_role("button", name="上报").click()
    expect(page.get_by_role("heading", name="巡林上报")).to_be_visible()
    expect(page.get_by_text("山脚有人烧荒")).to_be_visible()
    with container.reading() as session:
        report = session.execute(select(field_reports_table)).one()
    assert (report.jurisdiction_code, report.category) == (VILLAGE, "fire_prevention")
    assert report.patrol_id is not None
    # Ending: a few metres in a minute are no patrol, and the page says why, in Chinese.
    page.get_by_role("button", name="结束巡林").click()
    expect(page.get_by_role("heading", name="无效巡护")).to_be_visible()
    expect(page.locator("#verdict")).to_contain_text("不足 3000 米")
    expect(page.locator("svg#track polyline")).to_have_count(1)
    patrol_url = page.url

    office = sign_in(context, base, "wz-office")
    office.goto(patrol_url)
    expect(office.locator("svg#track polyline")).to_have_count(1)
    expect(office.locator("#verdict")).to_contain_text("too_short")
    office.goto(f"{base}/patrols")
    expect(office.locator("#patrols")).to_contain_text("李护林")
    office.get_by_role("link", name="本月履职情况 ›").click()
    expect(office.locator("#compliance")).to_contain_text("李护林")
    expect(office.locator("#compliance")).to_contain_text("未达标")

    # A patrol that does not exist is a 404 page.
    page = sign_in(context, base, "ranger-li")
    missing = page.goto(f"{base}/patrols/999999")
    assert missing is not None
    assert missing.status == 404
