"""Parameters shared by the endpoints: bounded ids and page sizes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from linzhang.container import Container
from linzhang.errors import InvalidInput

# The largest id each kind of id column holds. An id beyond its column's range answers 400 before it
# reaches the database (where PostgreSQL would refuse to compare it, a 500).
MAX_ID_32 = 2**31 - 1
MAX_ID_64 = 2**63 - 1

# Ids of rows in 32-bit columns: accounts, chiefs.
Id32 = Annotated[int, Parameter(ge=1, le=MAX_ID_32, description="an id (1 to 2147483647)")]
# Ids of rows in 64-bit columns: tasks, deliveries, events.
Id64 = Annotated[int, Parameter(ge=1, le=MAX_ID_64, description="an id (1 to 9223372036854775807)")]
# An optional filter on a 64-bit id (``?parent_id=``).
OptionalId64 = Annotated[int | None, Parameter(ge=1, le=MAX_ID_64, description="an id (1 to 9223372036854775807)")]
# "After this id" positions of the feeds that resume from a 64-bit id (0: from the start).
AfterId64 = Annotated[int, Parameter(ge=0, le=MAX_ID_64, description="resume after this id (0: from the start)")]


def page_size(container: Container, limit: int | None) -> int:
    """The requested page size within the configured bounds."""
    http = container.settings.http
    if limit is None:
        return http.default_page_size
    if limit < 1 or limit > http.max_page_size:
        raise InvalidInput(f"每页条数须在1至{http.max_page_size}之间", code="limit_out_of_range", field="limit")
    return limit
