"""The composition root: the one place that builds the engine, the bus and every domain's wiring."""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus import REGISTRY_KEY, Bus, EmbeddedBus, SubscriberRegistry
from linzhang.bus.broker import create_broker
from linzhang.clock import Clock, SystemClock
from linzhang.db import create_db_engine, create_session_factory
from linzhang.settings import Settings


@dataclass
class Container:
    """What a process needs at run time; handed to the web app, the worker, the scheduler, the CLI."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    registry: SubscriberRegistry
    bus: Bus
    clock: Clock
    # Set while ``linzhang serve`` runs the in-process workers and scheduler.
    embedded: EmbeddedBus | None = None

    def close(self) -> None:
        self.bus.broker.close()
        self.engine.dispose()


def import_table_modules() -> None:
    """Import every module that defines tables, so the metadata is complete (migrations, tests)."""
    import linzhang.bus.tables  # noqa: F401


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    broker: dramatiq.Broker | None = None,
    registry: SubscriberRegistry | None = None,
) -> Container:
    """Build the process's container. ``broker`` and ``registry`` can be given by tests."""
    import_table_modules()
    clock = clock or SystemClock()
    registry = registry or SubscriberRegistry()
    engine = create_db_engine(settings)
    session_factory = create_session_factory(engine, info={REGISTRY_KEY: registry})
    broker = broker or create_broker(settings)
    bus = Bus(settings.bus, session_factory, registry, clock, broker)
    container = Container(settings, engine, session_factory, registry, bus, clock)
    _wire_domains(container)
    return container


def _wire_domains(container: Container) -> None:
    # Each domain registers its subscribers and periodic jobs here as it lands.
    pass
