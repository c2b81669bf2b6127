"""Engine and session factory for the configured database (SQLite embedded, or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from linzhang.settings import Settings

# Execution option of a connection that only reads: on SQLite it begins without taking the write lock.
READ_ONLY_OPTION = "linzhang_read_only"


def create_db_engine(settings: Settings) -> Engine:
    """An engine for ``settings.database_url``; SQLite gets WAL, foreign keys and a busy timeout."""
    url = make_url(settings.database_url)
    # hide_parameters: a database error's message (and so the log) never carries the bound values,
    # which may be passwords' hashes, veto reasons or anything else a person typed.
    kwargs: dict[str, Any] = {"echo": settings.database.echo, "future": True, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": settings.database.sqlite_busy_timeout_seconds,
        }
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    kwargs.update(
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        pool_pre_ping=True,
    )
    engine = create_engine(url, **kwargs)
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    # Array parameters (the outbox sends one array per column) go in binary: in text form every quote
    # of every JSON payload is escaped in Python, which dominates publishing many events at once.
    from psycopg.types.array import ListBinaryDumper

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; we issue BEGIN IMMEDIATE ourselves so that
    # a writer takes the lock up front instead of failing on upgrade (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read that may run while the same thread holds a write transaction (the test clock, the
        # calendar's entries) asks for a deferred BEGIN: under WAL it never waits for a writer.
        deferred = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def create_session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit; ``info`` carries the bus routing."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info or {})
