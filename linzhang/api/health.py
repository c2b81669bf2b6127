"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from linzhang.api.problems import problem
from linzhang.container import Container


@get("/healthz", exclude_from_auth=True, sync_to_thread=False, tags=["health"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/readyz", exclude_from_auth=True, sync_to_thread=True, tags=["health"])
def readyz(container: NamedDependency[Container]) -> Response[dict[str, Any]]:
    """The database answers and the broker is reachable; 503 with the failing check otherwise."""
    checks: dict[str, str] = {}
    try:
        with container.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"failed: {type(exc).__name__}"
    try:
        container.bus.check_broker()
        embedded = container.embedded
        checks["broker"] = "failed: workers stopped" if embedded is not None and not embedded.alive else "ok"
    except Exception as exc:
        checks["broker"] = f"failed: {type(exc).__name__}"
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        # The failing checks keep their English names (database, broker): operators and probes read them.
        return problem(503, f"服务未就绪：{'、'.join(failing)}", code="not_ready", checks=checks)
    return Response({"status": "ready", "checks": checks})
