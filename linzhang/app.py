"""The web application: ``create_app()`` builds it from the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

import linzhang
from linzhang.api.bus import BusController
from linzhang.api.dependencies import dependencies
from linzhang.api.events import EventFeedController
from linzhang.api.health import healthz, readyz
from linzhang.api.problems import exception_handlers
from linzhang.api.request_context import request_context_middleware
from linzhang.api.request_guard import guard_request
from linzhang.bootstrap import bootstrap
from linzhang.bus import EmbeddedBus
from linzhang.container import Container
from linzhang.domains.assessments.api import AssessmentController
from linzhang.domains.chiefs.api import ChiefController, InboxController
from linzhang.domains.jurisdictions.api import JurisdictionController
from linzhang.domains.tasks.api import EscalationController, SupervisionController, TaskController
from linzhang.identity.http import IdentityController, authentication_middleware
from linzhang.log import configure_logging
from linzhang.settings import Settings, load_settings

API_PREFIX = "/api/v1"
API_CONTROLLERS: list[ControllerRouterHandler] = [
    IdentityController,
    JurisdictionController,
    ChiefController,
    InboxController,
    TaskController,
    SupervisionController,
    EscalationController,
    AssessmentController,
    EventFeedController,
    BusController,
]


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    run_embedded_bus: bool | None = None,
    extra_routes: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The Litestar app over ``container`` (built from ``settings`` when not given).

    With the in-process broker the app also runs the workers, relay and periodic jobs while it
    serves, unless ``run_embedded_bus`` is False (tests that drive the bus by hand). ``extra_routes``
    are mounted under the API prefix beside the domains' controllers.
    """
    if container is None:
        settings = settings or load_settings()
        configure_logging(settings.logging)
        container = bootstrap(settings)
    settings = container.settings
    embedded = container.bus.in_process if run_embedded_bus is None else run_embedded_bus

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        runner = EmbeddedBus(container.bus) if embedded else None
        if runner is not None:
            runner.start()
            container.embedded = runner
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
                container.embedded = None

    api = Router(path=API_PREFIX, route_handlers=[*API_CONTROLLERS, *extra_routes])
    app = Litestar(
        route_handlers=[healthz, readyz, api],
        state=State({"container": container}),
        dependencies=dependencies,
        exception_handlers=exception_handlers,
        before_request=guard_request(settings.http.max_json_depth),
        middleware=[authentication_middleware],
        lifespan=[lifespan],
        request_max_body_size=settings.http.max_request_bytes,
        openapi_config=OpenAPIConfig(
            title="linzhang",
            version=linzhang.__version__,
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
        # Errors are logged once, by the problem-details handler, through structlog.
        logging_config=None,
    )
    # Outermost, so that every response (unknown routes and errors included) carries a request id.
    app.asgi_handler = request_context_middleware(app.asgi_handler)
    return app
