"""The patrols domain's wiring: rangers and supervisors, patrols and their verdicts, field reports,
compliance and its month-end check."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import ControllerRouterHandler
from sqlalchemy.orm import Session

from linzhang.bus import SubscriberRegistry
from linzhang.contracts.chiefs import ChiefAppointed, ChiefTermEnded
from linzhang.contracts.reports import ReportBecameIssue, ReportRefused
from linzhang.domain import Domain, Job, MenuItem, Runtime
from linzhang.domains.patrols import service
from linzhang.domains.patrols.model import SHANGHAI, load_rules
from linzhang.domains.patrols.service import PatrolsContext
from linzhang.identity import Principal, Role
from linzhang.media.store import store_for
from linzhang.vocabularies import categories_at

RULES_FILE = "patrols.toml"
# How often the month-end check looks whether last month has been checked (it acts once a month).
MONTH_END_CHECK_SECONDS = 3600.0


def _context(runtime: Runtime) -> PatrolsContext:
    # Reading patrols.toml here validates it at start-up.
    rules = load_rules(runtime.settings.config_file(RULES_FILE))
    return PatrolsContext(
        runtime.clock,
        runtime.passwords,
        runtime.lookup_jurisdiction,
        rules,
        categories_at(runtime.settings.config_path),
        store_for(runtime.settings),
        runtime.settings.media,
    )


def _subscribe(registry: SubscriberRegistry, context: PatrolsContext) -> None:
    registry.subscribe("patrols.reports", ReportBecameIssue, service.on_report_became_issue)
    registry.subscribe("patrols.reports", ReportRefused, service.on_report_refused)

    def on_chief_appointed(session: Session, event: ChiefAppointed) -> None:
        service.on_chief_appointed(session, context, event)

    registry.subscribe("patrols.chiefs", ChiefAppointed, on_chief_appointed)
    registry.subscribe("patrols.chiefs", ChiefTermEnded, service.on_chief_term_ended)


def _jobs(runtime: Runtime, context: PatrolsContext) -> Sequence[Job]:
    def month_end() -> int:
        today = runtime.clock.now().astimezone(SHANGHAI).date()
        year, month = service.previous_month(today)
        with runtime.session_factory() as session, session.begin():
            return service.check_month_end(session, context, year, month)

    return (Job("patrols.month_end", MONTH_END_CHECK_SECONDS, month_end),)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.patrols.api import (
        ComplianceController,
        FieldReportController,
        PatrolController,
        RangerController,
    )

    return (RangerController, PatrolController, FieldReportController, ComplianceController)


def _pages() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.patrols.pages import PatrolPages

    return (PatrolPages,)


def _shown(principal: Principal) -> bool:
    return principal.role is not Role.INTEGRATION


DOMAIN: Domain[PatrolsContext] = Domain(
    name="patrols",
    title="巡林",
    tables=("linzhang.domains.patrols.tables",),
    context=_context,
    subscribe=_subscribe,
    jobs=_jobs,
    controllers=_controllers,
    pages=_pages,
    menu=(MenuItem("巡林", "/patrols", "patrols", _shown),),
)
