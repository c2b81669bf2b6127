"""A real browser for the pages: Debian's chromium driven by Playwright, one per test session.

Playwright's own browser download is never used (it cannot be fetched here): the browser is
/usr/bin/chromium (``apt-get install chromium``; .ci/run installs it when missing), started with a
fresh user-data directory. The app runs in this process under uvicorn on a free port of 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from litestar.testing import TestClient
from playwright.sync_api import BrowserContext, Playwright, sync_playwright
from sqlalchemy import Engine

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from tests.conftest import clean_database, make_settings
from tests.support.pages import TODAY, seed_season, shanghai
from tests.support.world import Api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 20
# The shortest refresh the settings allow, so a test sees the board refresh itself.
BOARD_REFRESH = 5


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One browser for the whole session, on a fresh profile; each test clears its cookies."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


class LiveServer:
    def __init__(self, container: Container, clock: FixedClock, ids: dict[str, int], base_url: str) -> None:
        self.container = container
        self.clock = clock
        self.ids = ids
        self.base_url = base_url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(
    migrated_engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The seeded season (tests/support/pages.py) served by uvicorn in a thread on 127.0.0.1."""
    clean_database(migrated_engine)
    settings = make_settings(database_url, tmp_path_factory.mktemp("var"), web={"board_refresh_seconds": BOARD_REFRESH})
    clock = FixedClock(shanghai(TODAY))
    container = bootstrap(settings, registry=SubscriberRegistry(), clock=clock)
    app = create_app(container=container, run_embedded_bus=False)
    with TestClient(app) as client:
        ids = seed_season(container, Api(client), clock)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, name="pages-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(container, clock, ids, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.bus.broker.flush_all()
        container.close()


@pytest.fixture
def context(browser: BrowserContext) -> Iterator[BrowserContext]:
    browser.clear_cookies()
    yield browser
    for page in list(browser.pages):
        page.close()
    browser.clear_cookies()
