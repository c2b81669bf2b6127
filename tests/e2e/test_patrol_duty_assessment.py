"""巡林履职 end to end: patrols, the month-end check, the bus, then the computed assessment shows it."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from linzhang.app import create_app
from linzhang.bus import SubscriberRegistry
from linzhang.clock import FixedClock
from linzhang.container import Container
from linzhang.domains.patrols.service import PatrolsContext, check_month_end
from linzhang.domains.patrols.tables import rangers_table
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.pages import sign_in_form_token
from tests.support.tracks import to_gpx, track
from tests.support.world import PASSWORD, Api, api_client, seeded_world

TOWNSHIP = "500101001"  # 高笋塘街道, where both rangers are posted
OTHER_TOWNSHIP = "500101002"  # no rangers, no patrols
ACCOUNTS = {
    "city-office": (Role.OFFICE, "50"),
    "wz-office": (Role.OFFICE, "500101"),
}


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    # Early November 2026: October has ended and can be closed.
    clock = FixedClock(dt.datetime(2026, 11, 3, 1, tzinfo=dt.UTC))
    with seeded_world(settings, registry, clock, ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        for name, phone, username in [("李护林", "13800000001", "ranger-li"), ("王护林", "13800000002", "ranger-wang")]:
            response = api.post(
                "/rangers",
                "wz-office",
                json={
                    "name": name,
                    "phone": phone,
                    "post": "ranger",
                    "jurisdiction_code": TOWNSHIP,
                    "username": username,
                    "password": PASSWORD,
                },
            )
            assert response.status_code == 201, response.text
        with world.transaction() as session:
            session.execute(update(rangers_table).values(started_on=dt.date(2026, 1, 1)))  # in post all October
        yield api


def scores(api: Api, level: str) -> dict[str, dict]:  # type: ignore[type-arg]
    response = api.get("/assessments/2026Q4/scores", "city-office", params={"level": level})
    assert response.status_code == 200, response.text
    return {item["jurisdiction_code"]: item for item in response.json()["items"]}


def test_closed_patrol_months_score_patrol_duty_in_the_assessment(api: Api, world: Container) -> None:
    # October is fire season (20 days required): 李护林 walks two valid days, 王护林 none.
    for day, origin in ((12, (108.38, 30.80)), (13, (108.40, 30.82))):  # two different walks, not one copied
        walk = track(dt.datetime(2026, 10, day, 0, 30, tzinfo=dt.UTC), minutes=75, speed_kmh=4, origin=origin)
        assert api.post("/patrols/upload", "ranger-li", content=to_gpx(walk)).json()["valid"]
    with world.transaction() as session:
        assert check_month_end(session, world.context(PatrolsContext), 2026, 10) == 2
    with world.transaction() as session:
        assert check_month_end(session, world.context(PatrolsContext), 2026, 10) == 0  # closed once
    drain(world)

    computed = api.post("/assessments", "city-office", json={"period": "2026Q4"})
    assert computed.status_code == 201, computed.text
    published = api.post("/assessments/2026Q4/publish", "city-office")
    assert published.status_code == 200, published.text
    townships = scores(api, "township")
    # (2/20 + 0/20) / 2 = 5%
    assert townships[TOWNSHIP]["components"]["patrol_duty"] == 5
    assert townships[OTHER_TOWNSHIP]["components"]["patrol_duty"] is None  # no closed months: does not apply
    assert scores(api, "district")["500101"]["components"]["patrol_duty"] == 5
    assert scores(api, "city")["50"]["components"]["patrol_duty"] == 5

    detail = api.get(f"/assessments/2026Q4/jurisdictions/{TOWNSHIP}", "city-office")
    assert detail.status_code == 200, detail.text
    lines = [d["reason"] for d in detail.json()["deductions"] if d["component"] == "patrol_duty"]
    assert sorted(lines) == [
        "护林员李护林 2026年10月有效巡林 2 天，要求 20 天",
        "护林员王护林 2026年10月有效巡林 0 天，要求 20 天",
    ]

    # The workbook and the ranking page list the component beside the others.
    workbook = api.get("/assessments/2026Q4/export.xlsx", "city-office")
    assert workbook.status_code == 200, workbook.text
    sheet = load_workbook(io.BytesIO(workbook.content))["乡镇街道"]
    headers = [c.value for c in sheet[3]]
    assert "巡林履职得分" in headers
    assert "巡林履职折算分（权重15）" in headers
    rows = {sheet.cell(row=r, column=3).value: r for r in range(4, sheet.max_row + 1)}
    assert sheet.cell(row=rows[TOWNSHIP], column=headers.index("巡林履职得分") + 1).value == 5
    assert sheet.cell(row=rows[OTHER_TOWNSHIP], column=headers.index("巡林履职得分") + 1).value == "不适用"

    with TestClient(create_app(container=world, run_embedded_bus=False)) as client:
        form = client.get("/login")
        client.post(
            "/login",
            data={"username": "city-office", "password": PASSWORD, "csrf_token": sign_in_form_token(form.text)},
            follow_redirects=False,
        )
        page = client.get("/ranking?period=2026Q4&level=township")
        assert page.status_code == 200
        assert "巡林履职" in page.text
        assert "护林员王护林 2026年10月有效巡林 0 天，要求 20 天" in page.text
