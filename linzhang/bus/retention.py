"""Retention: done deliveries and old events are purged; the event feed knows how far back it reaches.

Events older than ``retention.events_days`` go, oldest first, but never past an event one of whose
deliveries is not done (pending, sent or dead): what is still owed stays. The purge removes a prefix
of positions and records its end as the feed's horizon (``bus_feed_horizon``): the feed answers events
after the horizon, and a consumer asking after a position inside the purged prefix is told so (410)
instead of silently skipping what it missed. The newest event is always kept, so positions never
restart inside the purged prefix. Done deliveries of kept events go after
``retention.done_deliveries_days``; a message for a purged delivery is skipped like any repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.bus.tables import horizon_table as h
from linzhang.clock import Clock
from linzhang.db import rowcount
from linzhang.settings import RetentionSettings


@dataclass(frozen=True, slots=True)
class PurgeReport:
    events: int
    deliveries: int
    # Events at or before this position are gone (0: none ever purged).
    horizon: int


@dataclass(frozen=True, slots=True)
class FeedReach:
    """How far back the feed reaches: the purged prefix and the oldest event still kept."""

    purged_through: int
    oldest: int | None


def feed_reach(session: Session) -> FeedReach:
    purged = session.execute(select(h.c.purged_through).where(h.c.id == 1)).scalar_one_or_none()
    oldest = session.execute(select(func.min(e.c.position))).scalar_one_or_none()
    return FeedReach(purged or 0, oldest)


def purge(session_factory: sessionmaker[Session], clock: Clock, settings: RetentionSettings) -> PurgeReport:
    """Purge what the retention settings no longer keep, in batches of ``settings.batch_size``."""
    now = clock.now()
    events = deliveries = 0
    horizon = _purgeable_through(session_factory, now - timedelta(days=settings.events_days))
    while horizon is not None:
        with session_factory() as session, session.begin():
            upper = session.execute(
                select(e.c.position)
                .where(e.c.position <= horizon)
                .order_by(e.c.position)
                .offset(settings.batch_size - 1)
                .limit(1)
            ).scalar_one_or_none()
            upper = horizon if upper is None else upper
            deliveries += rowcount(session.execute(delete(d).where(d.c.event_position <= upper)))
            removed = rowcount(session.execute(delete(e).where(e.c.position <= upper)))
            events += removed
            _advance_horizon(session, upper, now)
        if upper >= horizon:
            break
    done_before = now - timedelta(days=settings.done_deliveries_days)
    while True:
        with session_factory() as session, session.begin():
            batch = (
                select(d.c.id)
                .where(d.c.status == DeliveryStatus.DONE.value, d.c.done_at < done_before)
                .limit(settings.batch_size)
                .scalar_subquery()
            )
            removed = rowcount(session.execute(delete(d).where(d.c.id.in_(batch))))
        deliveries += removed
        if removed < settings.batch_size:
            break
    with session_factory() as session:
        reach = feed_reach(session)
    return PurgeReport(events, deliveries, reach.purged_through)


def _purgeable_through(session_factory: sessionmaker[Session], before: datetime) -> int | None:
    """The last position that may go: the newest event older than ``before``, short of anything owed."""
    with session_factory() as session:
        newest_old = session.execute(
            select(func.max(e.c.position)).where(e.c.occurred_at < before)
        ).scalar_one_or_none()
        if newest_old is None:
            return None
        owed = session.execute(
            select(func.min(d.c.event_position)).where(d.c.status != DeliveryStatus.DONE.value)
        ).scalar_one_or_none()
        newest = session.execute(select(func.max(e.c.position))).scalar_one()
    # The newest event always stays: SQLite numbers a new row after the largest one left, and an empty
    # table would start again at 1, inside the purged prefix.
    through = min(newest_old, newest - 1)
    if owed is not None:
        through = min(through, owed - 1)
    return through if through > 0 else None


def _advance_horizon(session: Session, through: int, now: datetime) -> None:
    """Move the horizon forward to ``through`` (never back: two schedulers may purge at once)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(h).values(id=1, purged_through=through, purged_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[h.c.id],
        set_={"purged_through": func.greatest(h.c.purged_through, through), "purged_at": now}
        if dialect == "postgresql"
        else {"purged_through": func.max(h.c.purged_through, through), "purged_at": now},
    )
    session.execute(statement)
