"""The web application: ``create_app()`` builds it from the composition root."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import structlog
from litestar import Litestar, Request, Response, Router
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import AsyncAnyCallable, ControllerRouterHandler

import linzhang
from linzhang.api.bus import BusController
from linzhang.api.clock import ClockController
from linzhang.api.dependencies import dependencies
from linzhang.api.events import EventFeedController
from linzhang.api.health import healthz, readyz
from linzhang.api.metrics import metrics
from linzhang.api.openapi import describe_operations
from linzhang.api.problems import exception_handlers, problem_for_http
from linzhang.api.request_context import request_context_middleware
from linzhang.api.request_guard import guard_request
from linzhang.api.struct_schema import StrictStructSchemaPlugin, TextWithoutNulSchemaPlugin
from linzhang.api.vocabularies import VocabularyController
from linzhang.bootstrap import bootstrap, warn_about_time
from linzhang.bus import EmbeddedBus
from linzhang.container import Container
from linzhang.identity.http import IdentityController, authentication_middleware
from linzhang.log import configure_logging
from linzhang.media.api import PhotoController
from linzhang.quantities import Quantity, as_json_number
from linzhang.settings import Settings, load_settings
from linzhang.web.render import template_config, unknown_page, wants_a_page
from linzhang.web.routes import STATIC_PATH, pages_router, static_router

log = structlog.get_logger("linzhang.app")

API_PREFIX = "/api/v1"
# The platform's own controllers; each domain brings its own (linzhang.domain.Domain.controllers).
PLATFORM_CONTROLLERS: list[ControllerRouterHandler] = [
    IdentityController,
    EventFeedController,
    BusController,
    ClockController,
    VocabularyController,
    PhotoController,
]


def api_controllers(container: Container) -> list[ControllerRouterHandler]:
    """Every controller under the API prefix: the platform's, then each installed domain's."""
    return [*PLATFORM_CONTROLLERS, *(c for domain in container.domains for c in domain.controllers())]


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    """No route: a problem document for clients, the 未找到 page for a person's browser."""
    if wants_a_page(request):
        return unknown_page(request)
    return problem_for_http(request, exc)


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    run_embedded_bus: bool | None = None,
    extra_routes: Sequence[ControllerRouterHandler] = (),
    prepare: Callable[[], object] | None = None,
) -> Litestar:
    """The Litestar app over ``container`` (built from ``settings`` when not given).

    With the in-process broker the app also runs the workers, relay and periodic jobs while it
    serves, unless ``run_embedded_bus`` is False (tests that drive the bus by hand). ``extra_routes``
    are mounted under the API prefix beside the domains' controllers. ``prepare``: work the app does on a
    thread of its own once it serves (the demo's loading); the in-process bus starts when it returns, so the
    two do not compete for the embedded database's write lock.
    """
    if container is None:
        settings = settings or load_settings()
        configure_logging(settings.logging)
        container = bootstrap(settings)
    settings = container.settings
    embedded = container.bus.in_process if run_embedded_bus is None else run_embedded_bus

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        warn_about_time(container)
        starter = _BusStarter(container, embedded)
        if prepare is None:
            starter.start()
        else:
            threading.Thread(target=starter.after, args=(prepare,), name="linzhang-prepare", daemon=True).start()
        try:
            yield
        finally:
            starter.stop()

    # Bearer tokens guard the API; the pages (linzhang.web) sign people in with a session cookie.
    api = Router(
        path=API_PREFIX,
        route_handlers=[*api_controllers(container), *extra_routes],
        middleware=[authentication_middleware],
    )
    # Prometheus text for an administrator's bearer token (or a separate port, see linzhang.monitoring).
    metrics_router = Router(path="/metrics", route_handlers=[metrics], middleware=[authentication_middleware])
    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            metrics_router,
            api,
            pages_router([p for domain in container.domains for p in domain.pages()]),
            static_router(),
        ],
        template_config=template_config,
        plugins=[StrictStructSchemaPlugin(), TextWithoutNulSchemaPlugin()],
        state=State({"container": container}),
        dependencies=dependencies,
        exception_handlers={**exception_handlers, NotFoundException: _not_found},
        # Quantities in views are written as JSON numbers (linzhang/quantities.py).
        type_encoders={Quantity: as_json_number},
        before_request=guard_request(settings.http.max_json_depth),
        lifespan=[lifespan],
        request_max_body_size=settings.http.max_request_bytes,
        openapi_config=OpenAPIConfig(
            title="linzhang",
            version=linzhang.__version__,
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            # Each operation says whether it needs the token, and its docstring describes it
            # (linzhang.api.openapi.describe_operations).
            # Served from the package: the viewer works where no CDN is reachable (an office intranet).
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/", "/swagger"],
                    js_url=f"{STATIC_PATH}/vendor/swagger-ui/swagger-ui-bundle.js",
                    css_url=f"{STATIC_PATH}/vendor/swagger-ui/swagger-ui.css",
                    standalone_preset_js_url=f"{STATIC_PATH}/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/svg+xml' href='{STATIC_PATH}/favicon.svg'>",
                )
            ],
        ),
        debug=False,
        # Errors are logged once, by the problem-details handler, through structlog.
        logging_config=None,
    )
    describe_operations(app, container)
    allow_every_method(app)
    # Outermost, so that every response (unknown routes and errors included) carries a request id.
    app.asgi_handler = request_context_middleware(app.asgi_handler)
    return app


def allow_every_method(app: Litestar) -> None:
    """OPTIONS answers ``Allow`` with every method of the path.

    The framework's own OPTIONS handler is made with the first handlers registered at a path and keeps
    their methods only: a path served by two handlers (GET and POST of /tasks) would list one of them.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        allow = ", ".join(sorted(route.methods))
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":

                def options_handler(scope: Any, allow: str = allow) -> Response[None]:
                    return Response(content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})

                # The framework's handler is synchronous too (its attribute is typed for async ones).
                handler._fn = cast("AsyncAnyCallable", options_handler)


class _BusStarter:
    """Starts the in-process bus (now, or after the app's preparation) and stops it, whichever comes first."""

    def __init__(self, container: Container, embedded: bool) -> None:
        self.container = container
        self.embedded = embedded
        self._lock = threading.Lock()
        self._runner: EmbeddedBus | None = None
        self._stopped = False

    def after(self, prepare: Callable[[], object]) -> None:
        try:
            prepare()
        except Exception:
            log.exception("app.prepare_failed")
        self.start()

    def start(self) -> None:
        with self._lock:
            if self._stopped or not self.embedded:
                return
            self._runner = EmbeddedBus(self.container.bus)
            self._runner.start()
            self.container.embedded = self._runner

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._runner is not None:
                self._runner.stop()
                self.container.embedded = None
