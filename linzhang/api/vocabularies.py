"""The vocabularies a client shows: each code with the Chinese name people read."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from linzhang.container import Container
from linzhang.errors import NotFound
from linzhang.vocabularies import VOCABULARY_NAMES, vocabulary


class TermOut(msgspec.Struct):
    code: str
    name: str


class VocabularyOut(msgspec.Struct):
    items: list[TermOut]


class VocabularyController(Controller):
    path = "/vocabularies"
    tags = ["vocabularies"]

    @get("/{name:str}", sync_to_thread=False)
    def get_vocabulary(self, name: FromPath[str], container: NamedDependency[Container]) -> VocabularyOut:
        """A vocabulary in its order: ``categories`` (config/categories.toml), ``statuses``, ``kinds``,
        ``levels`` or ``posts`` (chiefs' roles, rangers and supervisors)."""
        found = vocabulary(name, container.settings.config_path)
        if found is None:
            raise NotFound(
                f"没有名为 {name} 的词表；可用的有 {'、'.join(VOCABULARY_NAMES)}", code="vocabulary_not_found"
            )
        return VocabularyOut([TermOut(term.code, term.name) for term in found.terms])
