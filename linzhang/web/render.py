"""Templates, the answers pages give to refusals and errors, and the filters templates use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from linzhang.api.problems import DATABASE_RETRY_AFTER_SECONDS
from linzhang.clock import SHANGHAI
from linzhang.container import Container
from linzhang.domain import MenuItem
from linzhang.errors import LinzhangError
from linzhang.identity import Principal, Role
from linzhang.web import labels
from linzhang.web.session import ForgedRequest, SignInRequired, sign_in_url

# Who is told, on every page, that a year's working calendar is missing (the city office enters it).
CALENDAR_BANNER_ROLES = frozenset({Role.OFFICE, Role.ADMIN})
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
# A domain's pages keep their templates in its own folder (linzhang/domains/<name>/templates/), found
# here from the folder tree; they extend "base.html" like the shared pages.
DOMAIN_TEMPLATES = sorted((HERE.parent / "domains").glob("*/templates"))
STATIC = HERE / "static"
log = structlog.get_logger("linzhang.web")

# The pages load nothing from elsewhere and run no inline script; ECharts and htmx set inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# What a person reads for each refusal; the page never says whether something outside exists.
STATUS_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权操作",
    404: "未找到",
    409: "状态已变化",
    413: "内容过大",
    422: "填写有误",
    429: "操作过于频繁",
    500: "系统出错",
    503: "暂时无法访问",
}


def _number(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value))
    text = f"{number:,.4f}".rstrip("0").rstrip(".")
    return text


def _percent(done: Decimal | float | int | None, target: Decimal | float | int | None) -> int:
    if not target or done is None:
        return 0
    return max(0, min(100, int(Decimal(str(done)) * 100 / Decimal(str(target)))))


def _date(value: dt.date | None) -> str:
    return "—" if value is None else f"{value.year}年{value.month}月{value.day}日"


def _datetime(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def instance_banners(request: Request[Any, Any, Any]) -> list[str]:
    """What every page says about the instance itself: the demo still loading, a training instance's test clock, and to the city
    office (and administrators) the years whose official holidays nobody has entered yet."""
    container: Container = request.app.state.container
    banners = []
    if container.demo_loading:
        banners.append("演示数据加载中：辖区、林长、任务和考核正在载入，约需一分钟，请稍后刷新页面。")
    if container.on_test_clock:
        banners.append(
            f"培训实例：本系统运行在测试时钟上，当前时间为 {_datetime(container.clock.now())}，不是真实时间。"
        )
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None and viewer.level == "city" and viewer.principal.role in CALENDAR_BANNER_ROLES:
        years = container.uncovered_calendar_years()
        if years:
            named = "、".join(f"{year}年" for year in years)
            banners.append(
                f"{named}的法定节假日和调休安排尚未录入：这些年份的期限暂按周一至周五计算，标为“暂定”。"
                "请用 linzhang calendar set-year 录入。"
            )
    return banners


def domain_menu(request: Request[Any, Any, Any], principal: Principal) -> list[MenuItem]:
    """The installed domains' menu entries this person is shown (linzhang.domain.Domain.menu)."""
    container: Container = request.app.state.container
    return [item for domain in container.domains for item in domain.menu if item.shown(principal)]


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([TEMPLATES, *DOMAIN_TEMPLATES]), autoescape=True, undefined=StrictUndefined
    )
    env.filters.update(number=_number, percent=_percent, date=_date, datetime=_datetime)
    env.globals.update(
        status_label=lambda code: labels.label(labels.STATUS, code),
        kind_label=lambda code: labels.label(labels.KIND, code),
        level_label=lambda code: labels.label(labels.LEVEL, code),
        role_label=lambda code: labels.label(labels.ROLE, code),
        reason_label=lambda code: labels.label(labels.REASON, code),
        chief_role_label=lambda code: labels.label(labels.CHIEF_ROLE, code),
        action_label=lambda code: labels.label(labels.ACTION, code),
        detail_label=lambda code: labels.label(labels.DETAIL, code),
        instance_banners=instance_banners,
        domain_menu=domain_menu,
    )
    return env


template_config: TemplateConfig[JinjaTemplateEngine] = TemplateConfig(
    instance=JinjaTemplateEngine.from_environment(environment())
)


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def _error_page(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    title = STATUS_TITLES.get(status, "出错了")
    if is_htmx(request):
        # A fragment for the action's message area; htmx is told to show it (see static/app.js).
        return Template(
            template_name="_message.html",
            context={"kind": "error", "title": title, "detail": detail},
            status_code=status,
            headers=SECURITY_HEADERS,
        )
    viewer = getattr(request.state, "viewer", None)
    return Template(
        template_name="error.html",
        context={"status": status, "title": title, "detail": detail, "viewer": viewer, "active": ""},
        status_code=status,
        media_type=MediaType.HTML,
        headers=SECURITY_HEADERS,
    )


def _on_sign_in_required(request: Request[Any, Any, Any], _exc: SignInRequired) -> Response[Any]:
    if is_htmx(request):
        return Response(b"", status_code=401, headers={"HX-Redirect": "/login"})
    return Redirect(sign_in_url(request), status_code=303)


def _on_forged(request: Request[Any, Any, Any], _exc: ForgedRequest) -> Response[Any]:
    return _error_page(request, 403, "页面已过期或请求来源不明，请刷新页面后重试")


def _on_domain(request: Request[Any, Any, Any], exc: LinzhangError) -> Response[Any]:
    return _error_page(request, exc.status_code, exc.detail)


def _on_not_found(request: Request[Any, Any, Any], _exc: NotFoundException) -> Response[Any]:
    return _error_page(request, 404, "没有这个页面，或您无权查看")


def _on_validation(request: Request[Any, Any, Any], _exc: ValidationException) -> Response[Any]:
    return _error_page(request, 400, "填写的内容格式不对，请检查后重试")


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _error_page(request, exc.status_code, STATUS_TITLES.get(exc.status_code, "请求未能完成"))


def _on_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    if not (isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated):
        return _on_unexpected(request, exc)
    # The database is restarting or out of reach: nothing was written; the person may try again soon.
    log.warning("page.database_unavailable", path=request.url.path, method=request.method, error=type(exc).__name__)
    return _unavailable(request, "数据库暂时不可用，本次操作未保存，请稍后重试")


def _on_pool_exhausted(request: Request[Any, Any, Any], _exc: PoolTimeout) -> Response[Any]:
    log.warning("page.database_busy", path=request.url.path, method=request.method)
    return _unavailable(request, "系统繁忙，请稍后重试")


def _unavailable(request: Request[Any, Any, Any], detail: str) -> Response[Any]:
    response = _error_page(request, 503, detail)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("page.failed", path=request.url.path, method=request.method)
    return _error_page(request, 500, "系统出错，已记录，请稍后再试")


def wants_a_page(request: Request[Any, Any, Any]) -> bool:
    """A person's browser asking outside the API (an unknown address typed by hand): answer a page."""
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/static/")) or path in {"/healthz", "/readyz"}:
        return False
    return "text/html" in request.headers.get("accept", "")


def unknown_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """The 404 page for an address no route serves."""
    return _error_page(request, 404, "没有这个页面，或您无权查看")


exception_handlers: ExceptionHandlersMap = {
    SignInRequired: _on_sign_in_required,
    ForgedRequest: _on_forged,
    LinzhangError: _on_domain,
    NotFoundException: _on_not_found,
    ValidationException: _on_validation,
    HTTPException: _on_http,
    DBAPIError: _on_database_error,
    PoolTimeout: _on_pool_exhausted,
    Exception: _on_unexpected,
}
