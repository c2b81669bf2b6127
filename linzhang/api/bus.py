"""Operators' view of the bus: dead deliveries, listed and re-driven (administrators)."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from linzhang.api.schemas import AfterId64, Id64, PageLimit, page_size
from linzhang.bus import list_dead, redrive
from linzhang.container import Container
from linzhang.errors import not_found
from linzhang.identity import Action, Principal, authorize


class DeadDeliveryOut(msgspec.Struct):
    id: int
    event_id: str
    event_type: str
    subscriber: str
    attempts: int
    last_error: str | None
    occurred_at: dt.datetime


class DeadDeliveryPage(msgspec.Struct):
    items: list[DeadDeliveryOut]
    next: int | None


class Redriven(msgspec.Struct):
    redriven: int


class BusController(Controller):
    path = "/bus"
    tags = ["bus"]

    @get("/dead", sync_to_thread=True)
    def dead(
        self,
        principal: NamedDependency[Principal],
        container: NamedDependency[Container],
        after: FromQuery[AfterId64] = 0,
        limit: FromQuery[PageLimit] = None,
    ) -> DeadDeliveryPage:
        """Dead deliveries in id order; ``next`` is the ``after`` of the following page."""
        authorize(principal, Action.MANAGE_BUS)
        size = page_size(container, limit)
        rows = list_dead(container.session_factory, limit=size + 1, after_id=after)
        items = [
            DeadDeliveryOut(
                r.delivery_id, r.event_id, r.event_type, r.subscriber, r.attempts, r.last_error, r.occurred_at
            )
            for r in rows[:size]
        ]
        return DeadDeliveryPage(items, items[-1].id if len(rows) > size else None)

    @post("/dead/{delivery_id:int}/redrive", status_code=200, sync_to_thread=True)
    def redrive_one(
        self, delivery_id: FromPath[Id64], principal: NamedDependency[Principal], container: NamedDependency[Container]
    ) -> Redriven:
        """Make one dead delivery pending again."""
        authorize(principal, Action.MANAGE_BUS)
        count = redrive(container.session_factory, [delivery_id])
        if count == 0:
            raise not_found("delivery")
        container.bus.wake()
        return Redriven(count)

    @post("/dead/redrive", status_code=200, sync_to_thread=True)
    def redrive_all(self, principal: NamedDependency[Principal], container: NamedDependency[Container]) -> Redriven:
        """Make every dead delivery pending again."""
        authorize(principal, Action.MANAGE_BUS)
        count = redrive(container.session_factory)
        container.bus.wake()
        return Redriven(count)
