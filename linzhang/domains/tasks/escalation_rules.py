"""Pure rules of escalation: who is above whom, how long the new holder has, how old the work is."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from linzhang.vocabularies import LEVEL_CODES as LEVELS  # from the top down


class EscalationConfigError(ValueError):
    """config/escalation.toml is not usable."""


def level_above(level: str) -> str | None:
    """The level a task held at ``level`` climbs to (None at the city: the top)."""
    index = LEVELS.index(level)
    return LEVELS[index - 1] if index > 0 else None


def levels_between(owner_level: str, holder_level: str) -> int:
    """How many levels above its owner a task is held."""
    return LEVELS.index(owner_level) - LEVELS.index(holder_level)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    grace_workdays: Mapping[str, int]  # by the level climbed to: township, district, city
    aging_days: Sequence[int]
    # 督办: how many working days ahead a supervision order's deadline may be set.
    supervision_max_workdays: int = 20

    def aging_bucket(self, days_overdue: int) -> str:
        """'1-3', '4-7', ... '31+' for the configured bounds."""
        lower = 1
        for upper in self.aging_days:
            if days_overdue <= upper:
                return f"{lower}-{upper}"
            lower = upper + 1
        return f"{lower}+"

    def buckets(self) -> list[str]:
        labels, lower = [], 1
        for upper in self.aging_days:
            labels.append(f"{lower}-{upper}")
            lower = upper + 1
        return [*labels, f"{lower}+"]


def load_policy(path: Path) -> EscalationPolicy:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EscalationConfigError(f"{path} is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise EscalationConfigError(f"{path}: not valid TOML: {exc}") from None
    grace = raw.get("grace_workdays", {})
    for level in ("township", "district", "city"):
        value = grace.get(level)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 250:
            raise EscalationConfigError(f"{path}: grace_workdays.{level} must be a whole number of days from 1 to 250")
    unknown = set(grace) - {"township", "district", "city"}
    if unknown:
        raise EscalationConfigError(f"{path}: grace_workdays has unknown levels: {', '.join(sorted(unknown))}")
    aging = raw.get("board", {}).get("aging_days", [3, 7, 15, 30])
    if not aging or any(not isinstance(d, int) or d < 1 for d in aging) or list(aging) != sorted(set(aging)):
        raise EscalationConfigError(f"{path}: board.aging_days must be increasing whole numbers of days")
    supervision = raw.get("supervision_max_workdays", 20)
    if not isinstance(supervision, int) or isinstance(supervision, bool) or not 1 <= supervision <= 250:
        raise EscalationConfigError(f"{path}: supervision_max_workdays must be a whole number of days from 1 to 250")
    unknown_sections = set(raw) - {"grace_workdays", "board", "supervision_max_workdays"}
    if unknown_sections:
        raise EscalationConfigError(f"{path}: unknown sections: {', '.join(sorted(unknown_sections))}")
    return EscalationPolicy(dict(grace), tuple(aging), supervision)
