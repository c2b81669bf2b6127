"""The event feed after retention: how far back it reaches, and a 410 for a consumer left behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.cli import cli
from linzhang.container import Container
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.bus import drain
from tests.support.world import Api, add_user, api_client, seed_tree


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    add_user(container, "city-system", Role.INTEGRATION, "50")
    drain(container)
    with api_client(container) as api:
        yield api


def positions(container: Container) -> list[int]:
    with container.engine.connect() as connection:
        return list(connection.execute(select(e.c.position).order_by(e.c.position)).scalars())


def age_events(container: Container, through: int, days: int) -> None:
    with container.engine.begin() as connection:
        connection.execute(
            update(e).where(e.c.position <= through).values(occurred_at=datetime.now(UTC) - timedelta(days=days))
        )


def env(settings: Settings) -> dict[str, str]:
    return {
        "LINZHANG_DATABASE_URL": settings.database_url,
        "LINZHANG_PATHS_VAR_DIR": str(settings.var_path),
        "LINZHANG_REDIS_URL": settings.redis.url,
        "LINZHANG_LOGGING_JSON": "false",
    }


def test_the_feed_tells_how_far_back_it_reaches_and_refuses_a_purged_position(
    api: Api, container: Container, settings: Settings
) -> None:
    held = positions(container)
    first = api.get("/events", "city-system", params={"limit": 100}).json()
    assert (first["oldest"], first["purged_through"]) == (held[0], 0)
    cut = held[3]
    age_events(container, cut, days=400)

    purged = CliRunner().invoke(cli, ["bus", "purge", "--events-days", "365"], env=env(settings))

    assert purged.exit_code == 0, purged.output
    assert f"事件流现从位置 {cut} 之后开始" in purged.output
    assert positions(container) == [p for p in held if p > cut]
    with container.engine.connect() as connection:
        assert connection.execute(select(d.c.id).where(d.c.event_position <= cut)).first() is None

    fresh = api.get("/events", "city-system", params={"limit": 100}).json()
    assert (fresh["oldest"], fresh["purged_through"]) == (held[4], cut)
    assert [item["id"] for item in fresh["items"]] == [p for p in held if p > cut]
    left_behind = api.get("/events", "city-system", params={"after": held[1]})
    assert left_behind.status_code == 410
    problem = left_behind.json()
    assert problem["code"] == "feed_position_purged"
    assert (problem["oldest"], problem["purged_through"]) == (held[4], cut)
    assert "清除" in problem["detail"]
    resumed = api.get("/events", "city-system", params={"after": cut, "limit": 100})
    assert resumed.status_code == 200
    assert [item["id"] for item in resumed.json()["items"]] == [p for p in held if p > cut]


def test_bus_purge_with_nothing_old_changes_nothing(api: Api, container: Container, settings: Settings) -> None:
    held = positions(container)
    result = CliRunner().invoke(cli, ["bus", "purge"], env=env(settings))
    assert result.exit_code == 0, result.output
    assert "已清除 0 个事件和 0 条已完成投递" in result.output
    assert positions(container) == held
