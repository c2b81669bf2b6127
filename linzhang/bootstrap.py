"""The composition root: the one place that builds the engine, the bus and every domain's wiring."""

from __future__ import annotations

import datetime as dt

import dramatiq
import structlog
from sqlalchemy.exc import SQLAlchemyError

from linzhang.bus import REGISTRY_KEY, Bus, SubscriberRegistry, retention
from linzhang.bus.broker import create_broker
from linzhang.clock import SHANGHAI, Clock, SystemClock, clock_for, is_test_clock
from linzhang.container import Container
from linzhang.db import create_db_engine, create_session_factory
from linzhang.domains.assessments import ledger as assessment_ledger
from linzhang.domains.assessments.service import rubric_at
from linzhang.domains.chiefs import consumers as chief_consumers
from linzhang.domains.jurisdictions import consumers as jurisdiction_consumers
from linzhang.domains.jurisdictions import public as jurisdictions_public
from linzhang.domains.tasks import consumers as task_consumers
from linzhang.domains.tasks import escalation
from linzhang.domains.tasks.service import TasksContext, policy_at
from linzhang.errors import Conflict
from linzhang.identity.passwords import Passwords
from linzhang.identity.throttle import login_throttle
from linzhang.identity.tokens import Tokens
from linzhang.settings import Settings, ensure_secret_key
from linzhang.workdays import entries_in, load_calendar

__all__ = ["Container", "bootstrap", "import_table_modules", "warn_about_time"]

log = structlog.get_logger("linzhang.bootstrap")


def import_table_modules() -> None:
    """Import every module that defines tables, so the metadata is complete (migrations, tests)."""
    import linzhang.bus.tables
    import linzhang.clock
    import linzhang.domains.assessments.tables
    import linzhang.domains.chiefs.tables
    import linzhang.domains.jurisdictions.tables
    import linzhang.domains.tasks.tables
    import linzhang.identity.tables
    import linzhang.workdays  # noqa: F401


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    bus_clock: Clock | None = None,
    broker: dramatiq.Broker | None = None,
    registry: SubscriberRegistry | None = None,
) -> Container:
    """Build the process's container. Tests may give the clocks, the broker and the registry.

    ``clock`` is what the rules read (due dates, escalation): by default the one ``[clock] mode``
    names, the wall clock or the database's test clock. ``bus_clock`` times the bus's own mechanics
    (retry back-off, redelivery) and stays the wall clock unless a test moves it; so do sign-in tokens
    on a test clock (moving it forward must not sign everybody out).
    """
    import_table_modules()
    registry = registry or SubscriberRegistry()
    engine = create_db_engine(settings)
    clock = clock or clock_for(
        settings.clock.mode,
        engine,
        settings.clock.test_clock_refresh_seconds,
        dt.timedelta(days=settings.clock.test_clock_max_days_ahead),
    )
    wall_clock = (bus_clock or SystemClock()) if is_test_clock(clock) else clock
    calendar = load_calendar(
        settings.config_file("calendar.toml"),
        entries=entries_in(engine),
        refresh_seconds=settings.calendar.refresh_seconds,
    )
    # Read (and so validate) the domains' own configuration at start-up.
    tasks_context = TasksContext(clock, calendar, jurisdictions_public.lookup, policy_at(settings.config_path))
    rubric_at(settings.config_file("assessment.toml"))
    _subscribe_domains(registry, tasks_context)
    session_factory = create_session_factory(engine, info={REGISTRY_KEY: registry})
    broker = broker or create_broker(settings)
    bus = Bus(settings.bus, session_factory, registry, bus_clock or SystemClock(), broker)
    container = Container(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        registry=registry,
        bus=bus,
        clock=clock,
        wall_clock=wall_clock,
        passwords=Passwords(settings.security),
        tokens=Tokens(ensure_secret_key(settings), settings.security.token_ttl_seconds),
        lookup_jurisdiction=jurisdictions_public.lookup,
        calendar=calendar,
        login_throttle=login_throttle(settings, session_factory, SystemClock()),
    )
    _schedule_jobs(container, tasks_context)
    return container


def _subscribe_domains(registry: SubscriberRegistry, tasks: TasksContext) -> None:
    jurisdiction_consumers.register(registry)
    task_consumers.register(registry, tasks)
    chief_consumers.register(registry, tasks.clock)
    assessment_ledger.register(registry)


def _schedule_jobs(container: Container, tasks: TasksContext) -> None:
    def sweep_now() -> int:
        try:
            with container.transaction() as session:
                return escalation.sweep(session, tasks, container.clock.now()).escalated
        except Conflict as exc:
            # Another scheduler's sweep got in first with a later as_of: this run has nothing to add.
            # Logged and skipped; the next run sweeps as usual.
            log.warning("escalation.sweep_skipped", code=exc.code, detail=exc.detail)
            return 0

    def purge_now() -> int:
        report = retention.purge(container.session_factory, container.bus.clock, container.settings.retention)
        return report.events + report.deliveries

    container.bus.add_job("escalation.sweep", container.settings.escalation.sweep_seconds, sweep_now)
    container.bus.add_job("bus.purge", container.settings.retention.interval_seconds, purge_now)


def warn_about_time(container: Container) -> None:
    """Log, at start-up, a test clock and any working-calendar year this year or next that nobody entered."""
    try:
        now = container.clock.now()
    except SQLAlchemyError as exc:
        # A test clock on a database that is not there yet: /readyz reports the database.
        log.warning("clock.unreadable", error=type(exc).__name__)
        return
    if is_test_clock(container.clock):
        log.warning("clock.test_clock", now=now.isoformat())
    today: dt.date = now.astimezone(SHANGHAI).date()
    for year in container.calendar.uncovered_years(today):
        log.warning(
            "calendar.year_uncovered",
            year=year,
            detail=f"{year} 年的节假日安排尚未录入，该年按周一至周五工作计算，涉及该年的期限为暂定",
        )
