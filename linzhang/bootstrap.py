"""The composition root: the one place that builds the engine, the bus and every domain's wiring."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import dramatiq
import structlog
from sqlalchemy.exc import SQLAlchemyError

from linzhang.bus import REGISTRY_KEY, Bus, SubscriberRegistry, retention
from linzhang.bus.broker import create_broker
from linzhang.clock import SHANGHAI, Clock, SystemClock, clock_for, is_test_clock
from linzhang.container import Container
from linzhang.db import create_db_engine, create_session_factory
from linzhang.domain import Domain, Job, Runtime
from linzhang.domains.jurisdictions import public as jurisdictions_public
from linzhang.identity.passwords import Passwords
from linzhang.identity.throttle import login_throttle
from linzhang.identity.tokens import Tokens
from linzhang.media.store import store_for
from linzhang.settings import Settings, ensure_secret_key
from linzhang.workdays import entries_in, load_calendar

__all__ = [
    "INSTALLED_DOMAINS",
    "Container",
    "bootstrap",
    "import_table_modules",
    "installed_domains",
    "warn_about_time",
]

log = structlog.get_logger("linzhang.bootstrap")


# The installed domains, in the order their subscribers and jobs are registered: each is a folder
# linzhang/domains/<name>/ whose domain.py declares DOMAIN (linzhang.domain). Adding a domain is one
# entry here and a migration (docs/architecture.md, "Adding a domain").
INSTALLED_DOMAINS = ("jurisdictions", "chiefs", "tasks", "assessments", "patrols", "signboards")


def installed_domains() -> tuple[Domain[Any], ...]:
    """The DOMAIN of each installed domain."""
    domains = []
    for name in INSTALLED_DOMAINS:
        domain: Domain[Any] = importlib.import_module(f"linzhang.domains.{name}.domain").DOMAIN
        if domain.name != name:
            raise RuntimeError(f"linzhang/domains/{name}/domain.py declares a domain named {domain.name!r}")
        domains.append(domain)
    return tuple(domains)


# The platform's own tables, beside the domains'.
PLATFORM_TABLES = (
    "linzhang.bus.tables",
    "linzhang.clock",
    "linzhang.identity.tables",
    "linzhang.media.tables",
    "linzhang.workdays",
)


def import_table_modules() -> None:
    """Import every module that defines tables, so the metadata is complete (migrations, tests)."""
    for module in PLATFORM_TABLES:
        importlib.import_module(module)
    for domain in installed_domains():
        for module in domain.tables:
            importlib.import_module(module)


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
    passwords = Passwords(settings.security)
    domains = installed_domains()
    # Each domain builds its context once (reading, and so validating, its configuration at start-up).
    session_factory = create_session_factory(engine, info={REGISTRY_KEY: registry})
    photos = store_for(settings)
    runtime = Runtime(settings, clock, calendar, passwords, jurisdictions_public.lookup, session_factory, photos)
    contexts = {domain.name: domain.context(runtime) if domain.context else None for domain in domains}
    for domain in domains:
        if domain.subscribe is not None:
            domain.subscribe(registry, contexts[domain.name])
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
        passwords=passwords,
        tokens=Tokens(ensure_secret_key(settings), settings.security.token_ttl_seconds),
        lookup_jurisdiction=jurisdictions_public.lookup,
        calendar=calendar,
        login_throttle=login_throttle(settings, session_factory, SystemClock()),
        photos=photos,
        domains=domains,
        contexts={type(context): context for context in contexts.values() if context is not None},
    )
    for job in _platform_jobs(container):
        bus.add_job(job.name, job.interval_seconds, job.run)
    for domain in domains:
        for job in domain.jobs(runtime, contexts[domain.name]) if domain.jobs else ():
            bus.add_job(job.name, job.interval_seconds, job.run)
    return container


def _platform_jobs(container: Container) -> list[Job]:
    def purge_now() -> int:
        report = retention.purge(container.session_factory, container.bus.clock, container.settings.retention)
        return report.events + report.deliveries

    return [Job("bus.purge", container.settings.retention.interval_seconds, purge_now)]


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
