"""The patrols domain's wiring: rangers and supervisors, patrols and their verdicts, compliance."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.types import ControllerRouterHandler

from linzhang.domain import Domain, Runtime
from linzhang.domains.patrols.model import load_rules
from linzhang.domains.patrols.service import PatrolsContext

RULES_FILE = "patrols.toml"


def _context(runtime: Runtime) -> PatrolsContext:
    # Reading patrols.toml here validates it at start-up.
    rules = load_rules(runtime.settings.config_file(RULES_FILE))
    return PatrolsContext(runtime.clock, runtime.passwords, runtime.lookup_jurisdiction, rules)


def _controllers() -> Sequence[ControllerRouterHandler]:
    from linzhang.domains.patrols.api import ComplianceController, PatrolController, RangerController

    return (RangerController, PatrolController, ComplianceController)


DOMAIN: Domain[PatrolsContext] = Domain(
    name="patrols",
    title="巡林",
    tables=("linzhang.domains.patrols.tables",),
    context=_context,
    controllers=_controllers,
)
