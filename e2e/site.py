"""The site under test, `www.site.test`: pages that embed the real gateway's banner.

It is a separate server on its own port, so the banner talks to its gateway cross-origin but
same-site, as in production (`www.example.com` → `consent.example.com`). Every page has a strict
CSP: scripts and styles from itself and the gateway only, no inline code. The tags it blocks
are stand-ins that count their runs, set the cookies their real vendors set and send their hits
through the gateway; `/tags/gtag.js` records the Consent Mode commands as gtag.js reads them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from e2e.client_pages import client_routes
from e2e.gateway_server import GATEWAY_HOST
from tests.servers import free_port

PAGE = """<!doctype html>
<html lang="{lang}"><head>
<script src="{gw}/consent.js"></script>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Consulting</title>
<link rel="stylesheet" href="/site.css">
<script src="/site.js"></script>
<script type="text/plain" data-consent="analytics" src="/tags/gtag.js"></script>
<script type="text/plain" data-consent="analytics" src="/tags/analytics.js?gw={gw_port}"></script>
<script type="text/plain" data-consent="marketing" data-src="/tags/marketing.js"></script>
</head><body><header><b>Northwind Consulting</b><a href="#" data-consent-open>{open}</a></header>
<main><h1>{h1}</h1><p>{p}</p><p>{p}</p>
<img data-consent="analytics" alt="" width="1" height="1"
  data-src="{gw}/t/ga4?v=2&amp;tid=G-E2E&amp;en=page_view&amp;cid=555.1&amp;dl={page}">
<img data-consent="marketing" alt="" width="1" height="1"
  data-src="{gw}/t/meta_pixel?id=42&amp;ev=PageView&amp;fbp=fb.1.1.1">
<iframe data-consent="marketing" data-src="/tags/frame" title="Video"></iframe>
<p>{p}</p><p>{p}</p></main></body></html>"""
# Embeds behind the banner's placeholders: two iframes and a <div> (sized by the site's CSS),
# plus reCAPTCHA's notice. Their stand-in players are /tags/{youtube,vimeo,map}.
EMBEDS = """<!doctype html>
<html lang="{lang}"><head>
<script src="{gw}/consent.js"></script>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Consulting</title>
<link rel="stylesheet" href="/site.css">
<script type="text/plain" data-consent="marketing" data-src="/tags/marketing.js"></script>
<script type="text/plain" data-consent="marketing" data-vendor="youtube" data-src="/tags/late.js"></script>
</head><body><header><b>Northwind Consulting</b><a href="#" data-consent-open>{open}</a></header>
<main><h1>{h1}</h1>
<iframe class="video" data-consent="marketing" data-vendor="youtube" data-src="/tags/youtube"
  width="560" height="315" title="YouTube video"></iframe>
<iframe class="video" data-consent="marketing" data-vendor="vimeo" data-src="/tags/vimeo"
  width="560" height="315" title="Vimeo video"></iframe>
<div class="map" data-consent="preferences" data-vendor="openstreetmap" data-src="/tags/map"
  data-title="Map"></div>
<form><p class="notice" data-consent-notice="recaptcha"></p></form>
<p>{p}</p></main></body></html>"""
FRAMES = {"frame": "embedded video", "youtube": "YouTube player", "vimeo": "Vimeo player",
          "map": "Map tiles"}  # fmt: skip
WORDS = {
    "en": {
        "h1": "Supply chains that hold",
        "open": "Privacy settings",
        "p": "We help mid-sized manufacturers plan, finance and run their supply chains. Our"
        " consultants work on site with your teams across Europe, from the first audit to the"
        " last delivery.",
    },
    "ru": {
        "h1": "Надёжные цепочки поставок",
        "open": "Настройки",
        "p": "Мы помогаем средним производителям планировать, финансировать и вести цепочки"
        " поставок. Наши консультанты работают на месте с вашими командами по всей Европе — от"
        " первого аудита до последней поставки.",
    },
}
SITE_CSS = """body{margin:0;font:17px/1.6 Georgia,serif;color:#222;background:#f6f4ef}
header{display:flex;justify-content:space-between;padding:16px 32px;background:#24324a;color:#fff}
header a{color:#fff}main{max-width:720px;margin:0 auto;padding:24px}iframe{border:0;height:80px}
.video{display:block;width:100%;height:auto;aspect-ratio:16/9;margin:12px 0}
.map{height:240px;margin:12px 0}.notice{font-size:14px}"""
# The page's first own script: what it finds in dataLayer is what any tag would find first.
SITE_JS = "window.dataLayerAtFirstScript = (window.dataLayer || []).map((c) => Array.from(c));"
TRACKER = "window.{0}Runs = (window.{0}Runs || 0) + 1;"
TAGS = {
    "analytics.js": TRACKER.format("analytics")
    + """
document.cookie = "_ga=GA1.1.555.1; Path=/; Domain=site.test; Max-Age=3600";
document.cookie = "_ga_E2E=GS1.1.1700000000; Path=/; Max-Age=3600";
fetch("__GATEWAY__/t/plausible", {method: "POST", credentials: "include",
  headers: {"Content-Type": "application/json"},
  body: JSON.stringify({n: "pageview", u: location.href, d: location.hostname})});""",
    "marketing.js": TRACKER.format("marketing")
    + 'document.cookie = "_fbp=fb.1.1.1; Path=/; Domain=site.test; Max-Age=3600";',
    "late.js": TRACKER.format("late"),
    # A stand-in for gtag.js: it reads the commands queued before it, then those pushed later.
    "gtag.js": TRACKER.format("gtag")
    + """
const seen = (window.gtagSeen = window.gtagSeen || []);
const record = (command) => seen.push(JSON.parse(JSON.stringify(Array.from(command))));
window.dataLayer.forEach(record);
const push = window.dataLayer.push.bind(window.dataLayer);
window.dataLayer.push = (...commands) => { commands.forEach(record); return push(...commands); };
window.gtag("config", "G-E2E");""",
}


@dataclass
class Site:
    """The running site: its origin, the gateway its pages embed, and what it served."""

    port: int
    gateway: str = ""  # the gateway origin pages embed unless `?gw=PORT` names another
    vendor: str = ""  # the stand-in vendor's origin (redirect-mode pixels land there)
    served: Counter[str] = field(default_factory=Counter)

    @property
    def www(self) -> str:
        return f"http://www.site.test:{self.port}"

    def gateway_for(self, request: Request) -> str:
        port = request.query_params.get("gw", "")
        return f"http://{GATEWAY_HOST}:{int(port)}" if port.isdigit() else self.gateway


def build_app(site: Site) -> Starlette:
    def page(lang: str, template: str = PAGE) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            gw = site.gateway_for(request)
            html = template.format(
                gw=gw,
                gw_port=gw.rsplit(":", 1)[1],
                lang=lang,
                page=f"{site.www}{request.url.path}",
                **WORDS[lang],
            )
            csp = (
                f"default-src 'none'; script-src 'self' {gw}; style-src 'self' {gw};"
                f" connect-src {gw}; img-src {gw} {site.vendor}; frame-src 'self'"
            )
            return HTMLResponse(html, headers={"Content-Security-Policy": csp})

        return endpoint

    async def tag(request: Request) -> Response:
        name = request.path_params["name"]
        site.served[name] += 1
        if name in FRAMES:
            return HTMLResponse(f"<p>{FRAMES[name]}</p>")
        source = TAGS[name].replace("__GATEWAY__", site.gateway_for(request))
        return Response(source, media_type="text/javascript")

    async def static(request: Request) -> Response:
        if request.url.path == "/site.css":
            return Response(SITE_CSS, media_type="text/css")
        return Response(SITE_JS, media_type="text/javascript")

    async def privacy(request: Request) -> Response:
        return HTMLResponse("<h1>Privacy policy</h1>")

    return Starlette(
        routes=[
            Route("/", page("en")),
            Route("/ru", page("ru")),
            Route("/embeds", page("en", EMBEDS)),
            Route("/ru/embeds", page("ru", EMBEDS)),
            Route("/tags/{name}", tag),
            Route("/site.css", static),
            Route("/site.js", static),
            Route("/privacy", privacy),
            *client_routes(site.gateway_for),
        ]
    )


@contextmanager
def running_site() -> Iterator[Site]:
    """The site on real uvicorn in a thread of the test process, on a free port."""
    site = Site(port=free_port())
    config = uvicorn.Config(
        build_app(site), host="127.0.0.1", port=site.port, lifespan="off", ws="none",
        log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the site's uvicorn did not start on port {site.port}")
        time.sleep(0.01)
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)
