"""A deliberately leaky site for the audit to catch, and the vendors it leaks to, on loopback.

One uvicorn server answers for three host names (Chromium maps `*.test` to 127.0.0.1):

    leaky.site.test:P     the site: its home page embeds the real gateway's banner, but also
                          loads a vendor's tag directly (outside the gateway), fires an ad
                          pixel on arrival, and sets a cookie no rule declares; /about is clean
    tags.vendor.test:P    stand-in for an analytics vendor's script host
    pixel.adnet.test:P    stand-in for an ad network's pixel host

`LEAKY_RULES` are the tag rules the site claims to follow. A third vendor, Chatbox, is named
by the banner but never loaded.

`/awkward` is what a CI audit meets on a real site, linked from nowhere else: scripts from
`tags.metrics.test` leaving Hotjar, Clarity, VK and Yandex cookies and keys no rule declares,
storage keys with a lone surrogate and a control character, a session cookie whose value is a
secret, a same-origin link that redirects to `elsewhere.test`, and `/awkward/broken` (HTTP 500).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.endpoints.pixels import GIF
from tests.servers import free_port

HOME = """<!doctype html>
<html lang="en"><head>
<script src="{gateway}/consent.js"></script>
<meta charset="utf-8"><title>Leaky Ltd</title>
<script src="http://tags.vendor.test:{port}/analytics.js"></script>
<script src="/site.js"></script>
</head><body><h1>Leaky Ltd</h1><p>We value your privacy.</p>
<img src="http://pixel.adnet.test:{port}/px.gif?ev=PageView" width="1" height="1" alt="">
<a href="/about">About us</a></body></html>"""
ABOUT = """<!doctype html>
<html lang="en"><head>
<script src="{gateway}/consent.js"></script>
<meta charset="utf-8"><title>About Leaky Ltd</title>
</head><body><h1>About us</h1><a href="/">Home</a></body></html>"""
SITE_JS = """document.cookie = "visitor_pref=compact; Path=/; Max-Age=86400";
localStorage.setItem("layout", "compact");  // the site's own, but declared nowhere: a finding"""
VENDOR_JS = "window.vendorTagRuns = (window.vendorTagRuns || 0) + 1;"
AWKWARD = """<!doctype html>
<html lang="en"><head>
<script src="{gateway}/consent.js"></script>
<meta charset="utf-8"><title>Awkward Ltd</title>
<script src="http://tags.metrics.test:{port}/metrics.js"></script>
<script>
document.cookie = "session_token=s3cr3t-session-value; Path=/";
localStorage.setItem("lone\\ud800key", "1");
localStorage.setItem("ctrl\\x01key", "s3cr3t-storage-value");
</script>
</head><body><h1>Awkward Ltd</h1>
<a href="/awkward/more">More</a> <a href="/awkward/out">Our partner</a></body></html>"""
AWKWARD_MORE = """<!doctype html>
<html lang="en"><head><script src="{gateway}/consent.js"></script>
<meta charset="utf-8"><title>More</title></head><body><a href="/awkward">Back</a></body></html>"""
ELSEWHERE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elsewhere</title>
<script>document.cookie = "elsewhere_id=1; Path=/"; localStorage.setItem("elsewhere", "1");</script>
</head><body>Another site</body></html>"""
# What common tags leave behind (names as they really are; the values are made up).
METRICS_JS = """document.cookie = "_hjSessionUser_3346789=eyJpZCI6IjEifQ; Path=/; Max-Age=31536000";
document.cookie = "_clck=1x2y3z%7C2%7Cfq1%7C0%7C1; Path=/; Max-Age=31536000";
document.cookie = "tmr_lvid=8d1f0c2b7a; Path=/; Max-Age=31536000";
localStorage.setItem("_ym_uid", "1733580000123456789");"""

LEAKY_RULES = {
    "acme_analytics": """id = "acme_analytics"
name = "Acme Analytics"
category = "analytics"
privacy_policy_url = "https://acme.example/privacy"
processing_locations = ["DE"]
cookies = ["_acme_id"]
hosts = ["tags.vendor.test"]
[hit]
mode = "block"
""",
    "adnet": """id = "adnet"
name = "AdNet Pixel"
category = "marketing"
privacy_policy_url = "https://adnet.example/privacy"
processing_locations = ["DE"]
cookies = ["_adn"]
hosts = ["pixel.adnet.test"]
[hit]
mode = "block"
""",
    "chatbox": """id = "chatbox"
name = "Chatbox"
category = "preferences"
privacy_policy_url = "https://chatbox.example/privacy"
processing_locations = ["DE"]
hosts = ["widget.chatbox.test"]
[hit]
mode = "block"
""",
}


def write_leaky_rules(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in LEAKY_RULES.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


@dataclass
class LeakySite:
    port: int
    gateway: str = ""

    @property
    def origin(self) -> str:
        return f"http://leaky.site.test:{self.port}"


def _app(site: LeakySite) -> Starlette:
    async def page(request: Request) -> Response:
        host = request.headers.get("host", "").split(":")[0]
        path = request.url.path
        if host == "tags.vendor.test" and path == "/analytics.js":
            return Response(VENDOR_JS, media_type="text/javascript")
        if host == "pixel.adnet.test" and path == "/px.gif":
            return Response(GIF, media_type="image/gif", headers={"Cache-Control": "no-store"})
        if host == "tags.metrics.test" and path == "/metrics.js":
            return Response(METRICS_JS, media_type="text/javascript")
        if host == "elsewhere.test":
            return HTMLResponse(ELSEWHERE, headers={"Set-Cookie": "elsewhere_seen=1; Path=/"})
        if host == "leaky.site.test" and path == "/awkward/out":
            return RedirectResponse(f"http://elsewhere.test:{site.port}/landing", status_code=302)
        if host == "leaky.site.test" and path == "/awkward/broken":
            return HTMLResponse("<h1>Internal error</h1>", status_code=500)
        if host != "leaky.site.test":
            return Response(status_code=404)
        if path == "/site.js":
            return Response(SITE_JS, media_type="text/javascript")
        template = {
            "/": HOME,
            "/about": ABOUT,
            "/awkward": AWKWARD,
            "/awkward/more": AWKWARD_MORE,
        }.get(path)
        if template is None:
            return Response(status_code=404)
        return HTMLResponse(template.format(gateway=site.gateway, port=site.port))

    return Starlette(routes=[Route("/{path:path}", page)])


@contextmanager
def running_leaky_site() -> Iterator[LeakySite]:
    site = LeakySite(port=free_port())
    config = uvicorn.Config(
        _app(site), host="127.0.0.1", port=site.port, lifespan="off", ws="none",
        log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the leaky site's uvicorn did not start on port {site.port}")
        time.sleep(0.01)
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)
