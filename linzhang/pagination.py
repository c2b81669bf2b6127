"""Keyset pagination: ``{items, next}`` where ``next`` is an opaque cursor for the following page."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from linzhang.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """The key inside a cursor, or None for the first page; a damaged cursor is a 400-class error."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("翻页游标无效", code="cursor_invalid", field="cursor") from None


def page_of(rows: list[T], limit: int, key_of: Any) -> Page[T]:
    """Given up to ``limit + 1`` rows, the page and the cursor after its last row."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(key_of(rows[-1])))
    return Page(rows, None)
