"""The worker side of the bus: an actor (and so a Dramatiq queue) per subscriber, and what it runs.

A message carries one delivery id; its actor claims the delivery (with up to a batch of the same
subscriber's, where the subscriber takes batches) and applies it through the consumer. Worker threads
keep a database connection each on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence

import dramatiq
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.broker import queue_name_for
from linzhang.bus.consumer import Outcome, consume_batch, consume_delivery
from linzhang.bus.ledger import RetryPolicy
from linzhang.bus.registry import SubscriberRegistry
from linzhang.clock import Clock
from linzhang.settings import BusSettings

# The actor of the single queue deliveries travelled on before each subscriber had its own; it stays
# declared so that messages still waiting there after an upgrade are handled.
ACTOR_NAME = "linzhang.bus.deliver"
# Milliseconds an idle worker thread or consumer waits before it looks again.
WORKER_TIMEOUT_MS = 100
PREFETCH_PER_THREAD = 8
# Dramatiq runs the messages a worker holds lowest priority first (first come, first served within one).
URGENT_PRIORITY = 0
NORMAL_PRIORITY = 10
# Delivery ids a worker process remembers having done in a batch (their own messages come later and are
# skipped without a round trip), and ids it keeps out of batches after they failed in one.
DONE_MEMORY = 200_000
SUSPECT_MEMORY = 1_000


def worker_prefetch(threads: int) -> int:
    """Messages a worker with ``threads`` threads fetches ahead.

    Dramatiq's default is two per thread, and its Redis consumer sleeps a few milliseconds each time
    they are all taken: with handlers of a millisecond or two the threads then wait for work. Eight per
    thread keep them busy; what a crashed worker held comes back through the ledger's redelivery anyway.
    """
    return threads * PREFETCH_PER_THREAD


def new_worker(
    broker: dramatiq.Broker, threads: int, prefetch: int | None = None, queues: Iterable[str] | None = None
) -> dramatiq.Worker:
    """A Dramatiq worker (not started) as the bus runs it: ``threads`` threads and the bus's prefetch.

    ``queues``: the queues it consumes (default: every queue declared on the broker, delay queues too).
    """
    worker = dramatiq.Worker(
        broker, worker_threads=threads, worker_timeout=WORKER_TIMEOUT_MS, queues=None if queues is None else set(queues)
    )
    worker.queue_prefetch = prefetch or worker_prefetch(threads)
    return worker


class _RecentIds:
    """A bounded set of delivery ids, oldest forgotten first; safe to share between worker threads."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: set[int] = set()
        self._order: deque[int] = deque()
        self._lock = threading.Lock()

    def add(self, ids: Iterable[int]) -> None:
        with self._lock:
            for delivery_id in ids:
                if delivery_id not in self._ids:
                    self._ids.add(delivery_id)
                    self._order.append(delivery_id)
            while len(self._order) > self._capacity:
                self._ids.discard(self._order.popleft())

    def __contains__(self, delivery_id: object) -> bool:
        return delivery_id in self._ids

    def snapshot(self) -> Collection[int]:
        with self._lock:
            return tuple(self._ids)


class _ThreadConnections:
    """On PostgreSQL, one connection per worker thread, kept from one delivery to the next.

    A delivery then costs no pool checkout and no liveness round trip (the engine's pre-ping); a
    connection found broken is replaced by the consumer's own fallback and here on the next delivery.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        bind = session_factory.kw.get("bind")
        self._engine = bind if isinstance(bind, Engine) and bind.dialect.name == "postgresql" else None
        self._local = threading.local()

    @property
    def active(self) -> bool:
        return self._engine is not None

    def get(self) -> Connection | None:
        if self._engine is None:
            return None
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            self.close()
            connection = self._local.connection = self._engine.connect()
        return connection

    def close(self) -> None:
        """Give this thread's connection back to the pool."""
        connection: Connection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


class _CloseThreadConnection(dramatiq.Middleware):
    """A worker thread that stops gives its connection back."""

    def __init__(self, connections: _ThreadConnections) -> None:
        self.connections = connections

    def before_worker_thread_shutdown(self, _broker: dramatiq.Broker, _thread: object) -> None:
        self.connections.close()


class Deliverer:
    """The subscribers' actors on one broker and the work they do; starts Dramatiq workers.

    ``on_failure`` is called after a delivery failed (it waits out its back-off: the relay should look
    again soon after).
    """

    def __init__(
        self,
        settings: BusSettings,
        session_factory: sessionmaker[Session],
        registry: SubscriberRegistry,
        clock: Clock,
        broker: dramatiq.Broker,
        policy: RetryPolicy,
        on_failure: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.registry = registry
        self.clock = clock
        self.broker = broker
        self.policy = policy
        self._on_failure = on_failure
        self._done_in_batches = _RecentIds(DONE_MEMORY)
        self._batch_suspects = _RecentIds(SUSPECT_MEMORY)
        self._actors: dict[str, dramatiq.Actor[[int], None]] = {}
        self._actors_lock = threading.Lock()
        # Workers that consume every subscriber's queue, including queues declared after they started.
        self._all_queue_workers: list[dramatiq.Worker] = []
        self.legacy_actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
            self._on_message,
            broker=broker,
            actor_name=ACTOR_NAME,
            queue_name=settings.queue_name,
            priority=NORMAL_PRIORITY,
            options={"max_retries": 0},
        )
        for subscriber in registry.subscribers():
            self.actor_for(subscriber)
        self._thread_connections = _ThreadConnections(session_factory)
        if self._thread_connections.active:
            broker.add_middleware(_CloseThreadConnection(self._thread_connections))

    def queue_name(self, subscriber: str) -> str:
        return queue_name_for(self.settings.queue_name, subscriber)

    def actor_for(self, subscriber: str) -> dramatiq.Actor[[int], None]:
        """The actor (and so the queue) of ``subscriber``'s deliveries, declared on first use."""
        actor = self._actors.get(subscriber)
        if actor is not None:
            return actor
        with self._actors_lock:
            actor = self._actors.get(subscriber)
            if actor is not None:
                return actor
            queue_name = self.queue_name(subscriber)
            for worker in self._all_queue_workers:
                if isinstance(worker.consumer_whitelist, set):
                    worker.consumer_whitelist.add(queue_name)

            def deliver(delivery_id: int) -> None:
                self._on_delivery(subscriber, delivery_id)

            deliver.__name__ = deliver.__qualname__ = f"deliver_{queue_name.replace('.', '_').replace('-', '_')}"
            actor = dramatiq.Actor(
                deliver,
                broker=self.broker,
                actor_name=f"{ACTOR_NAME}.{subscriber}",
                queue_name=queue_name,
                priority=URGENT_PRIORITY if subscriber in self.settings.urgent else NORMAL_PRIORITY,
                options={"max_retries": 0},
            )
            self._actors[subscriber] = actor
            return actor

    def queues_of(self, subscribers: Iterable[str] | None = None) -> set[str]:
        """The queues of ``subscribers`` (default: every subscriber's, and the pre-upgrade queue)."""
        if subscribers is None:
            return {self.queue_name(name) for name in self._actors} | {self.settings.queue_name}
        return {self.actor_for(name).queue_name for name in subscribers}

    def start_worker(
        self, threads: int | None = None, prefetch: int | None = None, subscribers: Sequence[str] | None = None
    ) -> dramatiq.Worker:
        """Start Dramatiq worker threads on the broker (see :meth:`linzhang.bus.Bus.start_worker`)."""
        threads = threads or self.settings.worker_threads
        with self._actors_lock:
            worker = new_worker(self.broker, threads, prefetch, self.queues_of(subscribers))
            if subscribers is None:
                self._all_queue_workers.append(worker)
        worker.start()
        return worker

    def _on_message(self, delivery_id: int) -> None:
        """A message of the pre-upgrade queue: one delivery of any subscriber."""
        self._after(
            consume_delivery(
                self.session_factory,
                self.registry,
                self.clock,
                self.policy,
                delivery_id,
                connection=self._thread_connections.get(),
            )
        )

    def _on_delivery(self, subscriber: str, delivery_id: int) -> None:
        if delivery_id in self._done_in_batches:
            return  # done in a batch by this process: done is final, no need to ask the database
        result = consume_batch(
            self.session_factory,
            self.registry,
            self.clock,
            self.policy,
            subscriber,
            delivery_id,
            self.settings.consume_batch_size,
            connection=self._thread_connections.get(),
            excluded=self._batch_suspects.snapshot(),
        )
        if result.others_done:
            self._done_in_batches.add(result.others_done)
        if result.failed_alone:
            self._batch_suspects.add(result.failed_alone)
        self._after(result.outcome)

    def _after(self, outcome: Outcome) -> None:
        if outcome in (Outcome.FAILED, Outcome.DEAD):
            self._on_failure()
