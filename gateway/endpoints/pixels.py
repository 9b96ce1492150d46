"""The answers a pixel gives: a 43-byte transparent GIF or an empty 204, never cached."""

from __future__ import annotations

import base64

from starlette.responses import Response

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
PIXEL_HEADERS = {"Cache-Control": "no-store", "Vary": "Cookie, Authorization"}


def gif_response(headers: dict[str, str] | None = None) -> Response:
    return Response(GIF, media_type="image/gif", headers={**PIXEL_HEADERS, **(headers or {})})


def empty_response(headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=204, headers={**PIXEL_HEADERS, **(headers or {})})
