"""Retention: done deliveries and old events are purged; the event feed knows how far back it reaches.

Events older than ``retention.events_days`` go, oldest first, but never past an event one of whose
deliveries is not done (pending, sent or dead) - what is still owed stays - nor past an event that
is not old enough yet. The purge removes a prefix
of positions and records its end as the feed's horizon (``bus_feed_horizon``): the feed answers events
after the horizon, and a consumer asking after a position inside the purged prefix is told so (410)
instead of silently skipping what it missed. The newest event is always kept, so positions never
restart inside the purged prefix. Done deliveries of kept events go after
``retention.done_deliveries_days``; a message for a purged delivery is skipped like any repeat.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.bus.tables import horizon_table as h
from linzhang.clock import Clock
from linzhang.db import dialect_insert, rowcount
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
    before = now - timedelta(days=settings.events_days)
    limit = _purgeable_limit(session_factory)
    while limit is not None:
        with session_factory() as session, session.begin():
            rows = session.execute(
                select(e.c.position, e.c.occurred_at)
                .where(e.c.position < limit)
                .order_by(e.c.position)
                .limit(settings.batch_size)
            ).all()
            # The prefix ends before the first event that is not old enough (clocks of several servers
            # may write positions slightly out of time order).
            old = list(itertools.takewhile(lambda row: row.occurred_at < before, rows))
            if old:
                upper = old[-1].position
                deliveries += rowcount(session.execute(delete(d).where(d.c.event_position <= upper)))
                events += rowcount(session.execute(delete(e).where(e.c.position <= upper)))
                _advance_horizon(session, upper, now)
        if len(old) < settings.batch_size:
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


def _purgeable_limit(session_factory: sessionmaker[Session]) -> int | None:
    """The first position that must stay whatever its age: the first event still owed to a subscriber
    (pending, sent or dead), or else the newest event. None when there are no events."""
    with session_factory() as session:
        newest = session.execute(select(func.max(e.c.position))).scalar_one_or_none()
        owed = session.execute(
            select(func.min(d.c.event_position)).where(d.c.status != DeliveryStatus.DONE.value)
        ).scalar_one_or_none()
    if newest is None:
        return None
    # The newest event always stays: SQLite numbers a new row after the largest one left, and an empty
    # table would start again at 1, inside the purged prefix.
    return int(newest if owed is None else min(newest, owed))


def _advance_horizon(session: Session, through: int, now: datetime) -> None:
    """Move the horizon forward to ``through`` (never back: two schedulers may purge at once)."""
    dialect = session.get_bind().dialect.name
    statement = dialect_insert(session, h).values(id=1, purged_through=through, purged_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[h.c.id],
        set_={"purged_through": func.greatest(h.c.purged_through, through), "purged_at": now}
        if dialect == "postgresql"
        else {"purged_through": func.max(h.c.purged_through, through), "purged_at": now},
    )
    session.execute(statement)
