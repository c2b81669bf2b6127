"""The bus at run time: a thin front over the worker side (``worker``), the relay and the scheduler.

``Bus`` is what the composition root builds and the entry points use: it sends deliveries to their
subscribers' queues, relays and redelivers (``linzhang.bus.relay``), starts worker threads
(``linzhang.bus.worker``) and runs the scheduler loop (``linzhang.bus.scheduler``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import dramatiq
import structlog
from dramatiq import Message
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.broker import enqueue_all, is_in_process, ping, waiting_message_ids
from linzhang.bus.ledger import RetryPolicy, message_id
from linzhang.bus.outbox import PUBLISHED_KEY
from linzhang.bus.registry import SubscriberRegistry
from linzhang.bus.relay import OutgoingDelivery, relay_pending, requeue_stale
from linzhang.bus.scheduler import PeriodicJob, Scheduler, run_job
from linzhang.bus.worker import Deliverer
from linzhang.clock import Clock
from linzhang.settings import BusSettings

log = structlog.get_logger("linzhang.bus")


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
        self._next_others_scan = 0.0
        self.deliverer = Deliverer(settings, session_factory, registry, clock, broker, self.policy, self._wake.set)
        event.listen(session_factory, "after_commit", self._after_commit)
        event.listen(session_factory, "after_rollback", self._after_rollback)

    @property
    def legacy_actor(self) -> dramatiq.Actor[[int], None]:
        return self.deliverer.legacy_actor

    def queue_name(self, subscriber: str) -> str:
        return self.deliverer.queue_name(subscriber)

    def queues_of(self, subscribers: Iterable[str] | None = None) -> set[str]:
        """The queues of ``subscribers`` (default: every subscriber's, and the pre-upgrade queue)."""
        return self.deliverer.queues_of(subscribers)

    def start_worker(
        self, threads: int | None = None, prefetch: int | None = None, subscribers: Sequence[str] | None = None
    ) -> dramatiq.Worker:
        """Start Dramatiq worker threads on this process's broker.

        ``prefetch``: messages the worker fetches ahead from each queue (default :func:`worker_prefetch`).
        ``subscribers``: whose queues it consumes (default: every subscriber's, also those that subscribe
        later in this process).
        """
        return self.deliverer.start_worker(threads, prefetch, subscribers)

    # -- sending and relaying ------------------------------------------------------------------

    def send(self, deliveries: Sequence[OutgoingDelivery]) -> None:
        """Enqueue one message per delivery on its subscriber's queue; its id is ``{event_id}:{subscriber}``.

        One round trip on Redis.
        """
        messages: list[Message[object]] = []
        for delivery in deliveries:
            actor = self.deliverer.actor_for(delivery.subscriber)
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

    # -- the scheduler -------------------------------------------------------------------------

    def add_job(self, name: str, interval_seconds: float, run: Callable[[], Any]) -> None:
        self.jobs.append(PeriodicJob(name, interval_seconds, run))

    def run_job(self, job: PeriodicJob) -> None:
        """Run ``job`` once: an error is logged, never raised; a recorded job's run is counted."""
        run_job(job, self.session_factory, self.clock)

    def run_scheduler(self, stop: threading.Event) -> None:
        """Relay continuously, resend stale deliveries and run the periodic jobs until ``stop`` is set."""
        requeue = PeriodicJob(
            "bus.redelivery", self.settings.redelivery_interval_seconds, self.requeue_stale, recorded=False
        )
        Scheduler(
            self.settings, self.session_factory, self.clock, self.relay_once, [requeue, *self.jobs], self._wake
        ).run(stop)

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
