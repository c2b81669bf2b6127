"""Liveness and readiness (docs/adr/0013 on what "degraded" means to a load balancer)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from linzhang.api.problems import problem
from linzhang.clock import SHANGHAI, clock_mode
from linzhang.container import Container


@get("/healthz", exclude_from_auth=True, sync_to_thread=False, tags=["health"])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def uncovered_year_reason(year: int) -> str:
    return f"{year} 年的节假日和调休安排尚未录入，该年按周一至周五工作计算，涉及该年的期限为暂定"


@get("/readyz", exclude_from_auth=True, sync_to_thread=True, tags=["health"])
def readyz(container: NamedDependency[Container]) -> Response[dict[str, Any]]:
    """Ready (200), degraded (200: serving, with reasons a person must act on), or not ready (503).

    Not ready: the database or the broker fails; a load balancer takes the server out. Degraded: the
    working calendar does not cover this year or next; every server is equally affected and still
    serves correctly otherwise, so it stays in rotation while the reason is shown. On a test clock the
    answer carries ``clock: {mode: "test", now}``; while ``linzhang serve --demo`` loads the demo, ``demo:
    "loading"``.
    """
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
    now = container.clock.now()
    clock = {"mode": clock_mode(container.clock), "now": now.astimezone(SHANGHAI).isoformat()}
    uncovered = container.calendar.uncovered_years(now.astimezone(SHANGHAI).date())
    reasons = [uncovered_year_reason(year) for year in uncovered]
    checks["calendar"] = "ok" if not uncovered else "degraded: " + ", ".join(str(year) for year in uncovered)
    body: dict[str, Any] = {"status": "degraded" if reasons else "ready", "checks": checks, "clock": clock}
    if reasons:
        body["reasons"] = reasons
        body["uncovered_years"] = uncovered
    if container.demo_loading:
        body["demo"] = "loading"
    return Response(body)
