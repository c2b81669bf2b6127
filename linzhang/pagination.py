"""Keyset pagination: ``{items, next}`` where ``next`` is an opaque cursor for the following page.

Every paginated listing goes through one :class:`Keyset`: the columns it is ordered by, the typed
shape of its cursor's key and how a row gives its key. The keyset writes the "after the last row"
condition and the order itself, so no listing spells a cursor condition by hand.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

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


@dataclass(frozen=True, slots=True)
class Keyset(Generic[K]):
    """One listing's order and its cursor.

    ``columns`` order the rows (the last one unique, so the order is total); ``shape`` is the type of
    the key a cursor holds (``tuple[CursorDate, CursorId64]``, or one part alone such as ``CursorText``),
    decoded by :func:`decode_cursor`; ``key`` gives a row's key, the values of ``columns`` in order,
    as JSON (dates as ISO text). ``columns`` may be empty for a list sorted in memory (:meth:`items`).
    """

    columns: tuple[ColumnElement[Any] | QueryableAttribute[Any], ...]
    shape: type[K]
    key: Callable[[Any], Any]

    def after(self, cursor: str | None) -> ColumnElement[bool] | None:
        """The condition "after the cursor's key" in the keyset's order, or None on the first page."""
        last = decode_cursor(cursor, self.shape)
        if last is None:
            return None
        values: Sequence[Any] = last if isinstance(last, tuple) else (last,)
        if len(values) != len(self.columns):
            raise ValueError("a keyset's cursor has one part per column")
        # (a, b, c) > (x, y, z), spelled out so each database uses the order's index for it.
        return or_(
            *(
                and_(*(c == v for c, v in zip(self.columns[:n], values, strict=False)), column > value)
                for n, (column, value) in enumerate(zip(self.columns, values, strict=True))
            )
        )

    def page(
        self, session: Session, query: Select[Any], cursor: str | None, limit: int, *, scalars: bool = False
    ) -> Page[Any]:
        """One page of ``query`` after the cursor, in the keyset's order: ``limit + 1`` rows read, ``limit`` kept.

        ``scalars`` for a query of one entity (``select(Task)``) whose rows are the entities themselves.
        """
        condition = self.after(cursor)
        if condition is not None:
            query = query.where(condition)
        result = session.execute(query.order_by(*self.columns).limit(limit + 1))
        rows: list[Any] = list(result.scalars()) if scalars else list(result.all())
        return page_of(rows, limit, self.key)

    def items(self, items: Sequence[T], cursor: str | None, limit: int) -> Page[T]:
        """One page of ``items`` (already sorted by ``key``, a key of numbers and text) after the cursor."""
        last = decode_cursor(cursor, self.shape)
        rows = list(items)
        if last is not None:
            bound = tuple(last) if isinstance(last, tuple) else last
            rows = [item for item in rows if _comparable(self.key(item)) > bound]
        return page_of(rows[: limit + 1], limit, self.key)


def _comparable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key
