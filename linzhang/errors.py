"""Errors services raise; the HTTP layer turns each into an RFC 9457 problem with its status.

Every error carries a ``detail`` a person reads (Chinese) and a stable English machine ``code`` for
clients (``task_not_found``, ``quantity_not_summing`` ...). The code defaults to the class's own.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LinzhangError(Exception):
    status_code = 400
    title = "Bad Request"
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.extra = extra


class BadRequest(LinzhangError):
    """The request itself is malformed (a NUL character, a body nested too deeply)."""

    status_code = 400
    title = "Bad Request"
    default_code = "bad_request"


class InvalidInput(LinzhangError):
    """The request is well-formed but breaks a rule (quantities that do not sum, a date in the past)."""

    status_code = 422
    title = "Unprocessable Content"
    default_code = "invalid_input"


class NotFound(LinzhangError):
    """No such object, or one outside the caller's jurisdiction: both answer the same."""

    status_code = 404
    title = "Not Found"
    default_code = "not_found"


class Conflict(LinzhangError):
    """The object exists already, or its state does not allow the action."""

    status_code = 409
    title = "Conflict"
    default_code = "conflict"


class PermissionDenied(LinzhangError):
    """The caller may see the object but their role may not do this to it."""

    status_code = 403
    title = "Forbidden"
    default_code = "forbidden"


class Gone(LinzhangError):
    """What was asked for existed once and was purged (the event feed before its retention horizon)."""

    status_code = 410
    title = "Gone"
    default_code = "gone"


class Unauthorized(LinzhangError):
    status_code = 401
    title = "Unauthorized"
    default_code = "unauthorized"


class TooManyRequests(LinzhangError):
    """The caller must wait; ``retry_after`` seconds go into the ``Retry-After`` header."""

    status_code = 429
    title = "Too Many Requests"
    default_code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail, code=code, **extra)
        self.retry_after = retry_after


# 不存在: what every kind of object answers when it does not exist *or* lies outside the caller's
# jurisdiction. One wording per kind, so that the two cases cannot be told apart (no oracle).
MISSING: dict[str, tuple[str, str]] = {
    "task": ("任务不存在", "task_not_found"),
    "jurisdiction": ("辖区不存在", "jurisdiction_not_found"),
    "chief": ("林长不存在", "chief_not_found"),
    "user": ("账号不存在", "user_not_found"),
    "assessment": ("考核结果不存在", "assessment_not_found"),
    "delivery": ("死信投递不存在", "delivery_not_found"),
    "ranger": ("护林员不存在", "ranger_not_found"),
    "patrol": ("巡护记录不存在", "patrol_not_found"),
    "field_report": ("巡林上报不存在", "field_report_not_found"),
    "photo": ("照片不存在", "photo_not_found"),
    "receipt": ("回执编号不存在", "receipt_not_found"),
}


def not_found(kind: str, *, field: str | None = None) -> NotFound:
    """The one answer for a missing or foreign object of ``kind`` (``task``, ``jurisdiction`` ...).

    ``kind`` may name the object (``"task 12"``); only its first word counts, so the answer never
    depends on which object was asked for.
    """
    detail, code = MISSING.get(kind.split(" ", 1)[0], ("对象不存在", "not_found"))
    return NotFound(detail, code=code, field=field) if field else NotFound(detail, code=code)
