"""``linzhang serve --demo`` (what ``make run`` does): the app serves at once and loads the demo behind
it; until the demo is there every page says 演示数据加载中 and /readyz carries ``demo: loading``; the
in-process bus starts once the loader is done (it handles the demo's own events, with the database to
itself), and a server whose demo is there loads nothing."""

from __future__ import annotations

import threading
import time

from litestar.testing import TestClient
from sqlalchemy import func, select

from linzhang.app import create_app
from linzhang.bus import DeliveryStatus
from linzhang.bus.tables import deliveries_table
from linzhang.container import Container
from linzhang.demo import DEMO_PASSWORD, DemoReport, demo_loaded, loader_while_serving
from linzhang.identity import Role
from linzhang.identity.service import create_user

LOADING = "演示数据加载中"


def test_the_app_serves_while_the_demo_loads_and_says_so(container: Container) -> None:
    reports: list[DemoReport] = []
    waiting_when_loaded: list[int] = []

    def announce(report: DemoReport) -> None:
        # Before the bus starts: the loader itself handled every delivery of the demo's events.
        with container.reading() as session:
            waiting_when_loaded.append(
                session.execute(
                    select(func.count()).where(deliveries_table.c.status != DeliveryStatus.DONE.value)
                ).scalar_one()
            )
        reports.append(report)

    load = loader_while_serving(container, announce, villages=12)
    assert load is not None
    assert container.demo_loading
    gate = threading.Event()

    def prepare() -> None:
        assert gate.wait(60)
        load()

    with TestClient(create_app(container=container, run_embedded_bus=True, prepare=prepare)) as client:
        # Serving before the demo is there: the sign-in page and /readyz say it is loading; no bus yet.
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").json()["demo"] == "loading"
        page = client.get("/login")
        assert page.status_code == 200
        assert LOADING in page.text
        assert container.embedded is None

        gate.set()
        deadline = time.monotonic() + 120
        while container.demo_loading and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not container.demo_loading
        assert [report.loaded for report in reports] == [True]
        assert reports[0].jurisdictions == 1 + 38 + 3 + 1031 + 12
        assert "demo" not in client.get("/readyz").json()
        assert LOADING not in client.get("/login").text
        # The demo's accounts sign in; the bus started after the loader.
        signed_in = client.post("/api/v1/auth/token", json={"username": "city-office", "password": DEMO_PASSWORD})
        assert signed_in.status_code == 200
        while container.embedded is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert container.embedded is not None
        assert container.embedded.alive
        assert waiting_when_loaded == [0]


def test_a_server_whose_demo_is_there_loads_nothing(container: Container) -> None:
    assert not demo_loaded(container)
    with container.transaction() as session:
        create_user(
            session,
            container.passwords,
            container.clock,
            username="admin",
            password=DEMO_PASSWORD,
            role=Role.ADMIN,
            jurisdiction_code=None,
            jurisdiction_path=None,
        )
    assert demo_loaded(container)

    assert loader_while_serving(container, lambda _report: None, villages=5) is None
    assert not container.demo_loading
