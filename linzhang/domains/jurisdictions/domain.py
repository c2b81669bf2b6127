"""The jurisdictions domain's wiring: the division tree, functional zones and chief coverage."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import ControllerRouterHandler

from linzhang.bus import SubscriberRegistry
from linzhang.domain import Domain
from linzhang.domains.jurisdictions import consumers


def _subscribe(registry: SubscriberRegistry, _context: None) -> None:
    consumers.register(registry)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.jurisdictions.api import JurisdictionController

    return (JurisdictionController,)


DOMAIN: Domain[None] = Domain(
    name="jurisdictions",
    title="行政区划与林长覆盖",
    tables=("linzhang.domains.jurisdictions.tables",),
    subscribe=_subscribe,
    controllers=_controllers,
)
