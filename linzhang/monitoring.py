"""What ``/metrics`` serves: the process's metrics plus gauges read from the database at scrape time.

The database gauges (the bus's backlog per subscriber, the periodic jobs' shared record, the event
feed's reach) and the working calendar's coverage answer the same in every process, so any
``linzhang serve`` (or the separate metrics port of any process) can be scraped for them. The metric
names are part of the operations guide's alert rules (docs/operations.md); a test checks each one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from linzhang.bus.job_runs import JobRecord, job_records
from linzhang.bus.ledger import DeliveryStatus
from linzhang.bus.retention import feed_reach
from linzhang.bus.tables import deliveries_table as d
from linzhang.bus.tables import events_table as e
from linzhang.clock import SHANGHAI
from linzhang.container import Container
from linzhang.metrics import PROCESS_REGISTRY

log = structlog.get_logger("linzhang.metrics")

# The periodic job whose runs the sweep's own metrics report (the name the composition root gives it).
SWEEP_JOB = "escalation.sweep"

# The delivery states counted per subscriber (done ones are history, not backlog).
COUNTED_STATES = (DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.DEAD)
# States in which a delivery is still owed: the oldest of these is the backlog's age.
OWED_STATES = (DeliveryStatus.PENDING, DeliveryStatus.SENT)


def last_covered_year(container: Container) -> int:
    """The last year the working calendar knows (see ``WorkCalendar.last_covered_year``)."""
    today = container.clock.now().astimezone(SHANGHAI).date()
    return container.calendar.last_covered_year(today)


class _ProcessMetrics(Collector):
    def collect(self) -> Iterable[Any]:
        return PROCESS_REGISTRY.collect()


class DatabaseCollector(Collector):
    """Gauges computed from the database each time metrics are scraped."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("linzhang_database_up", "1 when the database answered the metrics queries, else 0.")
        try:
            families = list(self._from_database())
        except Exception as exc:
            log.warning("metrics.database_failed", error=type(exc).__name__)
            families = []
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield up
        yield from families
        covered = GaugeMetricFamily(
            "linzhang_calendar_last_covered_year",
            "The last year the working calendar knows (official calendar, calendar.toml, years entered by the office).",
        )
        covered.add_metric([], last_covered_year(self.container))
        yield covered

    def _from_database(self) -> Iterator[Any]:
        container = self.container
        now = container.bus.clock.now()
        with container.reading() as session:
            due = func.coalesce(d.c.available_at, e.c.occurred_at)
            rows = session.execute(
                select(d.c.subscriber, d.c.status, func.count(), func.min(due))
                .join(e, e.c.position == d.c.event_position)
                .where(d.c.status.in_([state.value for state in COUNTED_STATES]))
                .group_by(d.c.subscriber, d.c.status)
            ).all()
            jobs = job_records(session)
            reach = feed_reach(session)
            oldest_event = session.execute(select(func.min(e.c.occurred_at))).scalar_one_or_none()
        counts = {
            (subscriber, state.value): 0 for subscriber in container.registry.subscribers() for state in COUNTED_STATES
        }
        owed_since: dict[str, dt.datetime] = {}
        for subscriber, status, count, oldest in rows:
            counts[(subscriber, status)] = count
            if status in {state.value for state in OWED_STATES} and oldest is not None:
                owed_since[subscriber] = min(oldest, owed_since.get(subscriber, oldest))
        deliveries = GaugeMetricFamily(
            "linzhang_bus_deliveries",
            "Deliveries by subscriber and state: pending (waiting for the relay), sent (in the broker or "
            "being handled), dead (failed too often; see `linzhang bus dead`).",
            labels=["subscriber", "status"],
        )
        for (subscriber, status), count in sorted(counts.items()):
            deliveries.add_metric([subscriber, status], count)
        yield deliveries
        age = GaugeMetricFamily(
            "linzhang_bus_oldest_pending_age_seconds",
            "Age of the oldest delivery still owed (pending or sent, counted from when it became due), by "
            "subscriber; 0 when nothing is owed.",
            labels=["subscriber"],
        )
        for subscriber in sorted({subscriber for subscriber, _ in counts}):
            since = owed_since.get(subscriber)
            age.add_metric([subscriber], max(0.0, (now - since).total_seconds()) if since else 0.0)
        yield age
        yield from _job_families(jobs)
        yield from _sweep_families(next((job for job in jobs if job.job == SWEEP_JOB), None))
        purged = GaugeMetricFamily(
            "linzhang_bus_feed_purged_through",
            "Events at or before this feed position were purged by retention (0: none).",
        )
        purged.add_metric([], reach.purged_through)
        yield purged
        oldest = GaugeMetricFamily(
            "linzhang_bus_oldest_event_age_seconds", "Age of the oldest event kept in the outbox and the feed."
        )
        oldest.add_metric([], max(0.0, (now - oldest_event).total_seconds()) if oldest_event else 0.0)
        yield oldest


def _sweep_families(sweep: JobRecord | None) -> Iterator[Any]:
    """The escalation sweep's own figures (from the jobs' shared record), always present: zero before its
    first run, so that an alert on them sees a sweep that never ran."""
    figures = (
        (CounterMetricFamily, "linzhang_sweep_runs", "Runs of the periodic escalation sweep, by every scheduler."),
        (CounterMetricFamily, "linzhang_sweep_failures", "Runs of the periodic escalation sweep that failed."),
        (CounterMetricFamily, "linzhang_sweep_escalated", "Tasks the periodic escalation sweep escalated, in all."),
        (GaugeMetricFamily, "linzhang_sweep_last_duration_seconds", "How long the sweep's last run took."),
        (
            GaugeMetricFamily,
            "linzhang_sweep_last_success_timestamp_seconds",
            "When the sweep last succeeded (Unix time; 0: never).",
        ),
        (
            GaugeMetricFamily,
            "linzhang_sweep_last_failure_timestamp_seconds",
            "When the sweep last failed (Unix time; 0: never).",
        ),
    )
    values: tuple[float, ...] = (0, 0, 0, 0.0, 0.0, 0.0)
    if sweep is not None:
        values = (
            sweep.runs,
            sweep.failures,
            sweep.items,
            sweep.last_duration_seconds or 0.0,
            sweep.last_success_at.timestamp() if sweep.last_success_at else 0.0,
            sweep.last_failure_at.timestamp() if sweep.last_failure_at else 0.0,
        )
    for (family, name, documentation), value in zip(figures, values, strict=True):
        metric = family(name, documentation)
        metric.add_metric([], value)
        yield metric


def _job_families(jobs: list[Any]) -> Iterator[Any]:
    runs = CounterMetricFamily(
        "linzhang_job_runs",
        "Runs of each periodic job by every scheduler (escalation.sweep, bus.purge).",
        labels=["job"],
    )
    failures = CounterMetricFamily("linzhang_job_failures", "Runs of each periodic job that failed.", labels=["job"])
    items = CounterMetricFamily(
        "linzhang_job_items",
        "What each periodic job handled in all: tasks escalated by escalation.sweep, rows purged by bus.purge.",
        labels=["job"],
    )
    success = GaugeMetricFamily(
        "linzhang_job_last_success_timestamp_seconds",
        "When each periodic job last succeeded (Unix time).",
        labels=["job"],
    )
    failure = GaugeMetricFamily(
        "linzhang_job_last_failure_timestamp_seconds",
        "When each periodic job last failed (Unix time; 0: never).",
        labels=["job"],
    )
    duration = GaugeMetricFamily(
        "linzhang_job_last_duration_seconds", "How long each periodic job's last run took.", labels=["job"]
    )
    for job in jobs:
        runs.add_metric([job.job], job.runs)
        failures.add_metric([job.job], job.failures)
        items.add_metric([job.job], job.items)
        success.add_metric([job.job], job.last_success_at.timestamp() if job.last_success_at else 0)
        failure.add_metric([job.job], job.last_failure_at.timestamp() if job.last_failure_at else 0)
        duration.add_metric([job.job], job.last_duration_seconds or 0.0)
    yield from (runs, failures, items, success, failure, duration)


def registry_for(container: Container) -> CollectorRegistry:
    """A registry with this process's metrics and the database's, for one container."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector(container))
    return registry


def exposition(container: Container) -> bytes:
    """The metrics in the Prometheus text format."""
    return generate_latest(registry_for(container))


def start_metrics_listener(container: Container) -> WSGIServer | None:
    """Serve the metrics on ``[metrics] port`` (no token) when one is set, in a daemon thread.

    Answers the server (``shutdown()`` stops it), or None when no port is set.
    """
    settings = container.settings.metrics
    if not settings.port:
        return None
    server, _thread = start_http_server(settings.port, addr=settings.host, registry=registry_for(container))
    log.info("metrics.listening", host=settings.host, port=settings.port)
    return server
