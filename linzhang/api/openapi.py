"""What the OpenAPI document says of every operation beyond its handler's own signature.

Set in one place for every route the document lists, so that a new route is described like the others:
the problem documents (``application/problem+json``) each operation may answer with, whether it needs a
bearer token, and a summary taken from the handler's docstring.

A handler that reads its body by hand (a multipart form) describes it with ``opt={"request_body": f}``:
``f(container)`` gives the document's request body (its fields may depend on the configuration, such as
the categories a form accepts).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, RequestBody, SecurityRequirement
from litestar.routes import HTTPRoute

from linzhang.api.problems import PROBLEM_MEDIA_TYPE, ProblemDetails
from linzhang.container import Container

BEARER: SecurityRequirement = {"bearer": []}

# The problems any operation may answer with, and what each means to a client.
PROBLEMS: dict[int, str] = {
    400: "请求无效：参数、JSON 或字段不符合本文档（code 说明原因，field 指出字段）",
    401: "未登录或令牌无效、已过期、已被吊销（登录时：用户名或密码错误，或账号已停用）",
    403: "无权进行此操作",
    404: "对象不存在，或不在调用者的辖区内（两者的回答完全相同）",
    409: "与当前状态冲突（如重复提交、状态已变化、他人正在处理）",
    413: "请求内容过大",
    422: "请求格式正确，但不符合业务规则",
    429: "请求过于频繁（登录失败次数过多）；按 Retry-After 秒后再试",
    503: "数据库或消息中间件暂不可用，本次操作未保存；按 Retry-After 秒后再试",
}
# Operations without a token (liveness, readiness, signing in) are never refused for lacking one (signing
# in with wrong credentials is a 401 of its own).
ANONYMOUS_PROBLEMS = frozenset({400, 401, 404, 413, 422, 429, 503})


def docstring_of(handler: HTTPRouteHandler) -> str | None:
    """The docstring of the handler's own function (a synchronous one is wrapped to run in a thread)."""
    fn: Any = handler.fn
    fn = getattr(fn, "func", fn)  # the thread-pool wrapper keeps the function as ``func``
    fn = getattr(fn, "func", fn)  # and a partial keeps it likewise
    return inspect.cleandoc(fn.__doc__) if fn.__doc__ else None


def _cut(text: str, stops: str) -> str:
    """``text`` up to the first of ``stops`` outside parentheses (an ASCII one only before a space)."""
    depth = 0
    for index, char in enumerate(text):
        depth += char in "(（"
        depth -= char in ")）"
        if depth == 0 and char in stops and (not char.isascii() or text[index + 1 : index + 2] in ("", " ")):
            return text[:index]
    return text


def summary_of(doc: str) -> str:
    """The docstring's first sentence; a long one to its first colon or semicolon, when that says enough."""
    sentence = _cut(doc.split("\n\n", 1)[0].replace("\n", " "), ".。").strip()
    if len(sentence) > 90:
        clause = _cut(sentence, ":;：；").strip()
        if len(clause) >= 20:
            return clause
    return sentence


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        description=description,
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


RequestBodyOf = Callable[[Container], RequestBody]


def _operation_with(body: RequestBody) -> type[Operation]:
    """The document's operation class for a handler whose body the framework does not read itself."""

    @dataclass
    class DescribedOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return DescribedOperation


def describe_operations(app: Litestar, container: Container) -> None:
    """Give every operation of the document its problem responses, its security and a real summary."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            anonymous = bool(handler.opt.get("exclude_from_auth"))
            # No document-wide requirement: each operation says whether it needs a token.
            handler.security = [] if anonymous else [BEARER]
            statuses = ANONYMOUS_PROBLEMS if anonymous else PROBLEMS.keys()
            responses: dict[int, Any] = {status: _problem(PROBLEMS[status]) for status in sorted(statuses)}
            responses.update(handler.responses or {})
            handler.responses = responses
            doc = docstring_of(handler)
            if doc and handler.description is None:
                handler.description = doc
            if doc and handler.summary is None:
                handler.summary = summary_of(doc)
            body_of: RequestBodyOf | None = handler.opt.get("request_body")
            if body_of is not None:
                handler.operation_class = _operation_with(body_of(container))
