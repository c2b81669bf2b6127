"""GET /events: the integration feed of everything that happened, within the caller's jurisdiction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from linzhang.api.schemas import AfterId64, PageLimit, page_size
from linzhang.bus.feed import read_feed
from linzhang.bus.retention import feed_reach
from linzhang.container import Container
from linzhang.errors import Gone
from linzhang.identity import Action, Principal, authorize
from linzhang.identity.scope import subtree_of
from linzhang.paths import ROOT_PATH, is_within

# Events read per request at most while looking for the caller's: a narrow scope pages on.
SCAN_FACTOR = 10


class FeedItem(msgspec.Struct):
    id: int
    type: str
    version: int
    occurred_at: dt.datetime
    payload: dict[str, Any]


class FeedPage(msgspec.Struct):
    items: list[FeedItem]
    next: int
    # The oldest position the feed still holds (null: no events); older ones were purged by retention.
    oldest: int | None
    # Events at or before this position were purged (0: none); resuming after an earlier one is a 410.
    purged_through: int


class EventFeedController(Controller):
    path = "/events"
    tags = ["events"]

    @get("/", sync_to_thread=True)
    def feed(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        after: FromQuery[AfterId64] = 0,
        limit: FromQuery[PageLimit] = None,
    ) -> FeedPage:
        """Events after a position, oldest first, for integration accounts and administrators.

        Only events about the caller's subtree are listed. ``next`` is the position to ask after next
        time: it moves past every event read, the caller's or not; a page with no items and the same
        ``next`` means the caller is up to date (poll again later).

        Retention purges old events: ``oldest`` is the first position still held and ``purged_through``
        the last one purged. ``after=0`` starts at the oldest event held; resuming after a position
        that was purged (``0 < after < purged_through``) answers 410 (``feed_position_purged``), since
        events the caller never read are gone - start again from ``after=0`` (or ``purged_through``)."""
        authorize(principal, Action.READ_EVENTS, principal.path if not principal.is_admin else ROOT_PATH)
        size = page_size(container, limit)
        scope = subtree_of(principal)
        with container.reading() as session:
            reach = feed_reach(session)
            if 0 < after < reach.purged_through:
                raise Gone(
                    f"位置 {after} 之后的部分事件已按保留期限清除，最早保留的事件位置为 {reach.oldest}；"
                    f"请从 after=0 或 after={reach.purged_through} 重新读取",
                    code="feed_position_purged",
                    field="after",
                    oldest=reach.oldest,
                    purged_through=reach.purged_through,
                )
            events = read_feed(session, max(after, 0), size * SCAN_FACTOR)
        items: list[FeedItem] = []
        last = after
        for event in events:
            if len(items) == size:
                break
            last = event.position
            path = event.scope_path
            if path is None and scope != ROOT_PATH:
                continue  # system-wide events are for administrators
            if path is not None and not is_within(path, scope):
                continue
            items.append(FeedItem(event.position, event.event_type, event.version, event.occurred_at, event.payload))
        return FeedPage(items, last, reach.oldest, reach.purged_through)
