"""The operations guide's backup and restore procedure for PostgreSQL, tried once per test run."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from linzhang.bootstrap import bootstrap
from linzhang.container import Container
from linzhang.db.migrate import upgrade
from linzhang.identity import Role
from linzhang.settings import Settings
from tests.support.world import add_user, api_client, seed_tree

pytestmark = pytest.mark.postgresql


def libpq_url(url: str, database: str | None = None) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def test_a_dump_restored_into_a_new_database_serves_the_same_task(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    seed_tree(container)
    add_user(container, "admin", Role.ADMIN, None)
    with api_client(container) as api:
        created = api.post(
            "/tasks",
            "admin",
            json={
                "title": "备份演练：松材线虫病普查",
                "kind": "order",
                "jurisdiction_code": "500101",
                "due_in_workdays": 5,
            },
        )
        assert created.status_code == 201, created.text
        task = created.json()
    dump = tmp_path / "linzhang.dump"
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    assert pg_dump, "the PostgreSQL client tools are installed beside the server"
    assert pg_restore, "the PostgreSQL client tools are installed beside the server"
    subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={dump}", libpq_url(settings.database_url)],
        check=True,
        timeout=120,
    )
    restored_name = f"linzhang_restored_{uuid.uuid4().hex[:12]}"
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{restored_name}" TEMPLATE template0'))
    restored_url = make_url(settings.database_url).set(database=restored_name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            [
                pg_restore,
                "--no-owner",
                "--exit-on-error",
                f"--dbname={libpq_url(settings.database_url, restored_name)}",
                str(dump),
            ],
            check=True,
            timeout=120,
        )
        restored_settings = msgspec.structs.replace(
            settings, database=msgspec.structs.replace(settings.database, url=restored_url)
        )
        restored = bootstrap(restored_settings)
        try:
            upgrade(restored.engine)  # the guide's `linzhang db upgrade`: nothing to do for the same release
            with api_client(restored) as api:
                read = api.get(f"/tasks/{task['id']}", "admin")
                assert read.status_code == 200, read.text
                assert read.json()["title"] == "备份演练：松材线虫病普查"
                assert read.json() == api.get(f"/tasks/{task['id']}", "admin").json()
                assert read.json()["jurisdiction_code"] == task["jurisdiction_code"]
        finally:
            restored.close()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)'))
        admin.dispose()
