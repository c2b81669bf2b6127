"""Every error as an RFC 9457 problem document (``application/problem+json``) with a clear ``detail``."""

from __future__ import annotations

import traceback
from http import HTTPStatus
from typing import Any

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


def _validation_detail(errors: Any) -> str:
    if not isinstance(errors, list) or not errors:
        return "请求无效"
    parts = []
    for error in errors:
        if isinstance(error, dict):
            key = error.get("key")
            message = error.get("message", "invalid")
            parts.append(f"{key}: {message}" if key else str(message))
    return "请求无效：" + "; ".join(parts) if parts else "请求无效"


def _on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    return problem(400, _validation_detail(errors), instance=request.url.path, code="invalid_request", errors=errors)


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    detail = exc.detail or HTTPStatus(exc.status_code).phrase
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
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
    return problem(500, "an internal error occurred; it has been logged", instance=request.url.path)


exception_handlers: ExceptionHandlersMap = {
    ValidationException: _on_validation,
    HTTPException: _on_http,
    LinzhangError: _on_domain,
    DBAPIError: _on_database_error,
    PoolTimeout: _on_pool_exhausted,
    Exception: _on_unexpected,
}

__all__ = ["PROBLEM_MEDIA_TYPE", "MediaType", "exception_handlers", "problem"]
