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


def test_old_free_text_categories_become_vocabulary_codes(scratch_engine: Engine) -> None:
    """0003_task_rules maps the categories rows carry to the vocabulary; unknown ones become 'other'."""
    upgrade(scratch_engine, "0002")
    old = ["law_enforcement", "planning", "duties", "病虫害", "森林防火", "pest_control", "whatever", None]
    with scratch_engine.begin() as connection:
        for number, category in enumerate(old, start=1):
            connection.execute(
                text(
                    "INSERT INTO tasks_tasks (id, kind, status, title, category, revision, jurisdiction_code,"
                    " jurisdiction_path, city_code, holder_code, holder_path, holder_level, due_date,"
                    " next_escalation_on, completed_quantity, children_count, created_by, created_at, updated_at)"
                    " VALUES (:id, 'issue', 'open', 't', :category, 1, '50', '/50/', '50', '50', '/50/', 'city',"
                    " '2021-03-01', '2021-03-01', 0, 0, 'x', '2021-03-01 00:00:00', '2021-03-01 00:00:00')"
                ),
                {"id": number, "category": category},
            )
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        mapped = connection.execute(text("SELECT category FROM tasks_tasks ORDER BY id")).scalars().all()
    assert mapped == [
        "illegal_logging",
        "forest_chief_system",
        "forest_chief_system",
        "pest_control",
        "fire_prevention",
        "pest_control",
        "other",
        None,
    ]
