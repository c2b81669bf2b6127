"""Pure rules of the division tree: levels, codes, paths, and the checks an import must pass."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from linzhang.paths import PATH_SEPARATOR, child_path
from linzhang.vocabularies import LEVELS as LEVEL_NAMES

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
# Their Chinese names are the shared vocabulary's (linzhang/vocabularies.py).
LEVEL_LABELS = {level: LEVEL_NAMES.name_of(level.value) for level in LEVELS}


class InvalidDivision(ValueError):
    """A division that cannot sit in the tree; ``line`` is its line in an import file, when known."""

    def __init__(self, message: str, line: int | None = None, *, code: str = "division_invalid") -> None:
        super().__init__(f"第{line}行：{message}" if line is not None else message)
        self.line = line
        self.reason = message
        self.code = code


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
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidDivision(f"代码 {code!r} 须为1至32位字母、数字、- 或 _", line, code="division_code_invalid")
    if not name:
        raise InvalidDivision(f"{code}：名称为空", line, code="division_name_empty")
    if len(name) > NAME_MAX:
        raise InvalidDivision(f"{code}：名称超过{NAME_MAX}个字", line, code="division_name_too_long")
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise InvalidDivision(f"{code}：名称含有控制字符（如 NUL）", line, code="division_name_control_character")
    try:
        parsed_level = Level(level.strip())
    except ValueError:
        allowed = "、".join(f"{level.value}（{LEVEL_LABELS[level]}）" for level in LEVELS)
        raise InvalidDivision(
            f"{code}：层级 {level!r} 不是 {allowed} 之一", line, code="division_level_invalid"
        ) from None
    if parsed_level is Level.CITY:
        if parent is not None:
            raise InvalidDivision(f"{code}：市没有上级，却给了 {parent!r}", line, code="division_city_with_parent")
    elif parent is None:
        raise InvalidDivision(f"{code}：{LEVEL_LABELS[parsed_level]}须有上级", line, code="division_parent_required")
    if parent == code:
        raise InvalidDivision(f"{code}：不能以自己为上级", line, code="division_own_parent")
    return Division(code, name, parsed_level, parent)


def place_division(division: Division, parent: PlacedDivision | None, line: int | None = None) -> PlacedDivision:
    """The division with its path, if it sits one level below its parent."""
    if division.level is Level.CITY:
        return PlacedDivision(division.code, division.name, division.level, None, child_path(None, division.code))
    if parent is None:
        raise InvalidDivision(
            f"{division.code}：上级 {division.parent_code} 不存在", line, code="division_parent_unknown"
        )
    if parent.level.below is not division.level:
        expected = LEVEL_LABELS[parent.level.below] if parent.level.below else "无（村社区是最低一级）"
        raise InvalidDivision(
            f"{division.code}：{LEVEL_LABELS[division.level]}不能隶属于{LEVEL_LABELS[parent.level]} "
            f"{parent.code}，其下级应为{expected}",
            line,
            code="division_level_mismatch",
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
            raise InvalidDivision(f"{division.code}：重复出现（首次在第{first}行）", line, code="division_duplicate")
        known = existing.get(division.code)
        if known is not None and known.parent_code != division.parent_code:
            raise InvalidDivision(
                f"{division.code}：已隶属于 {known.parent_code or '（无上级）'}，不能改隶 {division.parent_code}",
                line,
                code="division_parent_changed",
            )
        if known is not None and known.level is not division.level:
            raise InvalidDivision(
                f"{division.code}：已是{LEVEL_LABELS[known.level]}，不能改为{LEVEL_LABELS[division.level]}",
                line,
                code="division_level_changed",
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
            raise InvalidDivision(f"{code}：上级关系形成循环", line, code="division_cycle")
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
