"""The composition root: the one place that builds the engine, the bus and every domain's wiring."""

from __future__ import annotations

import dramatiq

from linzhang.bus import REGISTRY_KEY, Bus, SubscriberRegistry
from linzhang.bus.broker import create_broker
from linzhang.clock import Clock, SystemClock
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
from linzhang.identity.passwords import Passwords
from linzhang.identity.throttle import login_throttle
from linzhang.identity.tokens import Tokens
from linzhang.settings import Settings, ensure_secret_key
from linzhang.workdays import load_calendar

__all__ = ["Container", "bootstrap", "import_table_modules"]


def import_table_modules() -> None:
    """Import every module that defines tables, so the metadata is complete (migrations, tests)."""
    import linzhang.bus.tables
    import linzhang.domains.assessments.tables
    import linzhang.domains.chiefs.tables
    import linzhang.domains.jurisdictions.tables
    import linzhang.domains.tasks.tables
    import linzhang.identity.tables  # noqa: F401


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    bus_clock: Clock | None = None,
    broker: dramatiq.Broker | None = None,
    registry: SubscriberRegistry | None = None,
) -> Container:
    """Build the process's container. Tests may give the clocks, the broker and the registry.

    ``clock`` is what the rules read (due dates, escalation); ``bus_clock`` times the bus's own
    mechanics (retry back-off, redelivery) and stays the wall clock unless a test moves it.
    """
    import_table_modules()
    clock = clock or SystemClock()
    registry = registry or SubscriberRegistry()
    calendar = load_calendar(settings.config_path / "calendar.toml")
    # Read (and so validate) the domains' own configuration at start-up.
    tasks_context = TasksContext(clock, calendar, jurisdictions_public.lookup, policy_at(settings.config_path))
    rubric_at(settings.config_path / "assessment.toml")
    _subscribe_domains(registry, tasks_context)
    engine = create_db_engine(settings)
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
    def sweep_now() -> None:
        with container.transaction() as session:
            escalation.sweep(session, tasks, container.clock.now())

    container.bus.add_job("escalation.sweep", container.settings.escalation.sweep_seconds, sweep_now)
