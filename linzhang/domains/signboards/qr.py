"""The signboard's QR code: its page's address, as SVG or PDF of a printed size (segno)."""

from __future__ import annotations

import io

import segno

MM_PER_CM = 10
POINTS_PER_CM = 72 / 2.54
BORDER = 4  # the quiet zone, in modules, as the standard asks


def _code(url: str) -> segno.QRCode:
    # Level M: a signboard outdoors gets dirty; 15 % of the code may be lost and it still reads.
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, size_cm: float) -> bytes:
    """An SVG of ``size_cm`` centimetres a side (quiet zone included), for the print shop."""
    code = _code(url)
    modules = code.symbol_size(border=BORDER)[0]
    out = io.BytesIO()
    code.save(out, kind="svg", scale=size_cm * MM_PER_CM / modules, unit="mm", border=BORDER, xmldecl=True)
    return out.getvalue()


def qr_pdf(url: str, size_cm: float) -> bytes:
    """A one-page PDF, the page ``size_cm`` centimetres a side, the code filling it (quiet zone included)."""
    code = _code(url)
    modules = code.symbol_size(border=BORDER)[0]
    out = io.BytesIO()
    code.save(out, kind="pdf", scale=size_cm * POINTS_PER_CM / modules, border=BORDER)
    return out.getvalue()


def qr_inline_svg(url: str) -> str:
    """The code as SVG markup to put in a page (sized by the page's styles)."""
    out = io.BytesIO()
    _code(url).save(
        out, kind="svg", scale=1, border=BORDER, xmldecl=False, svgns=True, omitsize=True, title="扫码查看公示牌"
    )
    return out.getvalue().decode("utf-8")
