"""Rangers, patrols and compliance over HTTP, on both backends.

A ranger uploads real GPX and GeoJSON files (made by tests/support/tracks.py) and sends live points
in batches; the verdicts, the no-edit rule, the scope rule for rangers and the month's compliance.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from linzhang.bus.tables import events_table
from linzhang.container import Container
from linzhang.contracts.patrols import PatrolJudged
from linzhang.domains.patrols.importer import read_rangers
from linzhang.domains.patrols.model import InvalidPatrolInput
from linzhang.domains.patrols.service import PatrolsContext, check_month_end, import_areas, import_rangers
from linzhang.domains.patrols.tables import patrols_table, points_table, rangers_table
from linzhang.identity import Role
from linzhang.identity.tables import users_table
from tests.support.bus import drain
from tests.support.tracks import START, shifted, square, to_geojson, to_gpx, track
from tests.support.world import PASSWORD, Api, add_user, api_client, seed_tree

VILLAGE = "500101001001"
TOWNSHIP = "500101001"
# Past days (the tests run on the wall clock): a Monday of the fire season.
T0 = dt.datetime(2026, 10, 12, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def world(container: Container) -> Container:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "wz-office", Role.OFFICE, "500101")
    add_user(container, "fl-office", Role.OFFICE, "500102")
    return container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


def register(api: Api, name: str, phone: str, username: str, *, post: str = "ranger", code: str = VILLAGE) -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/rangers",
        "wz-office",
        json={
            "name": name,
            "phone": phone,
            "post": post,
            "jurisdiction_code": code,
            "username": username,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def upload(api: Api, who: str, content: bytes | str, fmt: str | None = None) -> object:
    params = {"format": fmt} if fmt else {}
    body = content.encode() if isinstance(content, str) else content
    return api.post("/patrols/upload", who, content=body, params=params)


def problem(response: object) -> dict:  # type: ignore[type-arg]
    """A problem document without its ``instance`` (the path asked for)."""
    body = dict(response.json())  # type: ignore[attr-defined]
    body.pop("instance", None)
    return body


def count(container: Container, table) -> int:  # type: ignore[no-untyped-def]
    with container.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def rangers(api: Api) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        "ranger-li": register(api, "李护林", "13800000001", "ranger-li"),
        "ranger-wang": register(api, "王护林", "13800000002", "ranger-wang"),
        "super-zhao": register(api, "赵监管", "13800000003", "super-zhao", post="supervisor", code=TOWNSHIP),
    }


def test_registering_a_ranger_gives_an_account_of_the_ranger_role(api: Api, world: Container, rangers: dict) -> None:  # type: ignore[type-arg]
    li = rangers["ranger-li"]
    assert li["post"] == "ranger"
    assert li["post_label"] == "护林员"
    assert li["jurisdiction_name"] == "示范村"
    assert li["username"] == "ranger-li"
    with world.engine.connect() as connection:
        role = connection.execute(select(users_table.c.role).where(users_table.c.username == "ranger-li")).scalar_one()
    assert role == "ranger"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "甲", "phone": "123", "post": "ranger", "jurisdiction_code": VILLAGE}, 422, "phone_invalid"),
        ({"name": "甲", "phone": "13900000000", "post": "boss", "jurisdiction_code": VILLAGE}, 422, "post_invalid"),
        (
            {"name": "甲", "phone": "13900000000", "post": "ranger", "jurisdiction_code": "500101"},
            422,
            "post_level_invalid",
        ),
        (
            {"name": "甲", "phone": "13900000000", "post": "ranger", "jurisdiction_code": "500102001"},
            404,
            "jurisdiction_not_found",
        ),
        (
            {"name": "甲", "phone": "13900000000", "post": "ranger", "jurisdiction_code": "nowhere"},
            404,
            "jurisdiction_not_found",
        ),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(
    api: Api,
    world: Container,
    body: dict,
    status: int,
    code: str,  # type: ignore[type-arg]
) -> None:
    response = api.post("/rangers", "wz-office", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert count(world, rangers_table) == 0


def test_a_walk_passes_and_its_track_cannot_be_edited(api: Api, world: Container, rangers: dict) -> None:  # type: ignore[type-arg]
    response = upload(api, "ranger-li", to_gpx(track(T0, minutes=75, speed_kmh=4)))
    assert response.status_code == 201, response.text
    patrol = response.json()
    assert patrol["valid"] is True
    assert patrol["reasons"] == []
    assert patrol["source"] == "gpx"
    assert patrol["status"] == "judged"
    assert patrol["day"] == "2026-10-12"
    assert patrol["point_count"] == 301
    assert 4_900 < patrol["distance_m"] < 5_200
    assert patrol["duration_s"] == 4500
    # Nobody can add to a recorded track.
    late = api.post(
        f"/patrols/{patrol['id']}/points",
        "ranger-li",
        json={"batch_key": "late", "points": [{"lon": 108.4, "lat": 30.8, "time": T0.isoformat()}]},
    )
    assert late.status_code == 409
    assert late.json()["code"] == "patrol_ended"
    assert count(world, points_table) == 301
    points = api.get(f"/patrols/{patrol['id']}/points", "ranger-li").json()
    assert len(points) == 301
    assert points[0]["lon"] == pytest.approx(START[0])


def test_too_short_a_car_and_a_shifted_copy_are_not_patrols(api: Api, rangers: dict) -> None:  # type: ignore[type-arg]
    short = upload(api, "ranger-li", to_gpx(track(T0, minutes=30, speed_kmh=4))).json()
    assert short["valid"] is False
    assert {r["code"] for r in short["reasons"]} == {"too_short", "too_brief"}
    car = upload(api, "ranger-li", to_gpx(track(T0 + dt.timedelta(days=1), minutes=70, speed_kmh=60))).json()
    assert {r["code"] for r in car["reasons"]} == {"too_fast"}
    walk = track(T0 + dt.timedelta(days=2), minutes=75, speed_kmh=4)
    original = upload(api, "ranger-li", to_gpx(walk)).json()
    assert original["valid"] is True
    # Another ranger replays the same track a day later, as GeoJSON: caught.
    copy = upload(api, "ranger-wang", to_geojson(shifted(walk, dt.timedelta(days=1, minutes=3)))).json()
    assert copy["source"] == "geojson"
    assert copy["valid"] is False
    assert [r["code"] for r in copy["reasons"]] == ["copied_track"]
    assert f"第 {original['id']} 号" in copy["reasons"][0]["detail"]


def test_bad_track_files_answer_422_and_write_nothing(api: Api, world: Container, rangers: dict) -> None:  # type: ignore[type-arg]
    for body, code in [
        (b"", "track_empty"),
        (b"<gpx><trk>", "gpx_invalid"),
        (b"{}", "geojson_invalid"),
        (b"\xff\xfe<gpx/>", "gpx_invalid"),
    ]:
        response = upload(api, "ranger-li", body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code
        assert "detail" in response.json()
    future = track(dt.datetime.now(dt.UTC) + dt.timedelta(days=1), minutes=75, speed_kmh=4)
    response = upload(api, "ranger-li", to_gpx(future))
    assert response.json()["code"] == "track_in_future"
    assert count(world, patrols_table) == 0


def test_live_points_in_batches_a_batch_sent_twice_is_stored_once(api: Api, world: Container, rangers: dict) -> None:  # type: ignore[type-arg]
    started = api.post("/patrols", "ranger-li")
    assert started.status_code == 201, started.text
    patrol = started.json()
    assert patrol["status"] == "open"
    again = api.post("/patrols", "ranger-li")
    assert again.status_code == 409
    assert again.json()["code"] == "patrol_already_open"
    now = dt.datetime.now(dt.UTC)
    walk = track(now - dt.timedelta(seconds=60), minutes=1, speed_kmh=4)
    batch = {
        "batch_key": "phone-1-0001",
        "points": [{"lon": p.lon, "lat": p.lat, "time": p.at.isoformat(), "accuracy": p.accuracy} for p in walk],
    }
    first = api.post(f"/patrols/{patrol['id']}/points", "ranger-li", json=batch)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "patrol_id": patrol["id"],
        "batch_key": "phone-1-0001",
        "stored": 5,
        "duplicate": False,
        "point_count": 5,
    }
    second = api.post(f"/patrols/{patrol['id']}/points", "ranger-li", json=batch)
    assert second.json()["duplicate"] is True
    assert second.json()["stored"] == 0
    assert count(world, points_table) == 5
    # Another ranger cannot touch it: their answer is the one for a patrol that does not exist.
    foreign = api.post(f"/patrols/{patrol['id']}/points", "ranger-wang", json={**batch, "batch_key": "x"})
    missing = api.post("/patrols/999999/points", "ranger-wang", json={**batch, "batch_key": "x"})
    assert foreign.status_code == missing.status_code == 404
    assert problem(foreign) == problem(missing)
    # A point long before the patrol began is refused.
    old = {"batch_key": "old", "points": [{"lon": 108.4, "lat": 30.8, "time": "2020-01-01T00:00:00Z"}]}
    refused = api.post(f"/patrols/{patrol['id']}/points", "ranger-li", json=old)
    assert refused.status_code == 422
    assert refused.json()["code"] == "point_time_out_of_patrol"
    ended = api.post(f"/patrols/{patrol['id']}/end", "ranger-li")
    assert ended.status_code == 200, ended.text
    body = ended.json()
    assert body["status"] == "judged"
    assert body["valid"] is False
    assert {"too_short", "too_brief"} <= {r["code"] for r in body["reasons"]}
    # Ending again answers the same verdict; the batch key still answers a duplicate, nothing is added.
    assert api.post(f"/patrols/{patrol['id']}/end", "ranger-li").json() == body
    assert api.post(f"/patrols/{patrol['id']}/points", "ranger-li", json=batch).json()["duplicate"] is True


def test_the_verdict_is_published_for_the_other_domains(api: Api, world: Container, rangers: dict) -> None:  # type: ignore[type-arg]
    from linzhang.bus.tables import events_table as outbox_table

    upload(api, "ranger-li", to_gpx(track(T0, minutes=75, speed_kmh=4)))
    with world.engine.connect() as connection:
        rows = connection.execute(
            select(outbox_table.c.payload).where(outbox_table.c.event_type == PatrolJudged.event_type)
        ).all()
    assert len(rows) == 1
    payload = json.loads(rows[0].payload)
    assert payload["valid"] is True
    assert payload["post"] == "ranger"
    assert payload["day"] == "2026-10-12"
    assert payload["jurisdiction_code"] == VILLAGE


def test_the_scope_rule_for_rangers(api: Api, rangers: dict) -> None:  # type: ignore[type-arg]
    li_patrol = upload(api, "ranger-li", to_gpx(track(T0, minutes=75, speed_kmh=4))).json()
    wang_patrol = upload(api, "ranger-wang", to_gpx(track(T0, minutes=80, speed_kmh=4))).json()
    # A ranger sees their own patrols only; another ranger's answers exactly like a missing one.
    assert api.get(f"/patrols/{li_patrol['id']}", "ranger-li").status_code == 200
    foreign = api.get(f"/patrols/{wang_patrol['id']}", "ranger-li")
    missing = api.get("/patrols/987654", "ranger-li")
    assert foreign.status_code == missing.status_code == 404
    assert problem(foreign) == problem(missing)
    assert problem(api.get(f"/patrols/{wang_patrol['id']}/points", "ranger-li")) == problem(missing)
    assert [p["id"] for p in api.get("/patrols", "ranger-li").json()["items"]] == [li_patrol["id"]]
    assert [r["id"] for r in api.get("/rangers", "ranger-li").json()["items"]] == [rangers["ranger-li"]["id"]]
    assert api.get(f"/rangers/{rangers['ranger-wang']['id']}", "ranger-li").json()["code"] == "ranger_not_found"
    # A supervisor of the township sees the rangers and patrols of their area.
    assert {p["id"] for p in api.get("/patrols", "super-zhao").json()["items"]} == {li_patrol["id"], wang_patrol["id"]}
    assert api.get(f"/patrols/{wang_patrol['id']}", "super-zhao").status_code == 200
    assert len(api.get("/rangers", "super-zhao").json()["items"]) == 3
    # The district office sees them; another district's office cannot tell them from missing ones.
    assert api.get(f"/patrols/{li_patrol['id']}", "wz-office").status_code == 200
    other = api.get(f"/patrols/{li_patrol['id']}", "fl-office")
    assert other.status_code == 404
    assert problem(other) == problem(api.get("/patrols/987654", "fl-office"))
    assert api.get("/patrols", "fl-office").json()["items"] == []
    # A ranger may not register people or read another domain's work.
    refused = api.post(
        "/rangers",
        "ranger-li",
        json={"name": "甲", "phone": "13900000009", "post": "ranger", "jurisdiction_code": VILLAGE},
    )
    assert refused.status_code == 403
    assert api.get(f"/jurisdictions/{VILLAGE}/coverage", "ranger-li").status_code == 403
    # An office does not patrol.
    assert api.post("/patrols", "wz-office").json()["code"] == "role_not_permitted"


def test_a_replaced_ranger_signs_in_no_more(api: Api, rangers: dict) -> None:  # type: ignore[type-arg]
    response = api.post(
        f"/rangers/{rangers['ranger-li']['id']}/replace",
        "wz-office",
        json={"name": "李接任", "phone": "13800000011", "username": "ranger-li2", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    successor = response.json()
    assert successor["predecessor_id"] == rangers["ranger-li"]["id"]
    assert successor["post"] == "ranger"
    old = api.get(f"/rangers/{rangers['ranger-li']['id']}", "wz-office").json()
    assert old["active"] is False
    assert old["successor_id"] == successor["id"]
    api.forget("ranger-li")
    login = api.client.post("/api/v1/auth/token", json={"username": "ranger-li", "password": PASSWORD})
    assert login.status_code == 401
    assert api.post("/patrols", "ranger-li2").status_code == 201
    again = api.post(
        f"/rangers/{rangers['ranger-li']['id']}/replace", "wz-office", json={"name": "甲", "phone": "13800000012"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "ranger_not_active"


def test_a_village_chief_patrols_too(api: Api, world: Container) -> None:
    appointed = api.post(
        "/chiefs",
        "wz-office",
        json={
            "name": "村林长",
            "post": "村党支部书记",
            "role": "chief",
            "jurisdiction_code": VILLAGE,
            "username": "village-chief",
            "password": PASSWORD,
        },
    )
    assert appointed.status_code == 201, appointed.text
    patrol = upload(api, "village-chief", to_gpx(track(T0, minutes=75, speed_kmh=4))).json()
    assert patrol["person_kind"] == "chief"
    assert patrol["post"] == "village_chief"
    assert patrol["valid"] is True
    district_chief = api.post(
        "/chiefs",
        "wz-office",
        json={
            "name": "区林长",
            "post": "区长",
            "role": "chief",
            "jurisdiction_code": "500101",
            "username": "district-chief",
            "password": PASSWORD,
        },
    )
    assert district_chief.status_code == 201
    assert api.post("/patrols", "district-chief").json()["code"] == "not_a_patroller"


def test_patrol_areas_decide_inside_or_outside(api: Api, world: Container, rangers: dict) -> None:  # type: ignore[type-arg]
    context = world.context(PatrolsContext)
    document = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": VILLAGE}, "geometry": square(START[0] + 1, START[1], 0.05)}
        ],
    }
    with world.transaction() as session:
        assert import_areas(session, context, document) == 1
    outside = upload(api, "ranger-li", to_gpx(track(T0, minutes=75, speed_kmh=4))).json()
    assert [r["code"] for r in outside["reasons"]] == ["outside_area"]
    document["features"][0]["geometry"] = square(START[0] + 0.02, START[1], 0.05)  # type: ignore[index]
    with world.transaction() as session:
        import_areas(session, context, document)
    inside = upload(api, "ranger-li", to_gpx(track(T0 + dt.timedelta(days=1), minutes=75, speed_kmh=4.2))).json()
    assert inside["valid"] is True
    bad = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"code": TOWNSHIP}, "geometry": square(1, 1, 1)}],
    }
    with pytest.raises(InvalidPatrolInput) as caught, world.transaction() as session:
        import_areas(session, context, bad)
    assert caught.value.code == "area_not_village"


def test_the_month_compliance_across_the_fire_season_boundary(api: Api, rangers: dict) -> None:  # type: ignore[type-arg]
    # 30 September 23:30 in 重庆 (15:30 UTC) counts for September; 1 October 01:00 (17:00 UTC on the
    # 30th) for October, whose requirement is the fire season's.
    september = dt.datetime(2026, 9, 30, 15, 30, tzinfo=dt.UTC)
    october = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert upload(api, "ranger-li", to_gpx(track(september, minutes=75, speed_kmh=4))).json()["day"] == "2026-09-30"
    assert upload(api, "ranger-li", to_gpx(track(october, minutes=80, speed_kmh=4))).json()["day"] == "2026-10-01"
    sept = api.get("/compliance", "wz-office", params={"month": "2026-09", "jurisdiction_code": "500101"}).json()
    octo = api.get("/compliance", "wz-office", params={"month": "2026-10", "jurisdiction_code": "500101"}).json()
    assert sept["fire_season"] is False
    assert octo["fire_season"] is True
    li_sept = next(p for p in sept["items"] if p["name"] == "李护林")
    li_oct = next(p for p in octo["items"] if p["name"] == "李护林")
    assert (li_sept["valid_days"], li_sept["required_days"], li_sept["met"]) == (1, 10, False)
    assert (li_oct["valid_days"], li_oct["required_days"], li_oct["met"]) == (1, 20, False)
    # Registered today, the others were in post in neither month; whoever recorded a patrol is counted.
    assert octo["people"] == 1
    assert octo["met"] == 0
    this_month = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    now = api.get("/compliance", "wz-office", params={"month": this_month}).json()
    assert now["jurisdiction_code"] == "500101"
    assert sorted(p["name"] for p in now["items"]) == ["李护林", "王护林", "赵监管"]
    assert all(p["valid_days"] == 0 and not p["met"] for p in now["items"])
    # A ranger may not read the table; the other district cannot see this one.
    assert api.get("/compliance", "ranger-li", params={"month": "2026-10"}).status_code == 403
    assert (
        api.get("/compliance", "fl-office", params={"month": "2026-10", "jurisdiction_code": "500101"}).status_code
        == 404
    )
    bad = api.get("/compliance", "wz-office", params={"month": "2026-13"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "month_invalid"


def test_importing_rangers_is_all_or_nothing_with_line_numbers(world: Container) -> None:
    context = world.context(PatrolsContext)
    good = "name,phone,jurisdiction_code,post\n张一,13700000001,500101001001,ranger\n张二,13700000002,500101001,supervisor\n"
    with world.transaction() as session:
        assert import_rangers(session, context, read_rangers(good.encode())) == 2
    with world.transaction() as session:
        assert import_rangers(session, context, read_rangers(good.encode())) == 0  # again: nothing new
    bad = good + "张三,13700000003,500101001001,ranger\n张四,bad,500101001001,ranger\n"
    with pytest.raises(InvalidPatrolInput) as caught, world.transaction() as session:
        import_rangers(session, context, read_rangers(bad.encode()))
    assert caught.value.line == 5
    assert str(caught.value).startswith("第5行：电话号码格式不正确")
    assert count(world, rangers_table) == 2  # 张三 was not kept
    with pytest.raises(InvalidPatrolInput) as header:
        read_rangers("姓名,电话\n".encode())
    assert header.value.code == "ranger_header_invalid"


def test_the_import_commands(world: Container, tmp_path: Path) -> None:
    from linzhang.cli import cli

    rangers_file = tmp_path / "rangers.csv"
    rangers_file.write_text(
        "name,phone,jurisdiction_code,post\n张一,13700000001,500101001001,ranger\n张二,1,x,ranger\n"
    )
    areas_file = tmp_path / "areas.geojson"
    areas_file.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"code": VILLAGE}, "geometry": square(108.4, 30.8, 0.1)}
                ],
            }
        )
    )
    env = {
        "LINZHANG_DATABASE_URL": world.settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(world.settings.var_path),
        "LINZHANG_REDIS_URL": world.settings.redis.url,
        "LINZHANG_LOGGING_JSON": "false",
    }
    runner = CliRunner()
    refused = runner.invoke(cli, ["import", "rangers", str(rangers_file)], env=env)
    assert refused.exit_code == 1
    assert "第3行" in refused.output
    assert "未导入任何数据" in refused.output
    assert count(world, rangers_table) == 0
    stored = runner.invoke(cli, ["import", "areas", str(areas_file)], env=env)
    assert stored.exit_code == 0, stored.output
    assert "已导入 1 个村的巡护区域" in stored.output


def appoint(api: Api, name: str, code: str, term_start: str) -> dict:  # type: ignore[type-arg]
    response = api.post(
        "/chiefs",
        "wz-office",
        json={"name": name, "post": "书记", "role": "chief", "jurisdiction_code": code, "term_start": term_start},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_chiefs_without_a_patrol_are_counted_and_get_the_month_end_issue(api: Api, world: Container) -> None:
    village = appoint(api, "村林长", VILLAGE, "2026-09-01")
    township = appoint(api, "镇林长", TOWNSHIP, "2026-09-01")
    appoint(api, "区林长", "500101", "2026-09-01")  # above the township: no patrol requirement
    late = appoint(api, "新镇长", "500101002", "2026-10-20")  # joined during October
    drain(world)
    october = api.get("/compliance", "wz-office", params={"month": "2026-10", "jurisdiction_code": "500101"}).json()
    people = {p["name"]: p for p in october["items"]}
    assert set(people) == {"村林长", "新镇长", "镇林长"}
    assert (people["村林长"]["person_kind"], people["村林长"]["person_id"]) == ("chief", village["id"])
    assert (people["村林长"]["post"], people["村林长"]["valid_days"], people["村林长"]["required_days"]) == (
        "village_chief",
        0,
        4,
    )
    assert (people["镇林长"]["post"], people["镇林长"]["valid_days"], people["镇林长"]["required_days"]) == (
        "township_chief",
        0,
        1,
    )
    assert october["met"] == 0
    # August: nobody was in post yet.
    august = api.get("/compliance", "wz-office", params={"month": "2026-08", "jurisdiction_code": "500101"}).json()
    assert august["items"] == []
    with world.transaction() as session:
        assert check_month_end(session, world.context(PatrolsContext), 2026, 10) == 2
        reported = [
            json.loads(p)
            for p in session.execute(
                select(events_table.c.payload).where(events_table.c.event_type == "ProblemReported")
            ).scalars()
        ]
        closed = [
            json.loads(p)
            for p in session.execute(
                select(events_table.c.payload).where(events_table.c.event_type == "PatrolMonthClosed")
            ).scalars()
        ]
    # The month is closed for both (0 valid days), for the assessment's 巡林履职.
    assert sorted((c["person_id"], c["valid_days"], c["required_days"]) for c in closed) == sorted(
        [(village["id"], 0, 4), (township["id"], 0, 1)]
    )
    references = sorted(r["reference"] for r in reported)
    assert references == sorted([f"2026-10:chief:{village['id']}", f"2026-10:chief:{township['id']}"])
    assert late["id"] not in {int(r.split(":")[2]) for r in references}
    # The replaced village chief's term ended: in post for part of November only, they owe nothing for it.
    replaced = api.post(f"/chiefs/{village['id']}/replace", "wz-office", json={"name": "接任村长", "post": "书记"})
    assert replaced.status_code in (200, 201), replaced.text
    drain(world)
    this_month = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    now = api.get("/compliance", "wz-office", params={"month": this_month, "jurisdiction_code": VILLAGE}).json()
    assert {p["name"] for p in now["items"]} == {"接任村长", "村林长"}
