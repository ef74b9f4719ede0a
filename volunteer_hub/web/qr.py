"""QR codes for pages: a shift's check-in link as an inline SVG (segno), for screens and paper."""

from __future__ import annotations

import segno
from litestar import Request

from volunteer_hub.attendance.services import check_in_token


def check_in_url(request: Request, shift_id: int) -> str:
    return str(request.base_url).rstrip("/") + f"/checkin/{check_in_token(shift_id)}"


def qr_svg(url: str, scale: int = 4) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, border=2)
