"""Migrations build exactly the tables the code declares, and go down and up again cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from linzhang.bootstrap import import_table_modules
from linzhang.db import metadata
from linzhang.db.migrate import downgrade, upgrade
from tests.conftest import ON_POSTGRES, PG_URL


def test_migrated_schema_matches_the_declared_tables(migrated_engine: Engine) -> None:
    import_table_modules()
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                # Tables the tests create for themselves (effects of sample subscribers) are not the app's.
                "include_name": lambda name, kind, _parent: not (kind == "table" and name.startswith("test_")),
            },
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


@pytest.fixture
def scratch_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if not ON_POSTGRES:
        engine = create_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield engine
        engine.dispose()
        return
    name = f"linzhang_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(PG_URL).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_downgrade_to_base_and_upgrade_again(scratch_engine: Engine) -> None:
    import_table_modules()
    upgrade(scratch_engine)
    tables = set(inspect(scratch_engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= tables

    downgrade(scratch_engine, "base")
    assert set(inspect(scratch_engine).get_table_names()) <= {"alembic_version"}

    upgrade(scratch_engine)
    assert set(inspect(scratch_engine).get_table_names()) == tables


def test_upgrade_twice_is_harmless(scratch_engine: Engine) -> None:
    upgrade(scratch_engine)
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
