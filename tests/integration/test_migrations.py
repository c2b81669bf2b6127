"""Migrations build exactly the tables the code declares, and go down and up again cleanly."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

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


def _insert_account(connection: Any, username: str, role: str, code: str | None, chief_id: int | None = None) -> None:
    connection.execute(
        text(
            "INSERT INTO identity_users (username, password_hash, role, jurisdiction_code, jurisdiction_path,"
            " chief_id, grants, active, token_version, created_at)"
            " VALUES (:username, 'x', :role, :code, '/50/', :chief_id, '', true, 0, :now)"
        ),
        {"username": username, "role": role, "code": code, "chief_id": chief_id, "now": datetime.now(UTC)},
    )


def test_account_lifecycle_migration_names_accounts_and_folds_usernames(scratch_engine: Engine) -> None:
    upgrade(scratch_engine, "0002")
    with scratch_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO jurisdictions_units (code, name, level, parent_code, path, active_chiefs, created_at,"
                " updated_at) VALUES ('50', '重庆市', 'city', NULL, '/50/', 0, :now, :now)"
            ),
            {"now": datetime.now(UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO chiefs_chiefs (id, name, post, role, jurisdiction_code, jurisdiction_path, term_start,"
                " active, created_at) VALUES (7, '王林长', '市长', 'general', '50', '/50/', '2021-01-01', true, :now)"
            ),
            {"now": datetime.now(UTC)},
        )
        _insert_account(connection, "City-Office", "office", "50")
        _insert_account(connection, "wang", "chief", "50", chief_id=7)
        connection.execute(
            text(
                "INSERT INTO tasks_sweeps (id, as_of, started_at, actor, escalated)"
                " VALUES ('s1', :now, :now, 'City-Office', 0), ('s2', :now, :now, 'sweep', 0)"
            ),
            {"now": datetime.now(UTC)},
        )
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT username, display_name FROM identity_users")).all())
        folded = set(connection.execute(text("SELECT username_folded FROM identity_users")).scalars())
        actors = dict(connection.execute(text("SELECT id, actor FROM tasks_sweeps")).all())
    assert rows == {"City-Office": "重庆市林长办", "wang": "王林长"}
    assert folded == {"city-office", "wang"}
    # What an account did before is shown by its name from now on.
    assert actors == {"s1": "重庆市林长办", "s2": "sweep"}


def test_account_lifecycle_migration_stops_on_usernames_differing_only_in_case(scratch_engine: Engine) -> None:
    upgrade(scratch_engine, "0002")
    with scratch_engine.begin() as connection:
        _insert_account(connection, "Admin", "admin", None)
        _insert_account(connection, "admin", "admin", None)
    with pytest.raises(RuntimeError, match="Admin, admin"):
        upgrade(scratch_engine)


def test_the_assessment_history_is_filled_from_the_events_the_bus_holds(scratch_engine: Engine) -> None:
    """0004: figures with their days from bus_events, runs numbered as versions (the newest a draft)."""
    upgrade(scratch_engine, "0002")
    snapshot = {
        "task_id": 7,
        "revision": 1,
        "kind": "target",
        "title": "营造林",
        "category": None,
        "status": "open",
        "jurisdiction_code": "500101",
        "path": "/50/500101/",
        "holder_code": "500101",
        "holder_path": "/50/500101/",
        "holder_level": "district",
        "due_date": "2021-06-30",
        "escalation_due_date": None,
        "parent_id": None,
    }
    events = [
        ("TaskCreated", "2021-03-01T02:00:00Z", {"target_quantity": "100", "unit": "亩"}, 1),
        ("TaskProgressReported", "2021-05-01T17:00:00Z", {"completed_quantity": "40", "target_quantity": "100"}, 2),
        ("TaskProgressReported", "2026-01-05T02:00:00Z", {"completed_quantity": "90", "target_quantity": "100"}, 3),
    ]
    with scratch_engine.begin() as connection:
        for position, (kind, at, body, revision) in enumerate(events, start=1):
            payload = {"event_id": str(uuid.uuid4()), "occurred_at": at, "task": {**snapshot, "revision": revision}}
            connection.execute(
                text(
                    "INSERT INTO bus_events (position, event_id, event_type, version, occurred_at, payload) "
                    "VALUES (:p, :e, :t, 1, :at, :payload)"
                ),
                {
                    "p": position,
                    "e": payload["event_id"],
                    "t": kind,
                    "at": at,
                    "payload": json.dumps({**payload, **body}),
                },
            )
        connection.execute(
            text(
                "INSERT INTO assessments_tasks (task_id, revision, kind, path, city_code, district_code, due_date,"
                " target_quantity, completed_quantity, split, status) VALUES (7, 3, 'target', '/50/500101/', '50',"
                " '500101', '2021-06-30', 1000000, 900000, false, 'open'),"
                " (8, 2, 'target', '/50/500101/', '50', '500101', '2021-06-30', 500000, 250000, false, 'open')"
            )
        )
        for period in ("2021", "2021", "2021Q1"):
            connection.execute(
                text(
                    "INSERT INTO assessments_runs (period, as_of, computed_at, computed_by, rubric_digest, assessed)"
                    " VALUES (:period, '2021-12-31', '2022-01-10 01:00:00', 'office', 'x', 1)"
                ),
                {"period": period},
            )
    upgrade(scratch_engine)
    with scratch_engine.connect() as connection:
        figures = connection.execute(
            text(
                "SELECT task_id, revision, occurred_on, completed_quantity FROM assessments_figures"
                " ORDER BY task_id, revision"
            )
        ).all()
        runs = connection.execute(text("SELECT period, version, status FROM assessments_runs ORDER BY id")).all()
        created = connection.execute(
            text("SELECT title, unit, created_on FROM assessments_tasks WHERE task_id = 7")
        ).one()
    # Task 7's history from its events, with Asia/Shanghai days (17:00 UTC is the next day there);
    # task 8 has no events left: its latest figure, known at any date.
    assert [(t, r, str(day), int(q)) for t, r, day, q in figures] == [
        (7, 1, "2021-03-01", 0),
        (7, 2, "2021-05-02", 400000),
        (7, 3, "2026-01-05", 900000),
        (8, 2, "1970-01-01", 250000),
    ]
    assert [tuple(run) for run in runs] == [("2021", 1, "superseded"), ("2021", 2, "draft"), ("2021Q1", 1, "draft")]
    assert (created.title, created.unit, str(created.created_on)) == ("营造林", "亩", "2021-03-01")


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
