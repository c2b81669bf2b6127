"""The Dramatiq broker: Redis when a URL is configured, otherwise in-process."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import uuid4

import dramatiq
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis
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


def enqueue_all(broker: dramatiq.Broker, messages: Sequence[Message[object]]) -> None:
    """Enqueue ``messages`` as ``broker.enqueue`` would, one after the other, on Redis in one round trip.

    Each message goes through the same steps as in ``RedisBroker.enqueue`` (a fresh Redis-level id, the
    enqueue middleware hooks, Dramatiq's own ``enqueue`` script), but the script calls travel in one
    pipeline. Any other broker, or a Redis broker without those internals, gets one ``enqueue`` each.
    """
    if not messages:
        return
    dispatch = getattr(broker, "scripts", {}).get("dispatch") if isinstance(broker, RedisBroker) else None
    if dispatch is None:
        for message in messages:
            broker.enqueue(message)
        return
    assert isinstance(broker, RedisBroker)
    keys = [broker.namespace]
    unpack_size = broker._max_unpack_size()  # type: ignore[no-untyped-call]
    enqueued = []
    with broker.client.pipeline(transaction=False) as pipeline:
        for message in messages:
            message = message.copy(options={"redis_message_id": str(uuid4())})
            broker.emit_before("enqueue", message, None)
            args = [
                "enqueue",
                current_millis(),
                message.queue_name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                broker._should_do_maintenance("enqueue"),
                unpack_size,
                message.options["redis_message_id"],
                message.encode(),
            ]
            dispatch(keys=keys, args=args, client=pipeline)
            enqueued.append(message)
        pipeline.execute()
    for message in enqueued:
        broker.emit_after("enqueue", message, None)


# Dramatiq's own rule for queue names; anything else in a subscriber's name becomes "_".
_QUEUE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Message ids read from the broker per round trip when looking into a queue.
_PEEK_CHUNK = 1000


def queue_name_for(prefix: str, subscriber: str) -> str:
    """The Dramatiq queue of ``subscriber``'s deliveries: ``<prefix>.<subscriber>``."""
    return f"{prefix}.{_QUEUE_UNSAFE.sub('_', subscriber)}"


def waiting_message_ids(broker: dramatiq.Broker, queue_name: str) -> set[str] | None:
    """The ids of the messages waiting in ``queue_name`` (not yet taken by a worker), or ``None`` if unknown.

    On Redis: the queue's list of Redis-level ids, whose messages are read from the queue's hash. In
    process: the queue's own messages. Messages a worker has fetched are not waiting any more.
    """
    if isinstance(broker, StubBroker):
        queue = broker.queues.get(queue_name)
        if queue is None:
            return set()
        with queue.mutex:
            encoded = list(queue.queue)
        return {Message.decode(item).message_id for item in encoded}
    if not isinstance(broker, RedisBroker):
        return None
    key = f"{broker.namespace}:{queue_name}"
    redis_ids = broker.client.lrange(key, 0, -1)
    found: set[str] = set()
    for start in range(0, len(redis_ids), _PEEK_CHUNK):
        payloads = broker.client.hmget(f"{key}.msgs", redis_ids[start : start + _PEEK_CHUNK])
        found.update(Message.decode(payload).message_id for payload in payloads if payload)
    return found


def is_in_process(broker: dramatiq.Broker) -> bool:
    return isinstance(broker, StubBroker)


def ping(broker: dramatiq.Broker) -> None:
    """Raise if the broker cannot be reached."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()
