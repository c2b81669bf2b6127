"""The bus at run time: the delivery actor, sending, the relay loop, workers and periodic jobs."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import structlog
from dramatiq import Message
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.broker import enqueue_all, is_in_process, ping, queue_name_for, waiting_message_ids
from linzhang.bus.consumer import Outcome, consume_batch, consume_delivery
from linzhang.bus.job_runs import record_job_run
from linzhang.bus.ledger import RetryPolicy, message_id
from linzhang.bus.outbox import PUBLISHED_KEY, WAKE_CHANNEL
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.relay import OutgoingDelivery, relay_pending, requeue_stale
from linzhang.clock import Clock
from linzhang.metrics import JOB_DURATION
from linzhang.settings import BusSettings

log = structlog.get_logger("linzhang.bus")

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
# How often the relay's listener looks up from waiting for notifications (to see a stop), and how long it
# waits before listening again after losing its connection.
LISTEN_TIMEOUT_SECONDS = 1.0
LISTEN_RETRY_SECONDS = 1.0
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


@dataclass
class PeriodicJob:
    """A job the scheduler runs every ``interval_seconds`` (the escalation sweep is one).

    ``run`` may return how many items it handled (tasks escalated, rows purged): the job record adds
    them up. A ``recorded`` job's runs go into the shared job record (``bus_job_runs``) and its metrics.
    """

    name: str
    interval_seconds: float
    run: Callable[[], Any]
    recorded: bool = True
    _next_at: float = field(default=0.0, repr=False)


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


class Bus:
    """Wires the ledger to a Dramatiq broker. One per process, built by the composition root."""

    def __init__(
        self,
        settings: BusSettings,
        session_factory: sessionmaker[Session],
        registry: SubscriberRegistry,
        clock: Clock,
        broker: dramatiq.Broker,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.registry = registry
        self.clock = clock
        self.broker = broker
        self.policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_seconds=settings.retry_backoff_seconds,
            backoff_max_seconds=settings.retry_backoff_max_seconds,
        )
        self.jobs: list[PeriodicJob] = []
        self._wake = threading.Event()
        self._done_in_batches = _RecentIds(DONE_MEMORY)
        self._batch_suspects = _RecentIds(SUSPECT_MEMORY)
        self._actors: dict[str, dramatiq.Actor[[int], None]] = {}
        self._actors_lock = threading.Lock()
        # Workers that consume every subscriber's queue, including queues declared after they started.
        self._all_queue_workers: list[dramatiq.Worker] = []
        self._next_others_scan = 0.0
        self.legacy_actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
            self._on_message,
            broker=broker,
            actor_name=ACTOR_NAME,
            queue_name=settings.queue_name,
            priority=NORMAL_PRIORITY,
            options={"max_retries": 0},
        )
        for subscriber in registry.subscribers():
            self._actor_for(subscriber)
        event.listen(session_factory, "after_commit", self._after_commit)
        event.listen(session_factory, "after_rollback", self._after_rollback)
        self._thread_connections = _ThreadConnections(session_factory)
        if self._thread_connections.active:
            broker.add_middleware(_CloseThreadConnection(self._thread_connections))

    # -- queues --------------------------------------------------------------------------------

    def queue_name(self, subscriber: str) -> str:
        return queue_name_for(self.settings.queue_name, subscriber)

    def _actor_for(self, subscriber: str) -> dramatiq.Actor[[int], None]:
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
        return {self._actor_for(name).queue_name for name in subscribers}

    # -- consuming -----------------------------------------------------------------------------

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
            # A failed delivery waits out its back-off; let the relay look again soon after.
            self._wake.set()

    def start_worker(
        self, threads: int | None = None, prefetch: int | None = None, subscribers: Sequence[str] | None = None
    ) -> dramatiq.Worker:
        """Start Dramatiq worker threads on this process's broker.

        ``prefetch``: messages the worker fetches ahead from each queue (default :func:`worker_prefetch`).
        ``subscribers``: whose queues it consumes (default: every subscriber's, also those that subscribe
        later in this process).
        """
        threads = threads or self.settings.worker_threads
        with self._actors_lock:
            worker = new_worker(self.broker, threads, prefetch, self.queues_of(subscribers))
            if subscribers is None:
                self._all_queue_workers.append(worker)
        worker.start()
        return worker

    # -- sending -------------------------------------------------------------------------------

    def send(self, deliveries: Sequence[OutgoingDelivery]) -> None:
        """Enqueue one message per delivery on its subscriber's queue; its id is ``{event_id}:{subscriber}``.

        One round trip on Redis.
        """
        messages: list[Message[object]] = []
        for delivery in deliveries:
            actor = self._actor_for(delivery.subscriber)
            messages.append(
                Message(
                    queue_name=actor.queue_name,
                    actor_name=actor.actor_name,
                    args=(delivery.delivery_id,),
                    kwargs={},
                    options={},
                    message_id=message_id(delivery.event_id, delivery.subscriber),
                )
            )
        enqueue_all(self.broker, messages)

    def relay_once(self) -> int:
        """Send one batch of pending deliveries per subscriber; returns how many were sent.

        Deliveries of subscribers this process does not know are looked for once per redelivery interval.
        """
        now = time.monotonic()
        others = now >= self._next_others_scan
        if others:
            self._next_others_scan = now + self.settings.redelivery_interval_seconds
        return relay_pending(
            self.session_factory,
            self.send,
            self.clock,
            self.settings.relay_batch_size,
            subscribers=self.registry.subscribers(),
            max_in_flight=self.settings.max_in_flight,
            others=others,
        )

    def waiting(self, subscriber: str) -> set[str] | None:
        """Message ids waiting in ``subscriber``'s queue, or ``None`` if the broker cannot tell."""
        try:
            return waiting_message_ids(self.broker, self.queue_name(subscriber))
        except Exception:
            log.exception("broker.peek_failed", subscriber=subscriber)
            return None

    def relay_all(self) -> int:
        """Send batches until nothing is pending (that is available now)."""
        total = 0
        while sent := self.relay_once():
            total += sent
        return total

    def requeue_stale(self) -> int:
        """Return deliveries sent but not done within the timeout to pending."""
        count = requeue_stale(
            self.session_factory, self.clock, self.settings.redelivery_timeout_seconds, waiting=self.waiting
        )
        if count:
            log.warning("delivery.redelivered", count=count)
        return count

    def wake(self) -> None:
        self._wake.set()

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(PUBLISHED_KEY, False):
            self._wake.set()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(PUBLISHED_KEY, None)

    # -- the scheduler loop --------------------------------------------------------------------

    def add_job(self, name: str, interval_seconds: float, run: Callable[[], Any]) -> None:
        self.jobs.append(PeriodicJob(name, interval_seconds, run))

    def run_job(self, job: PeriodicJob) -> None:
        """Run ``job`` once: an error is logged, never raised; a recorded job's run is counted."""
        started_at = self.clock.now()
        started = time.perf_counter()
        items = 0
        try:
            result = job.run()
            items = result if isinstance(result, int) else 0
            succeeded = True
        except Exception:
            log.exception("job.failed", job=job.name)
            succeeded = False
        if not job.recorded:
            return
        duration = time.perf_counter() - started
        JOB_DURATION.labels(job.name, "ok" if succeeded else "failed").observe(duration)
        try:
            record_job_run(
                self.session_factory,
                job.name,
                started_at,
                self.clock.now(),
                succeeded=succeeded,
                duration_seconds=duration,
                items=items,
            )
        except Exception:
            log.exception("job.record_failed", job=job.name)

    def run_scheduler(self, stop: threading.Event) -> None:
        """Relay continuously, resend stale deliveries and run periodic jobs until ``stop`` is set.

        Every step is safe to run in several schedulers at once; an error in one pass is logged and the
        loop goes on, so a database restart does not end the scheduler.
        """
        requeue = PeriodicJob(
            "bus.redelivery", self.settings.redelivery_interval_seconds, self.requeue_stale, recorded=False
        )
        jobs = [requeue, *self.jobs]
        listener = self._start_listener(stop)
        while not stop.is_set():
            try:
                sent = self.relay_once()
            except Exception:
                log.exception("relay.failed")
                sent = 0
            now = time.monotonic()
            for job in jobs:
                if now >= job._next_at:
                    job._next_at = now + job.interval_seconds
                    self.run_job(job)
            if sent < self.settings.relay_batch_size:
                if self._wake.wait(self.settings.relay_idle_seconds) and not stop.is_set():
                    time.sleep(self.settings.relay_wake_delay_seconds)
                self._wake.clear()
        if listener is not None:
            listener.join(timeout=5)

    def _start_listener(self, stop: threading.Event) -> threading.Thread | None:
        """On PostgreSQL, a thread that wakes the relay whenever a publishing transaction commits anywhere."""
        bind = self.session_factory.kw.get("bind")
        if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
            return None
        conninfo = bind.url.set(drivername="postgresql").render_as_string(hide_password=False)
        thread = threading.Thread(
            target=self._listen, args=(conninfo, stop), name="linzhang-relay-listener", daemon=True
        )
        thread.start()
        return thread

    def _listen(self, conninfo: str, stop: threading.Event) -> None:
        import psycopg

        while not stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {WAKE_CHANNEL}")
                    while not stop.is_set():
                        for _notification in connection.notifies(timeout=LISTEN_TIMEOUT_SECONDS):
                            self._wake.set()
            except Exception as exc:  # the database restarts: poll meanwhile, listen again soon
                log.warning("relay.listen_failed", error=str(exc))
                stop.wait(LISTEN_RETRY_SECONDS)

    def check_broker(self) -> None:
        ping(self.broker)

    @property
    def in_process(self) -> bool:
        return is_in_process(self.broker)


class EmbeddedBus:
    """The in-process broker's workers plus a scheduler thread, for ``linzhang serve`` without Redis."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: dramatiq.Worker | None = None

    def start(self) -> None:
        self._worker = self.bus.start_worker()
        self._thread = threading.Thread(
            target=self.bus.run_scheduler, args=(self._stop,), name="linzhang-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.bus.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._worker is not None:
            self._worker.stop()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
