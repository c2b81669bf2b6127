"""Query parameters shared by list endpoints."""

from __future__ import annotations

from linzhang.container import Container
from linzhang.errors import InvalidInput


def page_size(container: Container, limit: int | None) -> int:
    """The requested page size within the configured bounds."""
    http = container.settings.http
    if limit is None:
        return http.default_page_size
    if limit < 1 or limit > http.max_page_size:
        raise InvalidInput(f"每页条数须在1至{http.max_page_size}之间", code="limit_out_of_range", field="limit")
    return limit
