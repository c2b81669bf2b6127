"""What a process holds at run time; built by the composition root (linzhang.bootstrap)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus import Bus, EmbeddedBus, SubscriberRegistry
from linzhang.clock import SHANGHAI, Clock, is_test_clock
from linzhang.domain import Domain
from linzhang.identity.passwords import Passwords
from linzhang.identity.throttle import LoginThrottle
from linzhang.identity.tokens import Tokens
from linzhang.media.store import PhotoStore
from linzhang.references import JurisdictionLookup
from linzhang.settings import Settings
from linzhang.workdays import WorkCalendar

T = TypeVar("T")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    registry: SubscriberRegistry
    bus: Bus
    # The one clock the rules read: the wall clock, or a training instance's test clock.
    clock: Clock
    # The wall clock (the same object unless ``clock`` is a test clock): sign-in tokens expire by it.
    wall_clock: Clock
    passwords: Passwords
    tokens: Tokens
    lookup_jurisdiction: JurisdictionLookup
    calendar: WorkCalendar
    login_throttle: LoginThrottle
    # Where photos' bytes live ([media] store): the photo routes read it, domains store through it.
    photos: PhotoStore
    # Set while ``linzhang serve`` runs the in-process workers and scheduler.
    embedded: EmbeddedBus | None = None
    # Set while ``linzhang serve --demo`` loads the demo in the background: every page says so.
    demo_loading: bool = False
    # The installed domains (linzhang.bootstrap.INSTALLED_DOMAINS) and the contexts they built.
    domains: tuple[Domain[Any], ...] = ()
    contexts: dict[type, object] = field(default_factory=dict)

    def context(self, kind: type[T]) -> T:
        """The context of type ``kind`` a domain built at start-up (e.g. ``container.context(TasksContext)``)."""
        found = self.contexts.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"no domain built a {kind.__name__}")
        return found

    @property
    def on_test_clock(self) -> bool:
        """True on a training instance's test clock: every page shows a "测试时钟" banner with the time."""
        return is_test_clock(self.clock)

    def uncovered_calendar_years(self) -> list[int]:
        """This year and next, those whose holidays nobody entered: the city office's pages show a banner."""
        return self.calendar.uncovered_years(self.clock.now().astimezone(SHANGHAI).date())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back if it raises."""
        with self.session_factory() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only."""
        with self.session_factory() as session:
            yield session

    def close(self) -> None:
        self.bus.broker.close()
        self.passwords.close()
        self.engine.dispose()
