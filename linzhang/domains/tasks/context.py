"""The tasks domain's context: the clock, the working calendar, the escalation policy and the categories.

Built once per process at the composition root (``domain.py``) from the config folder.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from linzhang.clock import SHANGHAI, Clock
from linzhang.domains.tasks.escalation_rules import EscalationPolicy, load_policy
from linzhang.references import JurisdictionLookup
from linzhang.settings import config_file, default_config_dir
from linzhang.vocabularies import Vocabulary, categories_at
from linzhang.workdays import WorkCalendar

DEFAULT_POLICY = EscalationPolicy({"township": 5, "district": 5, "city": 10}, aging_days=(3, 7, 15, 30))


@dataclass(frozen=True, slots=True)
class TasksContext:
    clock: Clock
    calendar: WorkCalendar
    lookup_jurisdiction: JurisdictionLookup
    policy: EscalationPolicy = DEFAULT_POLICY
    categories: Vocabulary = field(default_factory=lambda: categories_at(default_config_dir()))
    # The deadline of an issue filed from a report (``ProblemReported``) that names none, in working days.
    report_due_workdays: int = 10

    def today(self) -> dt.date:
        return self.clock.now().astimezone(SHANGHAI).date()


@functools.cache
def policy_at(config_dir: Path) -> EscalationPolicy:
    """The escalation policy of a config folder, read once per process."""
    return load_policy(config_file("escalation.toml", config_dir))
