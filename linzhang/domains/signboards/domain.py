"""The signboards domain's wiring: public boards, their QR codes, the public's reports and receipts."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import ControllerRouterHandler

from linzhang.bus import SubscriberRegistry
from linzhang.domain import Domain, MenuItem, Runtime
from linzhang.domains.signboards import consumers
from linzhang.domains.signboards.service import SignboardsContext
from linzhang.identity import Principal
from linzhang.settings import ensure_secret_key
from linzhang.vocabularies import categories_at


def _context(runtime: Runtime) -> SignboardsContext:
    settings = runtime.settings
    return SignboardsContext(
        clock=runtime.clock,
        categories=categories_at(settings.config_path),
        photos=runtime.photos,
        media=settings.media,
        settings=settings.signboards,
        secret=ensure_secret_key(settings),
    )


def _subscribe(registry: SubscriberRegistry, _context: SignboardsContext) -> None:
    consumers.register(registry)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.signboards.api import SignboardController

    return (SignboardController,)


def _pages() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.signboards.pages import SignboardPages

    return (SignboardPages,)


def _has_a_board(principal: Principal) -> bool:
    return principal.jurisdiction_code is not None


DOMAIN: Domain[SignboardsContext] = Domain(
    name="signboards",
    title="林长公示牌",
    tables=("linzhang.domains.signboards.tables",),
    context=_context,
    subscribe=_subscribe,
    controllers=_controllers,
    pages=_pages,
    # Signed in: the entry leads to one's own jurisdiction's board (the page itself is public).
    menu=(MenuItem("公示牌", "/signboards", "signboards", _has_a_board),),
)
