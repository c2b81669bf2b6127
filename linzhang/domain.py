"""How a domain plugs into the application: one ``Domain``, declared in the domain's own ``domain.py``.

A domain lives in ``linzhang/domains/<name>/`` and says what it brings in one place, its ``domain.py``::

    DOMAIN = Domain(
        name="tasks",
        title="任务",
        tables=("linzhang.domains.tasks.tables",),
        context=build_context,          # built once at the composition root
        subscribe=subscribe,            # its bus subscribers
        jobs=jobs,                      # its periodic jobs (run by the scheduler)
        controllers=controllers,        # its API, mounted under /api/v1
        pages=pages,                    # its pages, mounted under /
        menu=(MenuItem("巡林", "/patrols", "patrols"),),
    )

The composition root (``linzhang.bootstrap``) walks ``INSTALLED_DOMAINS``, imports each
``linzhang.domains.<name>.domain`` and wires what it finds; nothing else in the application names a
domain's parts. ``docs/architecture.md`` has the checklist for adding a domain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session, sessionmaker

from linzhang.bus import SubscriberRegistry
from linzhang.clock import Clock
from linzhang.identity import Principal
from linzhang.identity.passwords import Passwords
from linzhang.media.store import PhotoStore
from linzhang.references import JurisdictionLookup
from linzhang.settings import Settings
from linzhang.workdays import WorkCalendar

__all__ = ["Domain", "Job", "MenuItem", "Runtime"]

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the composition root hands a domain to build its context: the process's shared parts."""

    settings: Settings
    # The clock the rules read (the wall clock, or a training instance's test clock).
    clock: Clock
    calendar: WorkCalendar
    passwords: Passwords
    lookup_jurisdiction: JurisdictionLookup
    # Sessions on the process's database, bound to its bus (what a job opens its transactions on).
    session_factory: sessionmaker[Session]
    # Where photos' bytes live ([media] store; see linzhang.media).
    photos: PhotoStore


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: ``run`` is called every ``interval_seconds`` by the scheduler; it returns how many
    items it handled (for the job's record and metrics)."""

    name: str
    interval_seconds: float
    run: Callable[[], int]


def _everyone(_principal: Principal) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class MenuItem:
    """An entry of the pages' main menu for one of a domain's pages."""

    label: str  # what a person reads (Chinese)
    href: str
    # The page's ``active`` name: the entry is marked current on the pages rendered with it.
    key: str
    # Whom the entry is shown to (the page itself still authorizes through its services).
    shown: Callable[[Principal], bool] = _everyone


def _nothing() -> Sequence[Any]:
    return ()


class Domain(Generic[C]):
    """One domain's wiring. Every part is optional but the name, the Chinese title and its tables.

    (A plain class rather than a dataclass: the container holds the domains, and the web framework
    inspects a dataclass's field types, which here name the framework's own handler types.)
    """

    __slots__ = ("context", "controllers", "jobs", "menu", "name", "pages", "subscribe", "tables", "title")

    def __init__(
        self,
        *,
        name: str,
        title: str,
        tables: Sequence[str],
        context: Callable[[Runtime], C] | None = None,
        subscribe: Callable[[SubscriberRegistry, C], None] | None = None,
        jobs: Callable[[Runtime, C], Sequence[Job]] | None = None,
        controllers: Callable[[], Sequence[ControllerRouterHandler]] = _nothing,
        pages: Callable[[], Sequence[ControllerRouterHandler]] = _nothing,
        menu: Sequence[MenuItem] = (),
    ) -> None:
        # The folder's name under linzhang/domains/ (also the prefix of its tables, subscribers, jobs).
        self.name = name
        # What a person calls it (logs, docs, the operations guide).
        self.title = title
        # The modules whose import defines the domain's tables (for the metadata, migrations, tests).
        self.tables = tuple(tables)
        # Builds the domain's context once per process; services take it as their ``ctx`` argument and
        # controllers ask the container for it by type: ``container.context(TasksContext)``.
        self.context = context
        # Subscribes the domain's consumers; called with the context built above (None without one).
        self.subscribe = subscribe
        # The domain's periodic jobs (run by the scheduler), given the runtime and the context above.
        self.jobs = jobs
        # The API controllers (under /api/v1) and the pages (under /), imported only when an app is built.
        self.controllers = controllers
        self.pages = pages
        # The main menu's entries for those pages (after the shared ones). Page templates live in the
        # domain's own templates/ folder, found by the pages' template loader; they extend "base.html".
        self.menu = tuple(menu)

    def __repr__(self) -> str:
        return f"Domain({self.name!r})"
