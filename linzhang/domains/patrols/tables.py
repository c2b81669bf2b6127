"""Tables of the patrols domain: rangers and supervisors, patrols, their points, patrol areas."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, PathString, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Ranger(Base):
    """A 护林员 or 监管员 attached to a village or township; replaced like a chief (the row stays)."""

    __tablename__ = "patrols_rangers"
    __table_args__ = (
        CheckConstraint("post IN ('ranger', 'supervisor')", name="post"),
        Index("ix_patrols_rangers_path", "jurisdiction_path", "id"),
        Index("ix_patrols_rangers_user", "user_id"),
        Index("ix_patrols_rangers_phone", "phone", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    post: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    predecessor_id: Mapped[int | None] = mapped_column(Integer)
    successor_id: Mapped[int | None] = mapped_column(Integer)
    # The account (identity) the person signs in with, if any.
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Patrol(Base):
    """One patrol: whose, where, when, its measure and its verdict. A recorded track is never edited."""

    __tablename__ = "patrols_patrols"
    __table_args__ = (
        CheckConstraint("person_kind IN ('ranger', 'chief')", name="person_kind"),
        CheckConstraint("status IN ('open', 'judged')", name="status"),
        Index("ix_patrols_patrols_path_day", "jurisdiction_path", "day", "id"),
        Index("ix_patrols_patrols_person", "person_kind", "person_id", "day"),
        Index("ix_patrols_patrols_fingerprint", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_kind: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int] = mapped_column(Integer)
    person_name: Mapped[str] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    source: Mapped[str] = mapped_column(String(10))  # live | gpx | geojson
    status: Mapped[str] = mapped_column(String(10))  # open (points arriving) | judged
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The day it counts for (its start, China Standard Time).
    day: Mapped[dt.date] = mapped_column(Date)
    point_count: Mapped[int] = mapped_column(Integer, default=0)
    distance_m: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    max_speed_kmh: Mapped[float | None] = mapped_column(Float)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    valid: Mapped[bool | None] = mapped_column(Boolean)
    # The verdict's reasons as JSON: [{"code": ..., "detail": ...}].
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    judged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TrackPointRow(Base):
    """A point of a patrol's track, in the order it arrived (``seq``); the verdict reads them by time."""

    __tablename__ = "patrols_points"

    patrol_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accuracy: Mapped[float | None] = mapped_column(Float)


class PointBatch(Base):
    """A batch of a live patrol's points, by the idempotency key the phone sent: stored once."""

    __tablename__ = "patrols_point_batches"

    patrol_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    batch_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    point_count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PatrolArea(Base):
    """A village's patrol area, as GeoJSON geometry (imported with ``linzhang import areas``)."""

    __tablename__ = "patrols_areas"

    jurisdiction_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    geometry: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


rangers_table = cast(Table, Ranger.__table__)
patrols_table = cast(Table, Patrol.__table__)
points_table = cast(Table, TrackPointRow.__table__)
batches_table = cast(Table, PointBatch.__table__)
areas_table = cast(Table, PatrolArea.__table__)


class FieldReport(Base):
    """A problem found in the field (on a patrol or on its own), sent to the tasks intake as an issue."""

    __tablename__ = "patrols_field_reports"
    __table_args__ = (
        CheckConstraint("status IN ('sent', 'issue', 'refused')", name="status"),
        Index("ix_patrols_field_reports_reporter", "reporter_kind", "reporter_id", "id"),
        Index("ix_patrols_field_reports_path", "reporter_path", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reporter_kind: Mapped[str] = mapped_column(String(10))  # ranger | chief
    reporter_id: Mapped[int] = mapped_column(Integer)
    reporter_name: Mapped[str] = mapped_column(String(50))
    # Where the reporter sits (who may read the report) and where the issue went (the point's village).
    reporter_path: Mapped[str] = mapped_column(PathString)
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    routed_by_area: Mapped[bool] = mapped_column(Boolean)
    patrol_id: Mapped[int | None] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    photo_hashes: Mapped[str] = mapped_column(Text, default="")  # space-separated SHA-256
    status: Mapped[str] = mapped_column(String(10))  # sent | issue | refused
    task_id: Mapped[int | None] = mapped_column(BigInteger)
    refusal: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class MonthCheck(Base):
    """A month whose compliance the month-end job has checked (and reported who fell short)."""

    __tablename__ = "patrols_month_checks"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    shortfalls: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChiefPost(Base):
    """The chiefs as patrols knows them, from the chiefs' events (ChiefAppointed, ChiefTermEnded), in
    any order: a village or township chief owes patrol days from their term's start until its end."""

    __tablename__ = "patrols_chiefs"
    __table_args__ = (Index("ix_patrols_chiefs_path", "jurisdiction_path"),)

    chief_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(32))
    jurisdiction_path: Mapped[str] = mapped_column(PathString)
    # Unknown until the appointment arrives (a term's end delivered first).
    name: Mapped[str | None] = mapped_column(String(50))
    # village_chief | township_chief; None for a chief above the township (no patrol requirement).
    post: Mapped[str | None] = mapped_column(String(20))
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)


field_reports_table = cast(Table, FieldReport.__table__)
month_checks_table = cast(Table, MonthCheck.__table__)
