"""Database plumbing: the declarative base, the engine and session factory, migrations."""

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Result, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from linzhang.db.base import Base, UTCDateTime, metadata
from linzhang.db.engine import create_db_engine, create_session_factory

__all__ = [
    "Base",
    "UTCDateTime",
    "create_db_engine",
    "create_session_factory",
    "dialect_insert",
    "insert_or_ignore",
    "metadata",
    "rowcount",
]

DialectInsert = postgresql.Insert | sqlite.Insert


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched."""
    return cast(CursorResult[Any], result).rowcount or 0


def dialect_insert(bind: Session | Connection, table: Table) -> DialectInsert:
    """An INSERT into ``table`` in the dialect of ``bind``, which can say ON CONFLICT (PostgreSQL, SQLite)."""
    name = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


def insert_or_ignore(
    bind: Session | Connection, table: Table, index_elements: Sequence[str] | None = None
) -> DialectInsert:
    """An INSERT into ``table`` that leaves a row alone where one with the same key exists already.

    ``index_elements``: the unique key that decides (default: any unique constraint).
    """
    return dialect_insert(bind, table).on_conflict_do_nothing(index_elements=index_elements)
