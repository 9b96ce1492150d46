"""The reference servers of `make bench`, each in its own process on loopback.

- nginx `empty_gif`: what a C server answers (a row for scale; skipped when nginx is absent);
- a raw ASGI callable on uvicorn: the floor of any Python app on the same server;
- a bare Starlette app, one route, no middleware: THE baseline every gateway ratio uses.

All three answer the same 43-byte GIF with the headers the gateway's pixel sends, so the
bytes on the wire are the same and only the work behind them differs. Nothing here imports
the gateway: a change to the gateway never moves the baseline.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
HEADERS = {"Cache-Control": "no-store", "Vary": "Cookie, Authorization"}
PATH = "/pixel.gif"
NGINX = shutil.which("nginx") or next(
    (str(p) for p in (Path("/usr/sbin/nginx"),) if p.exists()), None
)


async def _pixel(request: Request) -> Response:
    return Response(GIF, media_type="image/gif", headers=HEADERS)


bare_starlette = Starlette(routes=[Route(PATH, _pixel)])

_RAW_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"image/gif"),
        (b"content-length", str(len(GIF)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in HEADERS.items()),
    ],
}
_RAW_BODY = {"type": "http.response.body", "body": GIF}


async def raw_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """The same answer with no framework at all (any path)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send(_RAW_START)
    await send(_RAW_BODY)


def nginx_config(directory: Path, port: int) -> Path:
    """A one-worker nginx serving `empty_gif` at PATH with the same headers, no access log."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "nginx.conf"
    config.write_text(
        f"""daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = {PATH} {{
            empty_gif;
            add_header Cache-Control no-store;
            add_header Vary "Cookie, Authorization";
        }}
    }}
}}
"""
    )
    return config
