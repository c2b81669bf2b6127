"""The Dramatiq broker: Redis when a URL is configured, otherwise in-process."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

from linzhang.settings import Settings


def create_broker(settings: Settings) -> dramatiq.Broker:
    """A fresh broker; the bus declares its one actor on it. Retries are the ledger's job, not Dramatiq's."""
    middleware: list[dramatiq.Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=settings.bus.time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=0),
    ]
    if settings.redis_url:
        return RedisBroker(url=settings.redis_url, middleware=middleware)  # type: ignore[no-untyped-call]
    broker = StubBroker(middleware=middleware)
    broker.emit_after("process_boot")
    return broker


def is_in_process(broker: dramatiq.Broker) -> bool:
    return isinstance(broker, StubBroker)


def ping(broker: dramatiq.Broker) -> None:
    """Raise if the broker cannot be reached."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()
