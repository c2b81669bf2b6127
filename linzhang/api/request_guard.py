"""Input every endpoint refuses before any handler runs: NUL characters and deeply nested bodies.

A NUL in a text field would reach PostgreSQL (which refuses it: a 500) or be stored where no one can
see it; a body nested thousands deep would exhaust the JSON decoder's recursion. Both answer a 400
problem document here, for every route (the unauthenticated ones included), and nothing is written.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Request

from linzhang.errors import BadRequest

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Bodies of these kinds carry files, not JSON: their own parsers judge them.
_FILE_CONTENT_TYPES = ("multipart/", "application/octet-stream")
# A JSON string (with its escapes), removed before counting brackets.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# \u0000 preceded by an even number of backslashes: an escaped NUL, not the text "\u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _BRACKETS)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in ``body`` (brackets inside strings do not count)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(accumulate(_DEPTH_STEP[byte] for byte in brackets))


def has_nul(body: bytes) -> bool:
    return b"\x00" in body or _ESCAPED_NUL.search(body) is not None


def _refuse_nul() -> BadRequest:
    return BadRequest("请求中不能含有空字符（NUL）", code="nul_character")


def guard_request(max_depth: int) -> Any:
    """A ``before_request`` hook refusing NUL characters anywhere and bodies nested beyond ``max_depth``."""

    async def before_request(request: Request[Any, Any, Any]) -> None:
        query = request.scope.get("query_string", b"")
        if "\x00" in request.scope["path"] or b"\x00" in query or b"%00" in query.lower():
            raise _refuse_nul()
        if request.method not in _BODY_METHODS:
            return
        if request.headers.get("content-type", "").lower().startswith(_FILE_CONTENT_TYPES):
            return
        body = await request.body()
        if has_nul(body):
            raise _refuse_nul()
        if json_depth(body) > max_depth:
            raise BadRequest(f"请求体嵌套过深（最多 {max_depth} 层）", code="body_too_deep")

    return before_request
