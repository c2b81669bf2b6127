"""Parameters shared by the endpoints: bounded ids and page sizes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar.params import Parameter

from linzhang.container import Container
from linzhang.errors import InvalidInput

# The largest id each kind of id column holds. An id beyond its column's range answers 400 before it
# reaches the database (where PostgreSQL would refuse to compare it, a 500). The 64-bit columns are
# bounded by the largest integer every JSON client reads exactly (2^53 - 1): an id is a JSON number,
# and a bound a client cannot write exactly is no bound for it (nor for the OpenAPI document).
MAX_ID_32 = 2**31 - 1
MAX_ID_64 = 2**53 - 1

# Ids of rows in 32-bit columns: accounts, chiefs.
Id32 = Annotated[int, Parameter(ge=1, le=MAX_ID_32, description="an id (1 to 2147483647)")]
# Ids of rows in 64-bit columns: tasks, deliveries, events.
Id64 = Annotated[int, Parameter(ge=1, le=MAX_ID_64, description="an id (1 to 9007199254740991)")]
# An optional filter on a 64-bit id (``?parent_id=``).
OptionalId64 = Annotated[int | None, Parameter(ge=1, le=MAX_ID_64, description="an id (1 to 9007199254740991)")]
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


def documented(description: str, **schema: Any) -> msgspec.Meta:
    """A struct field's description and the limits its checks enforce, as the OpenAPI document states them.

    The checks themselves stay where they are (the domains, with their Chinese details and codes); this
    only says in the schema what they accept, so that clients - and the contract test - know it.
    """
    return msgspec.Meta(extra_json_schema={"description": description, "extra": schema})


def _parameter(description: str, **schema: Any) -> Any:
    return Parameter(description=description, schema_extra=schema)


# 2021 (a year) or 2021Q3 (a quarter), 2000 to 2100 (linzhang.domains.assessments.model.parse_period).
PERIOD_PATTERN = r"^(20[0-9]{2}|2100)(Q[1-4])?$"
PERIOD_TEXT = "考核期：年份（如 2021）或季度（如 2021Q3），2000—2100"
# A division code (linzhang.domains.jurisdictions.model.CODE_PATTERN).
CODE_PATTERN = r"^[0-9A-Za-z_-]{1,32}$"
CODE_TEXT = "辖区代码（1至32位字母、数字、- 或 _）"
# Text a person must write: something besides spaces (and no NUL, which every endpoint refuses).
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
# A quantity as a decimal string (a JSON number is the other form): four decimal places at most.
QUANTITY_STRING = r"^[0-9]{1,13}(\.[0-9]{1,4})?$"
MAX_PAGE = 500

Period = Annotated[str, _parameter(PERIOD_TEXT, pattern=PERIOD_PATTERN)]
JurisdictionCode = Annotated[str, _parameter(CODE_TEXT, pattern=CODE_PATTERN)]
OptionalJurisdictionCode = Annotated[str | None, _parameter(CODE_TEXT, pattern=CODE_PATTERN)]
PageLimit = Annotated[
    int | None, _parameter(f"每页条数（1至{MAX_PAGE}，默认见配置 http.default_page_size）", minimum=1, maximum=MAX_PAGE)
]

LEVELS = ["city", "district", "township", "village"]
LevelQuery = Annotated[str, _parameter("层级：city、district、township 或 village", enum=LEVELS)]
# The levels work climbs to (escalation boards and their weekly counts).
EscalationLevelQuery = Annotated[str, _parameter("层级：city、district 或 township", enum=LEVELS[:-1])]
RankingScope = Annotated[str | None, _parameter("排名范围：city（全市）或考核办法为该层级规定的范围", enum=LEVELS)]
Month = Annotated[
    str, _parameter("月份：YYYY-MM（如 2026-10），2000—2100 年", pattern=r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$")
]
Year = Annotated[int, Parameter(ge=2000, le=2100, description="年份（2000—2100）")]
GapsLimit = Annotated[int, _parameter("最多列出的缺口数（0至10000）", minimum=0, maximum=10000)]

PeriodField = Annotated[str, documented(PERIOD_TEXT, pattern=PERIOD_PATTERN)]
CodeField = Annotated[str, documented(CODE_TEXT, pattern=CODE_PATTERN)]
# A name as the division tree keeps it: no control characters, not blank.
NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"


def limited_text(limit: int, description: str, *, required: bool = True) -> msgspec.Meta:
    """Text of at most ``limit`` characters; when ``required``, not blank."""
    if required:
        return documented(description, max_length=limit, pattern=NOT_BLANK)
    return documented(description, max_length=limit)


def _quantity(description: str, *, positive: bool, optional: bool = False) -> msgspec.Meta:
    # A JSON number or a decimal string, up to 10^12 (linzhang.domains.tasks.model.check_quantity).
    number: dict[str, Any] = {"type": "number", "maximum": 10**12}
    number["exclusiveMinimum" if positive else "minimum"] = 0
    forms: list[dict[str, Any]] = [number, {"type": "string", "pattern": QUANTITY_STRING}]
    if optional:
        forms.append({"type": "null"})
    return documented(description, type=None, one_of=None, any_of=forms)


# A quantity sent by a client: decoded exactly (a Decimal), never through a binary float.
TargetQuantity = Annotated[
    Decimal, _quantity("目标量：大于0，最多4位小数，不超过10^12（数字或十进制字符串）", positive=True)
]
OptionalTargetQuantity = Annotated[
    Decimal | None,
    _quantity(
        "目标量（指标任务必填）：大于0，最多4位小数，不超过10^12（数字或十进制字符串）", positive=True, optional=True
    ),
]
CompletedQuantity = Annotated[
    Decimal, _quantity("累计完成量：不小于0，最多4位小数，不超过10^12（数字或十进制字符串）", positive=False)
]
# A quantity the API answers with: a JSON number (whole numbers without a fraction).
QuantityOut = Annotated[float, documented("数量（JSON 数字，最多4位小数）", minimum=0)]
