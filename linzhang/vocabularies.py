"""Configured vocabularies: a stable English code beside the Chinese name people read."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from linzhang.settings import config_file


@dataclass(frozen=True, slots=True)
class Term:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """An ordered list of terms; ``name_of`` answers the Chinese name of a code."""

    terms: tuple[Term, ...]

    def __contains__(self, code: object) -> bool:
        return any(term.code == code for term in self.terms)

    def name_of(self, code: str) -> str:
        for term in self.terms:
            if term.code == code:
                return term.name
        return code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(term.code for term in self.terms)


def _built_in(*pairs: tuple[str, str]) -> Vocabulary:
    return Vocabulary(tuple(Term(code, name) for code, name in pairs))


# The built-in vocabularies: codes fixed by the code base, Chinese names people read. The API
# (``GET /api/v1/vocabularies/{name}``), the pages and the exports take the names from here.
STATUSES = _built_in(("open", "办理中"), ("submitted", "待核查/验收"), ("done", "已办结"))
KINDS = _built_in(("target", "目标任务"), ("issue", "问题整改"), ("order", "林长令"))
LEVELS = _built_in(("city", "市"), ("district", "区县"), ("township", "乡镇街道"), ("village", "村社区"))
# The levels of the jurisdiction tree from the top down: the one list every rule about levels reads.
LEVEL_CODES: tuple[str, ...] = LEVELS.codes
# Posts: the chiefs' roles (总林长 / 副总林长 / 林长) and the people working under them (护林员 / 监管员).
POSTS = _built_in(
    ("general", "总林长"),
    ("deputy", "副总林长"),
    ("chief", "林长"),
    ("ranger", "护林员"),
    ("supervisor", "监管员"),
)
# The same levels as documents name them: a workbook's sheet, and a level's units taken together
# (a title's "（乡镇（街道））", a column's "区县内排名", "全市排名").
LEVEL_SHEETS = {"city": "市级", "district": "区县", "township": "乡镇街道", "village": "村社区"}
LEVEL_AREAS = {"city": "全市", "district": "区县", "township": "乡镇（街道）", "village": "村（社区）"}
BUILT_IN: dict[str, Vocabulary] = {"statuses": STATUSES, "kinds": KINDS, "levels": LEVELS, "posts": POSTS}


def load_categories(path: Path) -> Vocabulary:
    """The task categories of ``config/categories.toml``; a malformed file stops start-up."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    terms = []
    for entry in data.get("category", []):
        code, name = entry.get("code"), entry.get("name")
        if not isinstance(code, str) or not isinstance(name, str) or not code or not name:
            raise ValueError(f"{path}: every category needs a code and a name")
        terms.append(Term(code, name))
    if not terms or len({t.code for t in terms}) != len(terms):
        raise ValueError(f"{path}: categories must be listed, each code once")
    return Vocabulary(tuple(terms))


CATEGORIES_FILE = "categories.toml"


@functools.cache
def categories_at(config_dir: Path) -> Vocabulary:
    """The task categories of a config folder, read once per process."""
    return load_categories(config_file(CATEGORIES_FILE, config_dir))


def vocabulary(name: str, config_dir: Path) -> Vocabulary | None:
    """A vocabulary by its name (``categories``, ``statuses``, ``kinds``, ``levels``, ``posts``), or None."""
    if name == "categories":
        return categories_at(config_dir)
    return BUILT_IN.get(name)


VOCABULARY_NAMES = ("categories", *BUILT_IN)
