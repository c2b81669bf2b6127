"""A database error's message, and so the log, never carries the values bound to the statement."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from litestar import post
from litestar.datastructures import State
from litestar.testing import TestClient
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from linzhang.app import create_app
from linzhang.container import Container
from linzhang.identity.tables import users_table
from linzhang.log import configure_logging
from linzhang.settings import LoggingSettings

SECRET = "一票否决：某某林场负责人私下承认了伐桩数字造假"


def insert_breaking_a_constraint(container: Container) -> None:
    # username_folded and the password hash are required: this fails in the database with SECRET bound.
    with container.transaction() as session:
        session.execute(insert(users_table).values(username=SECRET[:10], display_name=SECRET[:60]))


@post("/probe/database-error", sync_to_thread=True, exclude_from_auth=True)
def database_error(state: State) -> None:
    insert_breaking_a_constraint(state.container)


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


def test_the_error_itself_hides_the_parameters(container: Container) -> None:
    with pytest.raises(DBAPIError) as caught:
        insert_breaking_a_constraint(container)
    assert "hidden" in str(caught.value)
    # SQLAlchemy no longer adds them; the database's own message is kept out of the log separately
    # (PostgreSQL quotes a failing row's values in it).
    assert "[parameters:" not in str(caught.value)


def test_the_logged_traceback_of_a_failed_request_hides_them(container: Container, log_stream: io.StringIO) -> None:
    app = create_app(container=container, run_embedded_bus=False, extra_routes=[database_error])
    with TestClient(app) as client:
        response = client.post("/api/v1/probe/database-error")
    assert response.status_code == 500
    assert SECRET[:10] not in response.text
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.startswith("{")]
    failures = [line for line in lines if line.get("event") == "request.failed"]
    assert failures, lines
    assert failures[0]["error"] == "IntegrityError"
    assert "INSERT INTO identity_users" in str(failures[0]["statement"])
    assert "insert_breaking_a_constraint" in str(failures[0]["stack"])
    assert SECRET[:10] not in log_stream.getvalue()
    assert SECRET[-10:] not in log_stream.getvalue()
