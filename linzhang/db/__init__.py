"""Database plumbing: the declarative base, the engine and session factory, migrations."""

from typing import Any, cast

from sqlalchemy import CursorResult, Result

from linzhang.db.base import Base, UTCDateTime, metadata
from linzhang.db.engine import create_db_engine, create_session_factory

__all__ = ["Base", "UTCDateTime", "create_db_engine", "create_session_factory", "metadata", "rowcount"]


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched."""
    return cast(CursorResult[Any], result).rowcount or 0
