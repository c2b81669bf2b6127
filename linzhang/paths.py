"""Jurisdiction paths: the codes from the city down, stored as ``/50/500101/500101001/``.

Every object that belongs to a jurisdiction stores this path. Scope checks and subtree queries
compare prefixes, and a prefix is a range on a plain B-tree index, on SQLite and PostgreSQL alike:
``path >= '/50/500101/' AND path < '/50/5001010'`` ('0' is the character after '/').
"""

from __future__ import annotations

from typing import Any

PATH_SEPARATOR = "/"
ROOT_PATH = PATH_SEPARATOR
_AFTER_SEPARATOR = chr(ord(PATH_SEPARATOR) + 1)


def child_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path or ROOT_PATH}{code}{PATH_SEPARATOR}"


def path_codes(path: str) -> list[str]:
    """``/50/500101/`` -> ``["50", "500101"]``."""
    return [code for code in path.split(PATH_SEPARATOR) if code]


def path_of_codes(codes: list[str]) -> str:
    return ROOT_PATH + "".join(f"{code}{PATH_SEPARATOR}" for code in codes)


def is_within(path: str, scope: str) -> bool:
    """Is ``path`` the scope's own jurisdiction or below it?"""
    return path.startswith(scope)


def is_below(path: str, scope: str) -> bool:
    """Is ``path`` strictly below the scope's jurisdiction?"""
    return path != scope and path.startswith(scope)


def subtree_bounds(scope: str) -> tuple[str, str]:
    """Half-open range of paths in the subtree of ``scope`` (itself included)."""
    return scope, scope[:-1] + _AFTER_SEPARATOR


def in_subtree(column: Any, scope: str) -> Any:
    """A SQL condition: ``column`` holds a path within ``scope``. Works with any SQLAlchemy column."""
    low, high = subtree_bounds(scope)
    return (column >= low) & (column < high)
