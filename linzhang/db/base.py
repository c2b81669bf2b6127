"""The declarative base shared by every domain's tables, with a constraint naming convention."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, MetaData, String
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Jurisdiction paths ("/50/500101/") are compared as ranges; byte order ("C" collation) makes that exact
# whatever the PostgreSQL database's locale (SQLite compares bytes already).
PathString = String(400).with_variant(String(400, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = metadata


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored as UTC; SQLite hands naive values back, this re-attaches UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant: datetime = value
        if instant.tzinfo is None:
            return instant.replace(tzinfo=UTC)
        return instant.astimezone(UTC)


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact decimal with four places, stored as a 64-bit integer of ten-thousandths.

    Exact on SQLite as on PostgreSQL (SQLite has no decimal type), and SUM stays exact in SQL.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 4

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.SCALE)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        result = Decimal(int(value)).scaleb(-self.SCALE)
        return result.quantize(Decimal(1)) if result == result.to_integral_value() else result.normalize()
