"""The levels of the division tree are named in one place (linzhang/vocabularies.py)."""

from __future__ import annotations

from linzhang.domains.jurisdictions.model import LEVEL_LABELS, LEVELS, Level
from linzhang.vocabularies import LEVEL_AREAS, LEVEL_SHEETS
from linzhang.vocabularies import LEVELS as LEVEL_NAMES


def test_the_trees_levels_are_the_vocabularys_codes_in_order() -> None:
    assert tuple(level.value for level in LEVELS) == LEVEL_NAMES.codes == tuple(Level)


def test_every_name_of_a_level_comes_from_the_vocabulary_module() -> None:
    assert {level.value: name for level, name in LEVEL_LABELS.items()} == {
        term.code: term.name for term in LEVEL_NAMES.terms
    }
    assert tuple(LEVEL_SHEETS) == tuple(LEVEL_AREAS) == LEVEL_NAMES.codes
