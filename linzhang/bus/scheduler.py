"""The scheduler: the relay loop (woken by commits), redelivery and the periodic jobs, until stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus.job_runs import record_job_run
from linzhang.bus.outbox import WAKE_CHANNEL
from linzhang.clock import Clock
from linzhang.metrics import JOB_DURATION
from linzhang.settings import BusSettings

log = structlog.get_logger("linzhang.bus")

# How often the relay's listener looks up from waiting for notifications (to see a stop), and how long it
# waits before listening again after losing its connection.
LISTEN_TIMEOUT_SECONDS = 1.0
LISTEN_RETRY_SECONDS = 1.0


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

    def take_turn(self, now: float) -> bool:
        """Whether the job is due at ``now`` (monotonic seconds); if so its next turn is an interval on."""
        if now < self._next_at:
            return False
        self._next_at = now + self.interval_seconds
        return True


def run_job(job: PeriodicJob, session_factory: sessionmaker[Session], clock: Clock) -> None:
    """Run ``job`` once: an error is logged, never raised; a recorded job's run is counted."""
    started_at = clock.now()
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
            session_factory,
            job.name,
            started_at,
            clock.now(),
            succeeded=succeeded,
            duration_seconds=duration,
            items=items,
        )
    except Exception:
        log.exception("job.record_failed", job=job.name)


class Scheduler:
    """Relays continuously, resends stale deliveries and runs periodic jobs until ``stop`` is set.

    Every step is safe to run in several schedulers at once; an error in one pass is logged and the loop
    goes on, so a database restart does not end the scheduler. ``wake`` (a commit that published, a
    failed delivery) makes an idle loop relay again soon; on PostgreSQL a listener thread sets it on
    every publishing commit anywhere.
    """

    def __init__(
        self,
        settings: BusSettings,
        session_factory: sessionmaker[Session],
        clock: Clock,
        relay_once: Callable[[], int],
        jobs: list[PeriodicJob],
        wake: threading.Event,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.relay_once = relay_once
        self.jobs = jobs
        self.wake = wake

    def run(self, stop: threading.Event) -> None:
        listener = self._start_listener(stop)
        while not stop.is_set():
            try:
                sent = self.relay_once()
            except Exception:
                log.exception("relay.failed")
                sent = 0
            now = time.monotonic()
            for job in self.jobs:
                if job.take_turn(now):
                    run_job(job, self.session_factory, self.clock)
            if sent < self.settings.relay_batch_size:
                if self.wake.wait(self.settings.relay_idle_seconds) and not stop.is_set():
                    time.sleep(self.settings.relay_wake_delay_seconds)
                self.wake.clear()
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
                            self.wake.set()
            except Exception as exc:  # the database restarts: poll meanwhile, listen again soon
                log.warning("relay.listen_failed", error=str(exc))
                stop.wait(LISTEN_RETRY_SECONDS)
