"""Configured vocabularies: a stable English code beside the Chinese name people read."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


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
