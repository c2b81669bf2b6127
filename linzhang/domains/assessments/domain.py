"""The assessments domain's wiring: the ledger fed by task events, computations and their versions."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import ControllerRouterHandler

from linzhang.bus import SubscriberRegistry
from linzhang.domain import Domain, Runtime
from linzhang.domains.assessments import ledger
from linzhang.domains.assessments.service import AssessmentContext, rubric_at


def _context(runtime: Runtime) -> AssessmentContext:
    # Reading the rubric here validates config/assessment.toml at start-up.
    rubric, digest = rubric_at(runtime.settings.config_file("assessment.toml"))
    return AssessmentContext(runtime.clock, rubric, digest)


def _subscribe(registry: SubscriberRegistry, _context: AssessmentContext) -> None:
    ledger.register(registry)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.assessments.api import AssessmentController

    return (AssessmentController,)


DOMAIN: Domain[AssessmentContext] = Domain(
    name="assessments",
    title="考核",
    tables=("linzhang.domains.assessments.tables",),
    context=_context,
    subscribe=_subscribe,
    controllers=_controllers,
)
