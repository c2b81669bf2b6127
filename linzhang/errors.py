"""Errors services raise; the HTTP layer turns each into an RFC 9457 problem with its status."""

from __future__ import annotations

from typing import Any


class LinzhangError(Exception):
    status_code = 400
    title = "Bad Request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(LinzhangError):
    """The request is well-formed but breaks a rule (quantities that do not sum, a date in the past)."""

    status_code = 422
    title = "Unprocessable Content"


class NotFound(LinzhangError):
    """No such object, or one outside the caller's jurisdiction: both answer the same."""

    status_code = 404
    title = "Not Found"


class Conflict(LinzhangError):
    """The object exists already, or its state does not allow the action."""

    status_code = 409
    title = "Conflict"


class PermissionDenied(LinzhangError):
    """The caller may see the object but their role may not do this to it."""

    status_code = 403
    title = "Forbidden"


class Unauthorized(LinzhangError):
    status_code = 401
    title = "Unauthorized"
