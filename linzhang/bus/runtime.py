"""The bus at run time: the delivery actor, sending, the relay loop, workers and periodic jobs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import structlog
from dramatiq import Message
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.broker import enqueue_all, is_in_process, ping
from linzhang.bus.consumer import Outcome, consume_delivery
from linzhang.bus.job_runs import record_job_run
from linzhang.bus.ledger import RetryPolicy, message_id
from linzhang.bus.outbox import PUBLISHED_KEY
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.relay import OutgoingDelivery, relay_pending, requeue_stale
from linzhang.clock import Clock
from linzhang.metrics import JOB_DURATION
from linzhang.settings import BusSettings

log = structlog.get_logger("linzhang.bus")

ACTOR_NAME = "linzhang.bus.deliver"
# Milliseconds an idle worker thread or consumer waits before it looks again.
WORKER_TIMEOUT_MS = 100
PREFETCH_PER_THREAD = 8


def worker_prefetch(threads: int) -> int:
    """Messages a worker with ``threads`` threads fetches ahead.

    Dramatiq's default is two per thread, and its Redis consumer sleeps a few milliseconds each time
    they are all taken: with handlers of a millisecond or two the threads then wait for work. Eight per
    thread keep them busy; what a crashed worker held comes back through the ledger's redelivery anyway.
    """
    return threads * PREFETCH_PER_THREAD


def new_worker(broker: dramatiq.Broker, threads: int, prefetch: int | None = None) -> dramatiq.Worker:
    """A Dramatiq worker (not started) as the bus runs it: ``threads`` threads and the bus's prefetch."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=WORKER_TIMEOUT_MS)
    worker.queue_prefetch = prefetch or worker_prefetch(threads)
    return worker


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
        self.actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
            self._on_message,
            broker=broker,
            actor_name=ACTOR_NAME,
            queue_name=settings.queue_name,
            priority=0,
            options={"max_retries": 0},
        )
        event.listen(session_factory, "after_commit", self._after_commit)
        event.listen(session_factory, "after_rollback", self._after_rollback)
        self._thread_connections = _ThreadConnections(session_factory)
        if self._thread_connections.active:
            broker.add_middleware(_CloseThreadConnection(self._thread_connections))

    # -- consuming -----------------------------------------------------------------------------

    def _on_message(self, delivery_id: int) -> None:
        outcome = consume_delivery(
            self.session_factory,
            self.registry,
            self.clock,
            self.policy,
            delivery_id,
            connection=self._thread_connections.get(),
        )
        if outcome in (Outcome.FAILED, Outcome.DEAD):
            # A failed delivery waits out its back-off; let the relay look again soon after.
            self._wake.set()

    def start_worker(self, threads: int | None = None, prefetch: int | None = None) -> dramatiq.Worker:
        """Start Dramatiq worker threads on this process's broker.

        ``prefetch``: messages the worker holds at once (default :func:`worker_prefetch`).
        """
        threads = threads or self.settings.worker_threads
        worker = new_worker(self.broker, threads, prefetch)
        worker.start()
        return worker

    # -- sending -------------------------------------------------------------------------------

    def send(self, deliveries: Sequence[OutgoingDelivery]) -> None:
        """Enqueue one message per delivery; its id is ``{event_id}:{subscriber}``. One round trip on Redis."""
        enqueue_all(
            self.broker,
            [
                Message(
                    queue_name=self.settings.queue_name,
                    actor_name=ACTOR_NAME,
                    args=(delivery.delivery_id,),
                    kwargs={},
                    options={},
                    message_id=message_id(delivery.event_id, delivery.subscriber),
                )
                for delivery in deliveries
            ],
        )

    def relay_once(self) -> int:
        """Send one batch of pending deliveries; returns how many were sent."""
        return relay_pending(self.session_factory, self.send, self.clock, self.settings.relay_batch_size)

    def relay_all(self) -> int:
        """Send batches until nothing is pending (that is available now)."""
        total = 0
        while sent := self.relay_once():
            total += sent
        return total

    def requeue_stale(self) -> int:
        """Return deliveries sent but not done within the timeout to pending."""
        count = requeue_stale(self.session_factory, self.clock, self.settings.redelivery_timeout_seconds)
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
                self._wake.wait(self.settings.relay_idle_seconds)
                self._wake.clear()

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
