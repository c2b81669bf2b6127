"""Field reports and the month-end check: both become issues through the report intake, on both backends."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from linzhang.bus.tables import events_table
from linzhang.container import Container
from linzhang.domains.chiefs.tables import inbox_table
from linzhang.domains.patrols.service import PatrolsContext, check_month_end, import_areas
from linzhang.domains.patrols.tables import field_reports_table, rangers_table
from linzhang.domains.tasks.tables import tasks_table
from linzhang.identity import Role
from tests.support.bus import drain
from tests.support.tracks import START, square, to_gpx, track
from tests.support.world import PASSWORD, Api, add_user, api_client, seed_tree

VILLAGE = "500101001001"
TOWNSHIP = "500101001"
OTHER_TOWNSHIP = "500101002"


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    add_user(container, "wz-office", Role.OFFICE, "500101")
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        for name, phone, username, code in [
            ("李护林", "13800000001", "ranger-li", TOWNSHIP),
            ("王护林", "13800000002", "ranger-wang", TOWNSHIP),
        ]:
            response = api.post(
                "/rangers",
                "wz-office",
                json={
                    "name": name,
                    "phone": phone,
                    "post": "ranger",
                    "jurisdiction_code": code,
                    "username": username,
                    "password": PASSWORD,
                },
            )
            assert response.status_code == 201, response.text
        yield api


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def report(api: Api, who: str, lon: float, lat: float, **extra: object) -> object:
    data = {"category": "fire_prevention", "text": "山脚有人烧荒", "lon": str(lon), "lat": str(lat)}
    data.update({k: str(v) for k, v in extra.items() if k != "files"})
    files = extra.get("files", [("photos", ("p.jpg", jpeg(), "image/jpeg"))])
    return api.post("/field-reports", who, data=data, files=files)


def count(container: Container, table) -> int:  # type: ignore[no-untyped-def]
    with container.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_report_in_a_villages_area_becomes_an_issue_in_that_villages_inbox(api: Api, world: Container) -> None:
    with world.transaction() as session:
        import_areas(
            session,
            world.context(PatrolsContext),
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"code": VILLAGE}, "geometry": square(*START, 0.01)}],
            },
        )
    response = report(api, "ranger-li", START[0] + 0.001, START[1])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["jurisdiction_code"] == VILLAGE
    assert body["jurisdiction_name"] == "示范村"
    assert body["routed_by_area"] is True
    assert body["category_name"] == "森林防火"
    assert body["status"] == "sent"
    assert len(body["photo_hashes"]) == 1
    drain(world)
    with world.reading() as session:
        task = session.execute(select(tasks_table)).one()
        inbox = session.execute(select(inbox_table).where(inbox_table.c.task_id == task.id)).one()
    assert (task.kind, task.jurisdiction_code, task.category) == ("issue", VILLAGE, "fire_prevention")
    assert inbox.jurisdiction_code == VILLAGE
    after = api.get(f"/field-reports/{body['id']}", "ranger-li").json()
    assert (after["status"], after["task_id"]) == ("issue", task.id)
    # The photo is kept by its content and shown to the reporter and to the office above.
    photo = body["photo_hashes"][0]
    assert api.get(f"/photos/{photo}/thumbnail", "ranger-li").status_code == 200
    assert api.get(f"/photos/{photo}", "wz-office").content == jpeg()
    other = api.get(f"/field-reports/{body['id']}", "ranger-wang")
    missing = api.get("/field-reports/424242", "ranger-wang")
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"] == "field_report_not_found"
    # Another ranger of the same township sees neither the report nor its photo (nor the issue's copy
    # of it): the same answer as for a photo that does not exist.
    for path in (f"/photos/{photo}", f"/photos/{photo}/thumbnail"):
        foreign = api.get(path, "ranger-wang")
        absent = api.get(path.replace(photo, "0" * 64), "ranger-wang")
        assert foreign.status_code == absent.status_code == 404
        assert foreign.json()["code"] == absent.json()["code"] == "photo_not_found"
    assert [r["id"] for r in api.get("/field-reports", "ranger-wang").json()["items"]] == []
    assert [r["id"] for r in api.get("/field-reports", "wz-office").json()["items"]] == [body["id"]]


def test_a_point_in_no_area_goes_to_the_reporters_own_jurisdiction(api: Api, world: Container) -> None:
    response = report(api, "ranger-li", 108.9, 30.2, files=[])
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["jurisdiction_code"], body["routed_by_area"], body["photo_hashes"]) == (TOWNSHIP, False, [])
    drain(world)
    with world.reading() as session:
        assert session.execute(select(tasks_table.c.jurisdiction_code)).scalar_one() == TOWNSHIP


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "nonsense"}, "category_unknown"),
        ({"text": " "}, "field_required"),
        ({"lon": "east"}, "invalid_request"),
        ({"lat": "95"}, "latitude_invalid"),
        ({"patrol_id": "77"}, "patrol_not_found"),
        ({"files": [("photos", ("p.jpg", b"not an image at all", "image/jpeg"))]}, None),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(api: Api, world: Container, change: dict, code: str | None) -> None:  # type: ignore[type-arg]
    data = {"category": "fire_prevention", "text": "山脚有人烧荒", "lon": "108.4", "lat": "30.8"}
    data.update({k: v for k, v in change.items() if k != "files"})
    files = change.get("files", [])
    response = api.post("/field-reports", "ranger-li", data=data, files=files)
    assert response.status_code in (404, 422), response.text
    if code is not None:
        assert response.json()["code"] == code
    assert response.json()["detail"]
    assert count(world, field_reports_table) == 0
    with world.reading() as session:
        reported = select(func.count()).where(events_table.c.event_type == "ProblemReported")
        assert session.execute(reported).scalar_one() == 0


def test_an_office_cannot_file_field_reports(api: Api) -> None:
    response = report(api, "wz-office", 108.4, 30.8, files=[])
    assert response.status_code == 403


def test_the_month_end_check_raises_an_issue_for_who_fell_short_once(api: Api, world: Container) -> None:
    # One valid day in October (the fire season asks 20): 李护林 falls short; both were in post all month.
    october = dt.datetime(2026, 10, 12, 0, 30, tzinfo=dt.UTC)
    assert api.post("/patrols/upload", "ranger-li", content=to_gpx(track(october, minutes=75, speed_kmh=4))).json()[
        "valid"
    ]
    with world.transaction() as session:
        session.execute(update(rangers_table).values(started_on=dt.date(2026, 1, 1)))
    context = world.context(PatrolsContext)
    with world.transaction() as session:
        assert check_month_end(session, context, 2026, 10) == 2
    with world.transaction() as session:
        assert check_month_end(session, context, 2026, 10) == 0  # a month is checked once
    drain(world)
    with world.reading() as session:
        tasks = session.execute(select(tasks_table.c.title, tasks_table.c.jurisdiction_code)).all()
        reports = [
            json.loads(p)
            for p in session.execute(
                select(events_table.c.payload).where(events_table.c.event_type == "ProblemReported")
            ).scalars()
        ]
    assert sorted(t.jurisdiction_code for t in tasks) == [TOWNSHIP, TOWNSHIP]
    assert any("李护林" in t.title and "2026-10" in t.title for t in tasks)
    li = next(r for r in reports if "李护林" in r["title"])
    assert li["source"] == "compliance"
    assert "有效巡林 1 天，要求 20 天" in li["text"]


def test_who_joined_during_the_month_owes_nothing_for_it(api: Api, world: Container) -> None:
    with world.transaction() as session:
        session.execute(update(rangers_table).values(started_on=dt.date(2026, 10, 15)))
    with world.transaction() as session:
        assert check_month_end(session, world.context(PatrolsContext), 2026, 10) == 0
