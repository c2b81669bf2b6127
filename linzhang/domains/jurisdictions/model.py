"""Pure rules of the division tree: levels, codes, paths, and the checks an import must pass."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from linzhang.paths import PATH_SEPARATOR, child_path

CODE_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
NAME_MAX = 100


class Level(StrEnum):
    CITY = "city"  # 市
    DISTRICT = "district"  # 区县, and functional zones such as 两江新区
    TOWNSHIP = "township"  # 乡镇街道
    VILLAGE = "village"  # 村社区

    @property
    def depth(self) -> int:
        return LEVELS.index(self)

    @property
    def below(self) -> Level | None:
        """The level directly under this one (None under a village)."""
        index = self.depth + 1
        return LEVELS[index] if index < len(LEVELS) else None

    @property
    def above(self) -> Level | None:
        return LEVELS[self.depth - 1] if self.depth > 0 else None


LEVELS: tuple[Level, ...] = (Level.CITY, Level.DISTRICT, Level.TOWNSHIP, Level.VILLAGE)
LEVEL_LABELS = {Level.CITY: "市", Level.DISTRICT: "区县", Level.TOWNSHIP: "乡镇街道", Level.VILLAGE: "村社区"}


class InvalidDivision(ValueError):
    """A division that cannot sit in the tree; ``line`` is its line in an import file, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line
        self.reason = message


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: Level
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class PlacedDivision:
    """A division with the path it gets in the tree."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    path: str


def parse_division(code: str, name: str, level: str, parent_code: str | None, line: int | None = None) -> Division:
    """Check one row's own fields; where it sits in the tree is checked by :func:`place_divisions`."""
    code, name, parent = code.strip(), name.strip(), (parent_code or "").strip() or None
    if not CODE_PATTERN.match(code):
        raise InvalidDivision(f"code {code!r} must be 1-32 letters, digits, '-' or '_'", line)
    if not name:
        raise InvalidDivision(f"{code}: the name is empty", line)
    if len(name) > NAME_MAX:
        raise InvalidDivision(f"{code}: the name is longer than {NAME_MAX} characters", line)
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise InvalidDivision(f"{code}: 名称含有控制字符（如 NUL）", line)
    try:
        parsed_level = Level(level.strip())
    except ValueError:
        allowed = ", ".join(level.value for level in LEVELS)
        raise InvalidDivision(f"{code}: level {level!r} is not one of {allowed}", line) from None
    if parsed_level is Level.CITY:
        if parent is not None:
            raise InvalidDivision(f"{code}: a city has no parent, got {parent!r}", line)
    elif parent is None:
        raise InvalidDivision(f"{code}: a {parsed_level.value} needs a parent", line)
    if parent == code:
        raise InvalidDivision(f"{code}: a division cannot be its own parent", line)
    return Division(code, name, parsed_level, parent)


def place_division(division: Division, parent: PlacedDivision | None, line: int | None = None) -> PlacedDivision:
    """The division with its path, if it sits one level below its parent."""
    if division.level is Level.CITY:
        return PlacedDivision(division.code, division.name, division.level, None, child_path(None, division.code))
    if parent is None:
        raise InvalidDivision(f"{division.code}: unknown parent {division.parent_code}", line)
    if parent.level.below is not division.level:
        expected = parent.level.below.value if parent.level.below else "nothing (villages are the lowest level)"
        raise InvalidDivision(
            f"{division.code}: a {division.level.value} cannot sit under the {parent.level.value} "
            f"{parent.code}; expected {expected}",
            line,
        )
    return PlacedDivision(
        division.code, division.name, division.level, parent.code, child_path(parent.path, division.code)
    )


def place_divisions(
    rows: Iterable[tuple[int, Division]], existing: Mapping[str, PlacedDivision]
) -> list[PlacedDivision]:
    """Place every row of an import, in any order, against the tree that exists.

    Rules: a code appears once in the file; a code already in the tree keeps its parent (moving a
    division is a separate, explicit act); every parent is in the file or in the tree; each level
    sits one below its parent's. The first broken rule raises :class:`InvalidDivision` with its line.
    """
    by_code: dict[str, tuple[int, Division]] = {}
    for line, division in rows:
        if division.code in by_code:
            first = by_code[division.code][0]
            raise InvalidDivision(f"{division.code}: appears again (first on line {first})", line)
        known = existing.get(division.code)
        if known is not None and known.parent_code != division.parent_code:
            raise InvalidDivision(
                f"{division.code}: already in the tree under {known.parent_code or 'no parent'}, "
                f"not under {division.parent_code}",
                line,
            )
        if known is not None and known.level is not division.level:
            raise InvalidDivision(
                f"{division.code}: already in the tree as a {known.level.value}, not a {division.level.value}", line
            )
        by_code[division.code] = (line, division)

    placed: dict[str, PlacedDivision] = {}

    def resolve(code: str, trail: tuple[str, ...]) -> PlacedDivision | None:
        if code in placed:
            return placed[code]
        if code not in by_code:
            return existing.get(code)
        line, division = by_code[code]
        if code in trail:
            raise InvalidDivision(f"{code}: its parents form a cycle", line)
        parent = resolve(division.parent_code, (*trail, code)) if division.parent_code else None
        placed[code] = place_division(division, parent, line)
        return placed[code]

    # Walk in file order so the first error reported is the earliest line that breaks a rule.
    for line, division in sorted(by_code.values(), key=lambda item: item[0]):
        del line
        resolve(division.code, ())
    return [placed[code] for code in by_code]


__all__ = [
    "LEVELS",
    "LEVEL_LABELS",
    "PATH_SEPARATOR",
    "Division",
    "InvalidDivision",
    "Level",
    "PlacedDivision",
    "parse_division",
    "place_division",
    "place_divisions",
]
