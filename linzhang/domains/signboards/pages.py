"""The public signboards' pages (no sign-in): the board with its report form, the receipt, the QR sheet.

The form has no session to hold an anti-forgery token: a double-submit cookie (SameSite=Strict, only
under /signboards) must match the form's hidden field, as on the sign-in form (docs/adr/0010).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from linzhang.container import Container
from linzhang.domains.signboards import service
from linzhang.domains.signboards.qr import qr_inline_svg, qr_pdf, qr_svg
from linzhang.domains.signboards.service import ReportForm, SignboardsContext
from linzhang.errors import InvalidInput, LinzhangError, TooManyRequests
from linzhang.identity import sessions
from linzhang.media.upload import UPLOAD_CEILING, body_limit, photo_uploads, read_form
from linzhang.media.upload import limits_of as photo_limits
from linzhang.web.session import Viewer

FORM_COOKIE = "linzhang_report_csrf"
FORM_COOKIE_PATH = "/signboards"
PDF_TYPE = "application/pdf"
SVG_TYPE = "image/svg+xml"


def _context(container: Container) -> SignboardsContext:
    return container.context(SignboardsContext)


def board_url(request: Request[Any, Any, Any], container: Container, code: str) -> str:
    """The board's public address: ``[signboards] public_base_url``, else the address asked on."""
    base = container.settings.signboards.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/signboards/{quote(code, safe='')}"


def _form_cookie(container: Container, value: str) -> Cookie:
    return Cookie(
        key=FORM_COOKIE,
        value=value,
        path=FORM_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=container.settings.web.cookie_secure,
    )


def _board_page(
    request: Request[Any, Any, Any],
    container: Container,
    code: str,
    *,
    error: str | None = None,
    error_field: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response[Any]:
    ctx = _context(container)
    with container.reading() as session:
        shown = service.board(session, ctx, code)
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    response = Template(
        template_name="signboards/board.html",
        context={
            "viewer": None,
            "board": shown,
            "qr": qr_inline_svg(board_url(request, container, shown.code)),
            "categories": ctx.categories.terms,
            "csrf_token": token,
            "error": error,
            "error_field": error_field,
            "values": values or {},
            "max_photos": ctx.media.max_photos_per_report,
            "max_photo_kb": ctx.media.max_photo_bytes // 1024,
        },
        status_code=status,
    )
    response.set_cookie(_form_cookie(container, token))
    return response


class SignboardPages(Controller):
    path = "/signboards"
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def own_board(self, viewer: NamedDependency[Viewer]) -> Redirect:
        """The signed-in person's own jurisdiction's board (the menu's 公示牌)."""
        code = viewer.principal.jurisdiction_code
        return Redirect(f"/signboards/{quote(code, safe='')}" if code else "/", status_code=303)

    @get("/receipt", sync_to_thread=True)
    def receipt(
        self,
        container: NamedDependency[Container],
        number: FromQuery[str | None] = None,
        new: FromQuery[bool] = False,
    ) -> Template:
        """回执查询: the status of the one report a receipt number names, or the form to type one."""
        if not number:
            return Template(template_name="signboards/receipt.html", context={"viewer": None, "receipt": None})
        with container.reading() as session:
            found = service.receipt_status(session, _context(container), number[:80])
        return Template(template_name="signboards/receipt.html", context={"viewer": None, "receipt": found, "new": new})

    @get("/{code:str}", sync_to_thread=True)
    def board(
        self, request: Request[Any, Any, Any], container: NamedDependency[Container], code: FromPath[str]
    ) -> Response[Any]:
        """林长公示牌: the jurisdiction's chiefs, duties, area, supervision phone, QR code and report form."""
        return _board_page(request, container, code)

    @post("/{code:str}/reports", request_max_body_size=UPLOAD_CEILING)
    async def report(
        self, request: Request[Any, Any, Any], container: NamedDependency[Container], code: FromPath[str]
    ) -> Response[Any]:
        """The public's report: kept, sent on to become an issue, answered with its receipt number."""
        ctx = _context(container)
        values: dict[str, str] = {}
        try:
            form = await read_form(request, body_limit(ctx.media))
            values = {name: str(form.get(name) or "")[:2000] for name in ("category", "text", "longitude", "latitude")}
            expected = request.cookies.get(FORM_COOKIE)
            given = form.get("csrf_token")
            if expected is None or not isinstance(given, str) or not sessions.same_token(expected, given):
                return await anyio.to_thread.run_sync(
                    lambda: _board_page(
                        request, container, code, error="页面已过期，请重新提交", values=values, status=403
                    )
                )
            photos = await photo_uploads(form, "photo", photo_limits(ctx.media), ctx.media.max_photos_per_report)
            report = ReportForm(
                category=values["category"],
                text=values["text"],
                longitude=values["longitude"] or None,
                latitude=values["latitude"] or None,
            )
            address = request.client.host if request.client else "unknown"

            def submit() -> service.Receipt:
                with container.transaction() as session:
                    return service.submit_report(session, ctx, code, report, photos, address)

            receipt = await anyio.to_thread.run_sync(submit)
        except (InvalidInput, TooManyRequests) as exc:
            refused = exc
            page = await anyio.to_thread.run_sync(
                lambda: _board_page(
                    request,
                    container,
                    code,
                    error=refused.detail,
                    error_field=str(refused.extra.get("field") or ""),
                    values=values,
                    status=refused.status_code,
                )
            )
            if isinstance(refused, TooManyRequests):
                page.headers["Retry-After"] = str(refused.retry_after)
            return page
        except LinzhangError as exc:
            if exc.status_code != 413:
                raise
            refused_large = exc
            return await anyio.to_thread.run_sync(
                lambda: _board_page(request, container, code, error=refused_large.detail, values=values, status=413)
            )
        return Redirect(f"/signboards/receipt?number={quote(receipt.number)}&new=true", status_code=303)

    @get("/{code:str}/print", sync_to_thread=True)
    def print_sheet(
        self, request: Request[Any, Any, Any], container: NamedDependency[Container], code: FromPath[str]
    ) -> Template:
        """The printable signboard: everything the board says and its QR code, laid out for paper."""
        with container.reading() as session:
            shown = service.board(session, _context(container), code)
        url = board_url(request, container, shown.code)
        return Template(
            template_name="signboards/print.html",
            context={"viewer": None, "board": shown, "qr": qr_inline_svg(url), "url": url},
        )

    @get("/{code:str}/qr.svg", sync_to_thread=True)
    def qr_as_svg(
        self,
        request: Request[Any, Any, Any],
        container: NamedDependency[Container],
        code: FromPath[str],
        size_cm: FromQuery[float | None] = None,
    ) -> Response[bytes]:
        """The board's QR code as SVG, ``size_cm`` (default ``[signboards] qr_size_cm``) a side."""
        url, size = self._qr(request, container, code, size_cm)
        return Response(qr_svg(url, size), media_type=SVG_TYPE, headers=_download(code, "svg"))

    @get("/{code:str}/qr.pdf", sync_to_thread=True)
    def qr_as_pdf(
        self,
        request: Request[Any, Any, Any],
        container: NamedDependency[Container],
        code: FromPath[str],
        size_cm: FromQuery[float | None] = None,
    ) -> Response[bytes]:
        """The board's QR code as a one-page PDF, ``size_cm`` a side."""
        url, size = self._qr(request, container, code, size_cm)
        return Response(qr_pdf(url, size), media_type=PDF_TYPE, headers=_download(code, "pdf"))

    @staticmethod
    def _qr(
        request: Request[Any, Any, Any], container: Container, code: str, size_cm: float | None
    ) -> tuple[str, float]:
        size = container.settings.signboards.qr_size_cm if size_cm is None else size_cm
        if not 2 <= size <= 100:
            raise InvalidInput("二维码尺寸须在 2 至 100 厘米之间", code="qr_size_out_of_range", field="size_cm")
        with container.reading() as session:
            shown = service.board(session, _context(container), code)
        return board_url(request, container, shown.code), size


def _download(code: str, extension: str) -> dict[str, str]:
    name = f"signboard-{code}.{extension}"
    return {"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-cache"}
