"""Which subscriber handles which event, and with what function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

from linzhang.contracts import Event

Handler = Callable[[Session, Event], None]
# Applies several deliveries' events of one subscriber in the caller's transaction, with the same
# effect as its handlers applied one event at a time (in any order).
BatchHandler = Callable[[Session, Sequence[Event]], None]
E = TypeVar("E", bound=Event)


@dataclass
class SubscriberRegistry:
    """Subscriptions by event (type, version). Built once, in the composition root."""

    _handlers: dict[tuple[str, int], dict[str, Handler]] = field(default_factory=dict)
    _batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)

    def subscribe(self, subscriber: str, event_class: type[E], handler: Callable[[Session, E], None]) -> None:
        """Route ``event_class`` to ``handler`` under the durable name ``subscriber``.

        The name is stored on every delivery: renaming a subscriber orphans its open deliveries.
        """
        if not subscriber or len(subscriber) > 100:
            raise ValueError("a subscriber name is 1 to 100 characters")
        key = (event_class.event_type, event_class.version)
        handlers = self._handlers.setdefault(key, {})
        if subscriber in handlers:
            raise ValueError(f"{subscriber} already subscribes to {key[0]} v{key[1]}")
        # The event decoded for this (type, version) is always an ``event_class``.
        handlers[subscriber] = cast(Handler, handler)

    def subscribe_batch(self, subscriber: str, handler: BatchHandler) -> None:
        """Let ``subscriber`` take several deliveries in one transaction, through ``handler``.

        ``handler`` gets events of any type the subscriber subscribes to and must leave what its
        one-event handlers would leave, whatever the order; those still handle a delivery alone (a
        batch that fails is handled again one delivery at a time).
        """
        if subscriber in self._batch_handlers:
            raise ValueError(f"{subscriber} already has a batch handler")
        self._batch_handlers[subscriber] = handler

    def subscribe_batch_of_handlers(self, subscriber: str, order: Callable[[Event], Any] | None = None) -> None:
        """Let ``subscriber`` take several deliveries in one transaction, each through its own handler.

        What it saves is the transaction and the claim of each delivery, not the handlers' statements.
        ``order``: a sort key for the batch's events (their row locks are then taken in one order, so two
        batches do not deadlock); events with equal keys keep their delivery order.
        """

        def handle(session: Session, events: Sequence[Event]) -> None:
            for event in sorted(events, key=order) if order is not None else events:
                self.handler_for(subscriber, event.event_type, event.version)(session, event)

        self.subscribe_batch(subscriber, handle)

    def batch_handler_for(self, subscriber: str) -> BatchHandler | None:
        return self._batch_handlers.get(subscriber)

    def subscribers(self) -> tuple[str, ...]:
        """Every subscriber's name, in the order they first subscribed."""
        names: dict[str, None] = {}
        for handlers in self._handlers.values():
            names.update(dict.fromkeys(handlers))
        return tuple(names)

    def subscribers_for(self, event_type: str, version: int) -> tuple[str, ...]:
        return tuple(self._handlers.get((event_type, version), ()))

    def handler_for(self, subscriber: str, event_type: str, version: int) -> Handler:
        try:
            return self._handlers[(event_type, version)][subscriber]
        except KeyError:
            raise LookupError(f"{subscriber} does not handle {event_type} v{version}") from None
