"""Every error as an RFC 9457 problem document (``application/problem+json``) with a clear ``detail``.

The ``detail`` is Chinese, for the person who reads it; ``code`` is a stable English machine code for
clients. The framework's own refusals (an unknown address, a wrong method, a body too large, a query
or body that does not validate) are translated here, so that nothing a person reads is English.
"""

from __future__ import annotations

import re
import traceback
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from linzhang.errors import LinzhangError, TooManyRequests

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("linzhang.http")
# Seconds a client is asked to wait when the database is restarting or its connections are all busy.
DATABASE_RETRY_AFTER_SECONDS = 5
# Characters of a failed statement kept in its log line.
MAX_LOGGED_STATEMENT = 2000


class ProblemDetails(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem document: every error the API answers with.

    Some problems carry more: ``field`` (the field at fault), ``errors`` (each invalid field), ``checks``
    (readiness), ``retry_after``-like hints are sent as headers.
    """

    type: Annotated[str, msgspec.Meta(description="always about:blank")] = "about:blank"
    title: Annotated[str, msgspec.Meta(description="the HTTP status in words")]
    status: Annotated[int, msgspec.Meta(ge=400, le=599)]
    detail: Annotated[str, msgspec.Meta(description="what went wrong, in Chinese, for a person")]
    code: Annotated[str, msgspec.Meta(description="a stable English machine code for clients", pattern="^[a-z0-9_]+$")]
    instance: Annotated[str, msgspec.Meta(description="the path that was asked")] = ""
    field: Annotated[str, msgspec.Meta(description="the parameter or body field at fault")] = ""


def problem(
    status: int, detail: str, *, title: str | None = None, instance: str | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


# JSON types as a person names them.
_TYPE_NAMES = {
    "str": "文本",
    "int": "整数",
    "float": "数字",
    "decimal": "数字",
    "bool": "是/否（true/false）",
    "object": "对象",
    "array": "列表",
    "null": "空值",
    "date": "日期（YYYY-MM-DD）",
    "datetime": "带时区的时间（ISO 8601）",
}
_OPERATORS = {">=": "不小于", "<=": "不大于", ">": "大于", "<": "小于"}
_MESSAGES: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"Expected `(\w+)`, got `(\w+)`"),
        lambda m: f"应为{_TYPE_NAMES.get(m[1], m[1])}，实为{_TYPE_NAMES.get(m[2], m[2])}",
    ),
    (
        re.compile(r"Expected `(?:str|array|object)` of length (>=|<=) (\d+)"),
        lambda m: f"长度须{_OPERATORS[m[1]]}{m[2]}",
    ),
    (re.compile(r"Expected `\w+` (>=|<=|>|<) (\S+)"), lambda m: f"须{_OPERATORS[m[1]]}{m[2]}"),
    (re.compile(r"Object missing required field `(\w+)`"), lambda m: f"缺少必填字段 {m[1]}"),
    (re.compile(r"Object contains unknown field `(\w+)`"), lambda m: f"包含未知字段 {m[1]}"),
    (re.compile(r"Invalid enum value (.+)"), lambda m: f"取值 {m[1]} 不在允许的范围内"),
    (
        re.compile(r"Missing required (?:query |path |header |cookie )?parameter '?(\w+)'?"),
        lambda m: f"缺少参数 {m[1]}",
    ),
    (re.compile(r"Invalid (?:RFC3339 encoded )?datetime|Invalid ISO 8601"), lambda m: "日期或时间格式无效"),
    (re.compile(r"Invalid (?:RFC3339 encoded )?date"), lambda m: "日期格式无效（YYYY-MM-DD）"),
]


_MISSING_PARAMETER = re.compile(r"Missing required (?:query |path |header |cookie )?parameter '?(\w+)'?")


def _translated(message: str) -> str:
    for pattern, render in _MESSAGES:
        match = pattern.search(message)
        if match:
            return str(render(match))
    return "取值无效"


def _on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [error for error in exc.extra if isinstance(error, dict)] if isinstance(exc.extra, list) else []
    parts = []
    for error in errors:
        key, message = error.get("key"), _translated(str(error.get("message", "")))
        parts.append(f"{key}：{message}" if key else message)
    first = errors[0] if errors else {}
    extra: dict[str, Any] = {"errors": errors}
    if first.get("key"):
        extra["field"] = first["key"]
    missing = _MISSING_PARAMETER.search(str(exc.detail))
    if not errors and missing:
        # A required query, path or header parameter is absent: the framework names it in its message.
        parts = [f"缺少参数 {missing[1]}"]
        extra["field"] = missing[1]
    return problem(
        400,
        "请求内容有误：" + "；".join(parts) if parts else "请求内容有误",
        instance=request.url.path,
        code="invalid_request",
        **extra,
    )


# The framework's refusals by status: the Chinese detail and the machine code.
_HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("请求无效", "bad_request"),
    401: ("请先登录", "unauthorized"),
    403: ("无权进行此操作", "forbidden"),
    404: ("找不到该地址", "route_not_found"),
    405: ("该地址不支持此请求方法", "method_not_allowed"),
    413: ("请求内容过大", "request_too_large"),
    415: ("不支持该内容类型", "unsupported_media_type"),
    429: ("请求过于频繁，请稍后再试", "too_many_requests"),
    500: ("服务器内部错误，已记录", "internal_error"),
    503: ("服务暂不可用，请稍后再试", "service_unavailable"),
}


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    detail, code = _HTTP_PROBLEMS.get(exc.status_code, (HTTPStatus(exc.status_code).phrase, "http_error"))
    if exc.status_code == 400 and "JSON" in str(exc.detail):
        detail, code = "请求内容不是有效的 JSON", "malformed_json"
    elif exc.status_code == 413:
        limit = request.app.request_max_body_size
        detail = f"请求内容过大（上限 {limit} 字节）" if limit else detail
    response = problem(exc.status_code, detail, instance=request.url.path, code=code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


problem_for_http = _on_http


def _on_domain(request: Request[Any, Any, Any], exc: LinzhangError) -> Response[dict[str, Any]]:
    response = problem(
        exc.status_code, exc.detail, title=exc.title, instance=request.url.path, code=exc.code, **exc.extra
    )
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _on_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    if not (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated):
        return _on_unexpected(request, exc)
    # The database is restarting or out of reach: nothing was written; the client may try again soon.
    log.warning("request.database_unavailable", path=request.url.path, method=request.method, error=type(exc).__name__)
    response = problem(
        503,
        "数据库暂时不可用，本次操作未保存，请稍后重试",
        instance=request.url.path,
        code="database_unavailable",
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _on_pool_exhausted(request: Request[Any, Any, Any], exc: PoolTimeout) -> Response[dict[str, Any]]:
    log.warning("request.database_busy", path=request.url.path, method=request.method)
    response = problem(503, "系统繁忙，请稍后重试", instance=request.url.path, code="database_busy")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, DBAPIError):
        # The database's own message may quote the values (PostgreSQL's "Failing row contains (...)",
        # "Key (...)=(...) already exists"): log where it failed and the statement, never the message.
        log.error(
            "request.failed",
            path=request.url.path,
            method=request.method,
            error=type(exc).__name__,
            sqlstate=getattr(exc.orig, "sqlstate", None),
            statement=(exc.statement or "")[:MAX_LOGGED_STATEMENT],
            stack="".join(traceback.format_tb(exc.__traceback__)),
        )
    else:
        log.exception("request.failed", path=request.url.path, method=request.method)
    return problem(500, "服务器内部错误，已记录", instance=request.url.path, code="internal_error")


exception_handlers: ExceptionHandlersMap = {
    ValidationException: _on_validation,
    HTTPException: _on_http,
    LinzhangError: _on_domain,
    DBAPIError: _on_database_error,
    PoolTimeout: _on_pool_exhausted,
    Exception: _on_unexpected,
}

__all__ = ["PROBLEM_MEDIA_TYPE", "MediaType", "ProblemDetails", "exception_handlers", "problem"]
