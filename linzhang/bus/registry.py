"""Which subscriber handles which event, and with what function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from sqlalchemy.orm import Session

from linzhang.contracts import Event

Handler = Callable[[Session, Event], None]
E = TypeVar("E", bound=Event)


@dataclass
class SubscriberRegistry:
    """Subscriptions by event (type, version). Built once, in the composition root."""

    _handlers: dict[tuple[str, int], dict[str, Handler]] = field(default_factory=dict)

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

    @property
    def subscribers(self) -> tuple[str, ...]:
        """Every subscriber name, sorted."""
        return tuple(sorted({name for handlers in self._handlers.values() for name in handlers}))

    def subscribers_for(self, event_type: str, version: int) -> tuple[str, ...]:
        return tuple(self._handlers.get((event_type, version), ()))

    def handler_for(self, subscriber: str, event_type: str, version: int) -> Handler:
        try:
            return self._handlers[(event_type, version)][subscriber]
        except KeyError:
            raise LookupError(f"{subscriber} does not handle {event_type} v{version}") from None
