"""GET /metrics: the Prometheus text format, for administrators (or see ``[metrics] port``)."""

from __future__ import annotations

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST

from linzhang.container import Container
from linzhang.identity import Action, Principal, authorize
from linzhang.monitoring import exposition


@get("/", include_in_schema=False)
async def metrics(principal: NamedDependency[Principal], container: NamedDependency[Container]) -> Response[bytes]:
    """The process's metrics and the database's gauges (administrators)."""
    authorize(principal, Action.READ_METRICS)
    body = await anyio.to_thread.run_sync(exposition, container)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
