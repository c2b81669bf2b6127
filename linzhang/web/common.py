"""What every page controller needs: the domains' contexts, names beside codes, the category vocabulary."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from linzhang.container import Container
from linzhang.domains.chiefs.inbox import InboxContext
from linzhang.domains.jurisdictions import public as jurisdictions
from linzhang.domains.tasks.context import TasksContext
from linzhang.vocabularies import Vocabulary, load_categories


@functools.cache
def _categories_at(path: Path) -> Vocabulary:
    return load_categories(path)


def categories(container: Container) -> Vocabulary:
    """The task categories of config/categories.toml, read once per process."""
    return _categories_at(container.settings.config_file("categories.toml"))


def category_name(container: Container, code: str | None) -> str:
    return categories(container).name_of(code) if code else "未分类"


def tasks_context(container: Container) -> TasksContext:
    return container.context(TasksContext)


def inbox_context(container: Container) -> InboxContext:
    return InboxContext(
        container.clock, container.calendar, container.lookup_jurisdiction, container.settings.inbox.due_soon_workdays
    )


def names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Jurisdiction names by code (a code the tree does not know shows as itself)."""
    wanted = sorted({code for code in codes if code})
    found = jurisdictions.lookup_many(session, wanted)
    return {code: found[code].name if code in found else code for code in wanted}


def page_limit(container: Container) -> int:
    return container.settings.http.max_page_size
