"""The bus's own tables: the outbox of events and the delivery ledger (one row per event and subscriber)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linzhang.db.base import Base, UTCDateTime

# BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    """An event, written in the same transaction as the change it describes."""

    __tablename__ = "bus_events"

    position: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    # Indexed for the retention job, which finds the newest event older than the kept age.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)


class Delivery(Base):
    """One event for one subscriber; the consumer marks it done in the transaction that does its work."""

    __tablename__ = "bus_deliveries"
    __table_args__ = (
        UniqueConstraint("event_position", "subscriber"),
        CheckConstraint("status IN ('pending', 'sent', 'done', 'dead')", name="status"),
        # The relay's claim (a subscriber at a time), a worker's batch claim (its subscriber's sent
        # deliveries) and the redelivery scan each read one status; partial indexes keep them small
        # however many done deliveries pile up.
        Index(
            "ix_bus_deliveries_pending",
            "subscriber",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_bus_deliveries_sent",
            "sent_at",
            postgresql_where=text("status = 'sent'"),
            sqlite_where=text("status = 'sent'"),
        ),
        Index(
            "ix_bus_deliveries_sent_by_subscriber",
            "subscriber",
            "id",
            postgresql_where=text("status = 'sent'"),
            sqlite_where=text("status = 'sent'"),
        ),
        Index(
            "ix_bus_deliveries_dead",
            "id",
            postgresql_where=text("status = 'dead'"),
            sqlite_where=text("status = 'dead'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_position: Mapped[int] = mapped_column(ForeignKey("bus_events.position", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36))
    subscriber: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Failures: the subscriber raised. Reaching the policy's maximum makes the delivery dead.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How often the relay handed it to the broker (first send and every resend).
    sends: Mapped[int] = mapped_column(Integer, default=0)
    # Earliest time the relay may send it (a retry's back-off); NULL: at once.
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


events_table = cast(Table, OutboxEvent.__table__)
deliveries_table = cast(Table, Delivery.__table__)


class FeedHorizon(Base):
    """How far back the event feed reaches: events at or before ``purged_through`` were purged (one row)."""

    __tablename__ = "bus_feed_horizon"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purged_through: Mapped[int] = mapped_column(BigInteger)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """The periodic jobs' record (one row per job, shared by every scheduler): what metrics report."""

    __tablename__ = "bus_job_runs"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the runs handled in all (tasks escalated, rows purged), as each job reports it.
    items: Mapped[int] = mapped_column(BigInteger, default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_seconds: Mapped[float | None] = mapped_column(Float)


horizon_table = cast(Table, FeedHorizon.__table__)
job_runs_table = cast(Table, JobRun.__table__)
