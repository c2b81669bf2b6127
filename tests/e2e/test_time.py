"""Honest time: sweeps never run ahead, the test clock of training instances, the calendar's coverage."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import func, select

from linzhang.app import create_app
from linzhang.bootstrap import bootstrap
from linzhang.bus import SubscriberRegistry
from linzhang.cli import cli
from linzhang.clock import FixedClock, TestClock
from linzhang.container import Container
from linzhang.domains.tasks.context import TasksContext
from linzhang.domains.tasks.escalation import sweep
from linzhang.domains.tasks.tables import sweeps_table
from linzhang.identity import Action, Role
from linzhang.identity.scope import system_actor
from linzhang.log import configure_logging
from linzhang.settings import LoggingSettings, Settings
from tests.conftest import make_settings
from tests.support.bus import drain
from tests.support.pages import sign_in_form_token
from tests.support.world import PASSWORD, Api, api_client, seeded_world

ACCOUNTS = {
    "admin": (Role.ADMIN, None),
    "city-office": (Role.OFFICE, "50"),
    "gaosuntang": (Role.CHIEF, "500101001"),
    "village": (Role.CHIEF, "500101001001"),
}
# 2027's Spring Festival holidays as an office would enter them once published (the dates here are
# illustrative: a working week that includes Monday 8 February, and a Saturday worked in exchange).
SPRING_FESTIVAL_2027 = "2027-02-08..2027-02-12"
MAKE_UP_2027 = "2027-02-20"


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


def sweeps(world: Container) -> list[datetime]:
    with world.engine.connect() as connection:
        return list(connection.execute(select(sweeps_table.c.as_of).order_by(sweeps_table.c.as_of)).scalars())


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
        # The command configures logging for the whole test process: keep the suite's JSON lines.
        "LINZHANG_LOGGING_JSON": "true",
    }


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    configure_logging(LoggingSettings(level="INFO", json=True))
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def logged(stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


# -- the sweep cannot be sent into the future -------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(shanghai("2021-03-10T09:00:00"))


@pytest.fixture
def world(settings: Settings, registry: SubscriberRegistry, clock: FixedClock) -> Iterator[Container]:
    with seeded_world(settings, registry, clock, ACCOUNTS) as container:
        yield container


@pytest.fixture
def api(world: Container) -> Iterator[Api]:
    with api_client(world) as api:
        yield api


# Another scheduler's sweep, as the periodic job runs it: a system actor.
OTHER_SCHEDULER = system_actor("other-scheduler", Action.RUN_SWEEP, name="other-scheduler")


def periodic_sweep(world: Container) -> None:
    (job,) = [job for job in world.bus.jobs if job.name == "escalation.sweep"]
    job.run()


def test_a_future_as_of_is_refused_and_the_periodic_sweep_still_runs(
    api: Api, world: Container, clock: FixedClock
) -> None:
    for as_of in ("2027-01-25T09:00:00+08:00", "2021-03-10T09:10:00+08:00"):
        response = api.post("/escalations/sweep", "admin", json={"as_of": as_of})
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "as_of_in_future"
        assert body["field"] == "as_of"
        assert "未来" in body["detail"]
    assert sweeps(world) == []  # nothing recorded
    # Within the configured clock-skew allowance (300 s) a sweep is accepted.
    within = api.post("/escalations/sweep", "admin", json={"as_of": "2021-03-10T09:04:00+08:00"})
    assert within.status_code == 200, within.text
    clock.advance(timedelta(minutes=5))
    periodic_sweep(world)
    assert sweeps(world) == [shanghai("2021-03-10T09:04:00"), clock.now()]


@pytest.mark.parametrize(
    ("as_of", "code"),
    [
        ("9999-12-31T23:59:59+08:00", "as_of_in_future"),
        ("9999-12-31T23:59:59-12:00", "as_of_out_of_range"),
        ("0001-01-01T00:00:00+08:00", "as_of_out_of_range"),
    ],
)
def test_out_of_range_as_of_is_a_422_never_a_500(api: Api, world: Container, as_of: str, code: str) -> None:
    response = api.post("/escalations/sweep", "admin", json={"as_of": as_of})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert sweeps(world) == []


def test_the_periodic_sweep_logs_and_skips_a_conflict_then_runs_again(
    world: Container, clock: FixedClock, log_stream: io.StringIO
) -> None:
    # Another scheduler, its clock two minutes ahead (within the allowance), swept first.
    ahead = clock.now() + timedelta(minutes=2)
    with world.transaction() as session:
        sweep(session, OTHER_SCHEDULER, world.context(TasksContext), ahead, skew=timedelta(minutes=5))
    periodic_sweep(world)  # as of now: earlier than the last sweep, a Conflict - logged, not raised
    (skipped,) = logged(log_stream, "escalation.sweep_skipped")
    assert skipped["code"] == "as_of_before_last_sweep"
    assert skipped["level"] == "warning"
    assert sweeps(world) == [ahead]
    clock.advance(timedelta(minutes=3))
    periodic_sweep(world)
    assert sweeps(world) == [ahead, clock.now()]


def test_the_sweep_command_refuses_a_future_as_of(settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["sweep", "--as-of", "9999-12-31T23:59:59+08:00"], env=cli_env(settings))
    assert result.exit_code == 1, result.output
    assert "未来" in result.output
    far = CliRunner().invoke(cli, ["sweep", "--as-of", "0001-01-01T00:00:00+08:00"], env=cli_env(settings))
    assert far.exit_code == 1, far.output
    assert "超出" in far.output
    now = CliRunner().invoke(cli, ["sweep"], env=cli_env(settings))
    assert now.exit_code == 0, now.output


# -- the test clock ---------------------------------------------------------------------------------


@pytest.fixture
def test_settings(settings: Settings, tmp_path: Path) -> Settings:
    return make_settings(settings.database_url, tmp_path / "var", clock={"mode": "test"})


@pytest.fixture
def training(test_settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    with seeded_world(test_settings, registry, None, ACCOUNTS) as container:
        yield container


@pytest.fixture
def training_api(training: Container) -> Iterator[Api]:
    with api_client(training) as api:
        yield api


def test_in_system_mode_there_is_no_test_clock(api: Api) -> None:
    for response in (
        api.get("/clock", "admin"),
        api.post("/clock", "admin", json={"now": "2027-01-04T09:00:00+08:00"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "test_clock_not_enabled"


def test_the_test_clock_moves_forward_only_and_every_process_agrees(
    training: Container, training_api: Api, test_settings: Settings
) -> None:
    api = training_api
    assert training.on_test_clock
    first = api.get("/clock", "village")
    assert first.status_code == 200, first.text
    assert first.json()["mode"] == "test"
    start = datetime.fromisoformat(first.json()["now"])
    assert abs(start - datetime.now(UTC)) < timedelta(minutes=5)  # it started at the wall clock's time
    # It stands still until moved.
    assert datetime.fromisoformat(api.get("/clock", "village").json()["now"]) == start

    assert api.post("/clock", "city-office", json={"now": "2027-01-04T09:00:00+08:00"}).status_code == 403
    moved = api.post("/clock", "admin", json={"now": "2027-01-04T09:00:00+08:00"})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["now"]) == shanghai("2027-01-04T09:00:00")

    # Another process on the same database (a worker, a scheduler) reads the same time.
    other = bootstrap(test_settings, registry=SubscriberRegistry())
    try:
        assert isinstance(other.clock, TestClock)
        assert other.clock.now() == shanghai("2027-01-04T09:00:00")
    finally:
        other.close()

    back = api.post("/clock", "admin", json={"now": "2027-01-03T09:00:00+08:00"})
    assert back.status_code == 422, back.text
    assert back.json()["code"] == "clock_backwards"
    assert "向前" in back.json()["detail"]
    naive = api.post("/clock", "admin", json={"now": "2027-02-01T09:00:00"})
    assert naive.status_code == 422
    end_of_time = api.post("/clock", "admin", json={"now": "9999-12-31T23:59:59+08:00"})
    assert end_of_time.status_code == 422, end_of_time.text
    assert end_of_time.json()["code"] == "clock_too_far_ahead"
    assert datetime.fromisoformat(api.get("/clock", "admin").json()["now"]) == shanghai("2027-01-04T09:00:00")


def test_deadlines_inbox_and_sweeps_read_the_test_clock(training: Container, training_api: Api) -> None:
    api = training_api
    assert api.post("/clock", "admin", json={"now": "2027-03-01T09:00:00+08:00"}).status_code == 200
    created = api.post(
        "/tasks",
        "gaosuntang",
        json={
            "title": "松材线虫病疫木清理",
            "kind": "issue",
            "category": "pest_control",
            "jurisdiction_code": "500101001001",
            "due_date": "2027-03-03",
        },
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    drain(training)
    assert api.get(f"/tasks/{task_id}", "village").json()["overdue"] is False

    # A month later (a token issued before the move still works: tokens run on the wall clock).
    assert api.post("/clock", "admin", json={"now": "2027-03-31T09:00:00+08:00"}).status_code == 200
    task = api.get(f"/tasks/{task_id}", "village").json()
    assert task["overdue"] is True
    (item,) = api.get("/inbox", "village").json()["items"]
    assert item["overdue"] is True
    assert item["days_overdue"] == 28
    # The periodic sweep sweeps as of the test clock; a sweep ahead of it is refused.
    (job,) = [job for job in training.bus.jobs if job.name == "escalation.sweep"]
    job.run()
    assert sweeps(training) == [shanghai("2027-03-31T09:00:00")]
    assert api.get(f"/tasks/{task_id}", "village").json()["holder_code"] == "500101001"
    ahead = api.post("/escalations/sweep", "admin", json={"as_of": "2027-04-01T09:00:00+08:00"})
    assert ahead.status_code == 422

    ready = TestClient(create_app(container=training, run_embedded_bus=False)).get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["clock"] == {"mode": "test", "now": "2027-03-31T09:00:00+08:00"}


# -- working-calendar coverage ----------------------------------------------------------------------


@pytest.fixture
def december_2026() -> FixedClock:
    return FixedClock(shanghai("2026-12-01T09:00:00"))


@pytest.fixture
def late_2026(settings: Settings, registry: SubscriberRegistry, december_2026: FixedClock) -> Iterator[Container]:
    with seeded_world(settings, registry, december_2026, ACCOUNTS) as container:
        yield container


def test_an_uncovered_year_is_reported_until_the_office_enters_it(late_2026: Container, settings: Settings) -> None:
    client = TestClient(create_app(container=late_2026, run_embedded_bus=False))
    degraded = client.get("/readyz")
    # Degraded, not down: a load balancer keeps the server (docs/adr/0013).
    assert degraded.status_code == 200
    body = degraded.json()
    assert body["status"] == "degraded"
    assert body["uncovered_years"] == [2027]
    assert "2027 年" in body["reasons"][0]
    assert "节假日" in body["reasons"][0]
    assert body["checks"]["calendar"] == "degraded: 2027"
    assert late_2026.uncovered_calendar_years() == [2027]

    shown = CliRunner().invoke(cli, ["calendar", "show", "2027"], env=cli_env(settings))
    assert shown.exit_code == 0, shown.output
    assert "2027 年：未覆盖" in shown.output
    entered = CliRunner().invoke(
        cli,
        [
            "calendar",
            "set-year",
            "2027",
            "--holidays",
            f"2027-01-01,{SPRING_FESTIVAL_2027}",
            "--workdays",
            MAKE_UP_2027,
        ],
        env=cli_env(settings),
    )
    assert entered.exit_code == 0, entered.output
    late_2026.calendar.refresh()  # the running server reads it within [calendar] refresh_seconds
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert "reasons" not in ready
    assert late_2026.uncovered_calendar_years() == []
    shown = CliRunner().invoke(cli, ["calendar", "show", "2027"], env=cli_env(settings))
    assert "2027 年：已覆盖（来源：林长办录入）" in shown.output
    assert "2027-02-08" in shown.output
    assert "2027-02-20" in shown.output


def test_the_start_up_warns_about_an_uncovered_year(late_2026: Container, log_stream: io.StringIO) -> None:
    with TestClient(create_app(container=late_2026, run_embedded_bus=False)):
        pass
    (warning,) = logged(log_stream, "calendar.year_uncovered")
    assert warning["year"] == 2027
    assert warning["level"] == "warning"


def test_spring_festival_2027_counts_provisionally_until_entered(
    training: Container, training_api: Api, settings: Settings
) -> None:
    api = training_api
    # A Friday (on a training instance's test clock: signed tokens keep the wall clock's time).
    assert api.post("/clock", "admin", json={"now": "2027-02-05T09:00:00+08:00"}).status_code == 200
    before = api.post(
        "/tasks",
        "gaosuntang",
        json={"title": "春节期间防火巡查", "kind": "order", "jurisdiction_code": "500101001", "due_in_workdays": 1},
    )
    assert before.status_code == 201, before.text
    # Guessed: Monday 8 February counts as a working day - and the deadline says it may move.
    assert before.json()["due_date"] == "2027-02-08"
    assert before.json()["provisional"] is True
    drain(training)
    (item,) = api.get("/inbox", "gaosuntang").json()["items"]
    assert item["provisional"] is True

    entered = CliRunner().invoke(
        cli,
        ["calendar", "set-year", "2027", "--holidays", SPRING_FESTIVAL_2027, "--workdays", MAKE_UP_2027],
        env=cli_env(settings),
    )
    assert entered.exit_code == 0, entered.output
    training.calendar.refresh()
    assert not training.calendar.is_workday(shanghai("2027-02-08T09:00:00").date())
    after = api.post(
        "/tasks",
        "gaosuntang",
        json={"title": "节后复工检查", "kind": "order", "jurisdiction_code": "500101001", "due_in_workdays": 1},
    )
    assert after.json()["due_date"] == "2027-02-15"
    assert after.json()["provisional"] is False
    assert api.get(f"/tasks/{before.json()['id']}", "gaosuntang").json()["provisional"] is False
    drain(training)
    items = api.get("/inbox", "gaosuntang").json()["items"]
    assert [i["provisional"] for i in items] == [False, False]


def test_a_deadline_within_covered_years_is_not_provisional(late_2026: Container) -> None:
    with api_client(late_2026) as api:
        inside = api.post(
            "/tasks",
            "gaosuntang",
            json={"title": "年底检查", "kind": "order", "jurisdiction_code": "500101001", "due_date": "2026-12-20"},
        ).json()
        across = api.post(
            "/tasks",
            "gaosuntang",
            json={"title": "开春造林", "kind": "order", "jurisdiction_code": "500101001", "due_date": "2027-03-01"},
        ).json()
    assert (inside["provisional"], across["provisional"]) == (False, True)


def test_the_calendar_command_refuses_days_outside_the_year(settings: Settings) -> None:
    result = CliRunner().invoke(
        cli, ["calendar", "set-year", "2027", "--holidays", "2026-12-31"], env=cli_env(settings)
    )
    assert result.exit_code == 1
    assert "不在 2027 年内" in result.output
    bad = CliRunner().invoke(cli, ["calendar", "set-year", "2027", "--holidays", "soon"], env=cli_env(settings))
    assert bad.exit_code == 2
    from sqlalchemy import create_engine

    from linzhang.workdays import calendar_years_table

    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(calendar_years_table)).scalar_one() == 0
    finally:
        engine.dispose()


def test_set_year_reads_a_small_file(settings: Settings, tmp_path: Path, container: Container) -> None:
    path = tmp_path / "2027.toml"
    path.write_text("holidays = [2027-02-08, 2027-02-09]\nworkdays = [2027-02-20]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["calendar", "set-year", "2027", "--file", str(path)], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    container.calendar.refresh()
    assert container.calendar.covers(2027)
    assert container.calendar.is_workday(shanghai("2027-02-20T09:00:00").date())
    assert not container.calendar.is_workday(shanghai("2027-02-09T09:00:00").date())


# -- what the pages say about time ----------------------------------------------------------------


def signed_in_page(container: Container, username: str, path: str) -> str:
    """The page at ``path`` as ``username`` sees it after signing in through the sign-in form."""
    with TestClient(create_app(container=container, run_embedded_bus=False)) as client:
        form = client.get("/login")
        token = sign_in_form_token(form.text)
        signed = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token, "next": ""},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        page = client.get(path)
        assert page.status_code == 200, page.text
        return page.text


def test_every_page_of_a_training_instance_says_it_runs_on_a_test_clock(training: Container) -> None:
    with TestClient(create_app(container=training, run_embedded_bus=False)) as client:
        assert "测试时钟" in client.get("/login").text
    for username, path in (("village", "/inbox"), ("admin", "/board"), ("city-office", "/coverage")):
        assert "测试时钟" in signed_in_page(training, username, path), (username, path)


def test_a_real_instance_shows_no_test_clock_banner(world: Container) -> None:
    with TestClient(create_app(container=world, run_embedded_bus=False)) as client:
        assert "测试时钟" not in client.get("/login").text
    assert "测试时钟" not in signed_in_page(world, "village", "/inbox")


def test_the_city_office_is_told_on_its_pages_that_a_year_has_no_calendar(
    late_2026: Container, settings: Settings
) -> None:
    board = signed_in_page(late_2026, "city-office", "/board")
    assert "2027年的法定节假日和调休安排尚未录入" in board
    # A village chief cannot enter the calendar: the banner is the city office's.
    assert "尚未录入" not in signed_in_page(late_2026, "village", "/inbox")
    entered = CliRunner().invoke(
        cli, ["calendar", "set-year", "2027", "--holidays", SPRING_FESTIVAL_2027], env=cli_env(settings)
    )
    assert entered.exit_code == 0, entered.output
    late_2026.calendar.refresh()
    assert "尚未录入" not in signed_in_page(late_2026, "city-office", "/board")
