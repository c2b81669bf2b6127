"""The pages' router: every page under ``/`` with its session dependency and HTML error answers."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from linzhang.web.board import BoardController
from linzhang.web.coverage import CoverageController
from linzhang.web.photos import PhotoPages
from linzhang.web.ranking import RankingController
from linzhang.web.render import SECURITY_HEADERS, STATIC, exception_handlers
from linzhang.web.session import provide_viewer
from linzhang.web.signin import SignInController
from linzhang.web.work import WorkController

STATIC_PATH = "/static"


def pages_router(domain_pages: Sequence[ControllerRouterHandler] = ()) -> Router:
    """The shared pages, and the pages the installed domains bring (linzhang.domain.Domain.pages)."""
    return Router(
        path="/",
        route_handlers=[
            SignInController,
            WorkController,
            BoardController,
            CoverageController,
            RankingController,
            PhotoPages,
            *domain_pages,
        ],
        dependencies={"viewer": Provide(provide_viewer)},
        exception_handlers=exception_handlers,
        include_in_schema=False,
        response_headers=[ResponseHeader(name=name, value=value) for name, value in SECURITY_HEADERS.items()],
    )


def static_router() -> Router:
    """The pages' own styles and scripts and the vendored libraries (linzhang/web/static/vendor/MANIFEST.toml)."""
    return create_static_files_router(
        path=STATIC_PATH, directories=[STATIC], include_in_schema=False, cache_control=None, name="static"
    )
