"""Keyset pagination: ``{items, next}`` where ``next`` is an opaque cursor for the following page."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from linzhang.errors import InvalidInput

T = TypeVar("T")
K = TypeVar("K")

# A cursor this server issues is a short base64 JSON key; anything longer is refused unread.
MAX_CURSOR_LENGTH = 1024
# The parts a cursor's key is made of, each bounded like the column it continues from.
CursorId32 = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
CursorId64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
CursorRank = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
CursorText = Annotated[str, msgspec.Meta(max_length=400)]
CursorDate = dt.date

_DAMAGED = "翻页游标无效，请从第一页重新开始"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: type[K]) -> K | None:
    """The key inside a cursor as ``shape`` (``tuple[CursorDate, CursorId64]``...), or None for the first page.

    The key is decoded straight into its type, so a cursor holding anything else (nested JSON, a huge
    integer, ``1e400``) fails at its first wrong byte: a 422, never a 500.
    """
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput(_DAMAGED, code="invalid_cursor", field="cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return msgspec.json.decode(base64.urlsafe_b64decode(padded.encode()), type=shape)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise InvalidInput(_DAMAGED, code="invalid_cursor", field="cursor") from None


def page_of(rows: list[T], limit: int, key_of: Any) -> Page[T]:
    """Given up to ``limit + 1`` rows, the page and the cursor after its last row."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(key_of(rows[-1])))
    return Page(rows, None)
