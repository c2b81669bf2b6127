"""Test fixtures for both backends.

``LINZHANG_TEST_BACKEND=sqlite`` (default): a SQLite file per session and the in-process broker.
``LINZHANG_TEST_BACKEND=postgresql``: a database of its own on ``LINZHANG_TEST_PG_URL``'s server,
created for the session and dropped after it, and the real Redis at ``LINZHANG_TEST_REDIS_URL``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from linzhang.bootstrap import Container, bootstrap, import_table_modules
from linzhang.bus import SubscriberRegistry
from linzhang.db import metadata
from linzhang.db.migrate import upgrade
from linzhang.log import configure_logging
from linzhang.settings import LoggingSettings, Settings, load_settings

BACKEND = os.environ.get("LINZHANG_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("LINZHANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LINZHANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ON_POSTGRES = BACKEND == "postgresql"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Redis tests belong to the PostgreSQL + Redis pass; the SQLite pass deselects them (not skips).
    # PostgreSQL-only tests likewise; packaging tests do not depend on the backend: they run once, in
    # the SQLite pass.
    elsewhere = ("packaging",) if ON_POSTGRES else ("redis", "postgresql")
    kept, dropped = [], []
    for item in items:
        (dropped if any(item.get_closest_marker(marker) for marker in elsewhere) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def _logging() -> None:
    configure_logging(LoggingSettings(level="INFO", json=True))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'linzhang-test.db'}"
        return
    name = f"linzhang_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    settings = make_settings(database_url, Path("/nonexistent"))
    from linzhang.db import create_db_engine

    engine = create_db_engine(settings)
    upgrade(engine)
    yield engine
    engine.dispose()


def make_settings(database_url: str, var_dir: Path, **overrides: dict[str, Any]) -> Settings:
    """Settings for tests: the test database, a throw-away var dir, Redis on the PostgreSQL pass."""
    sections: dict[str, dict[str, Any]] = {
        "paths": {"var_dir": str(var_dir)},
        "database": {"url": database_url},
        "redis": {"url": REDIS_URL if ON_POSTGRES else ""},
        "logging": {"json": True, "level": "INFO"},
        "bus": {"queue_name": f"linzhang-test-{uuid.uuid4().hex[:8]}"},
        # Cheap hashes: the tests create many accounts; production keeps the strong defaults.
        "security": {"password_time_cost": 1, "password_memory_kib": 8},
    }
    for section, values in overrides.items():
        sections.setdefault(section, {}).update(values)
    return load_settings(environ={}, overrides=sections)


def clean_database(engine: Engine) -> None:
    """Empty every table the metadata knows (tests share one migrated database)."""
    import_table_modules()
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


def forget_login_failures() -> None:
    """Login failures counted in Redis outlive a test; the database's go with clean_database."""
    if ON_POSTGRES:
        import redis

        from linzhang.identity.throttle import RedisFailureCounters
        from linzhang.settings import LoginSettings

        client = redis.Redis.from_url(REDIS_URL)
        try:
            RedisFailureCounters(client, LoginSettings()).forget_everything()
        finally:
            client.close()


@pytest.fixture
def settings(migrated_engine: Engine, database_url: str, tmp_path: Path) -> Settings:
    clean_database(migrated_engine)
    forget_login_failures()
    return make_settings(database_url, tmp_path / "var")


@pytest.fixture
def registry() -> SubscriberRegistry:
    return SubscriberRegistry()


@pytest.fixture
def container(settings: Settings, registry: SubscriberRegistry) -> Iterator[Container]:
    container = bootstrap(settings, registry=registry)
    try:
        yield container
    finally:
        if ON_POSTGRES:
            container.bus.broker.flush_all()
        container.close()
