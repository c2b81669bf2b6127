"""The chiefs domain's wiring: appointments, replacements and every chief's inbox."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import ControllerRouterHandler

from linzhang.bus import SubscriberRegistry
from linzhang.domain import Domain, Runtime
from linzhang.domains.chiefs import consumers
from linzhang.domains.chiefs.service import ChiefsContext


def _context(runtime: Runtime) -> ChiefsContext:
    return ChiefsContext(runtime.clock, runtime.passwords, runtime.lookup_jurisdiction)


def _subscribe(registry: SubscriberRegistry, context: ChiefsContext) -> None:
    consumers.register(registry, context.clock)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.chiefs.api import ChiefController, InboxController

    return (ChiefController, InboxController)


DOMAIN: Domain[ChiefsContext] = Domain(
    name="chiefs",
    title="林长",
    tables=("linzhang.domains.chiefs.tables",),
    context=_context,
    subscribe=_subscribe,
    controllers=_controllers,
)
