"""A fresh site built only from the snippets in `docs/getting-started.md`, and stand-ins for the
two vendors' scripts, for the first-hour walk-through (`e2e/test_first_hour.py`).

`shop.site.test:P/` (English) and `/ru/` (Russian) are one page whose `<head>` is the
documented snippets, with the documented hosts replaced by the test's.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.servers import free_port

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "getting-started.md"
DOCUMENTED_GATEWAY = "https://consent.example.com"
DOCUMENTED_SITE = "https://www.example.com"
MEASUREMENT_ID = "G-XXXXXXX"
PIXEL_ID = "123456789012345"

# Stands in for Google's gtag.js: it reads the dataLayer as gtag.js does, sends a page_view to
# `transport_url` + /g/collect (a cookieless ping until analytics_storage is granted, then with
# the `_ga` client id it sets), and one more event when consent is updated to granted.
GTAG_JS = b"""(function () {
  var dl = window.dataLayer = window.dataLayer || [];
  var id = new URL(document.currentScript.src).searchParams.get("id");
  var transport = "https://www.google-analytics.com", granted = false, configured = false;
  function clientId() {
    var m = document.cookie.match(/(?:^|; )_ga=([^;]+)/);
    if (m) return m[1];
    var v = "GA1.1." + Math.floor(Math.random() * 1e9) + "." + Math.floor(Date.now() / 1000);
    document.cookie = "_ga=" + v + "; Path=/; Max-Age=63072000";
    return v;
  }
  function send(en) {
    var q = "v=2&tid=" + id + "&en=" + en + "&dl=" + encodeURIComponent(location.href);
    if (granted) q += "&cid=" + clientId();
    navigator.sendBeacon(transport + "/g/collect?" + q);
  }
  function handle(a) {
    if (a[0] === "consent") {
      var was = granted;
      granted = (a[2] || {}).analytics_storage === "granted";
      if (granted && !was && configured) send("user_engagement");
    }
    if (a[0] === "config") {
      transport = (a[2] || {}).transport_url || transport;
      configured = true;
      send("page_view");
    }
  }
  for (var i = 0; i < dl.length; i++) handle(dl[i]);
  var push = dl.push.bind(dl);
  dl.push = function (a) { handle(a); return push(a); };
  window.gtagStandIn = true;
})();"""
# Stands in for Meta's fbevents.js: runs the queued fbq calls, a `track` as the /tr pixel.
FBEVENTS_JS = """(function () {
  var fbq = window.fbq, pixel = null;
  function call(name, a, b) {
    if (name === "init") pixel = a;
    if (name === "track") new Image().src =
      "https://www.facebook.com/tr?id=" + pixel + "&ev=" + encodeURIComponent(a);
  }
  fbq.callMethod = function () { call.apply(null, arguments); };
  fbq.queue.splice(0).forEach(function (args) { call.apply(null, args); });
})();"""


def documented_snippets() -> list[str]:
    """The HTML blocks of the guide marked `<!-- snippet: … -->`, in order."""
    marked = re.findall(r"<!-- snippet: \w+ -->\n```html\n(.*?)```", GUIDE.read_text(), re.S)
    if len(marked) != 3:
        raise AssertionError(f"expected the banner, gtag and meta snippets in {GUIDE}")
    return marked


def documented_config() -> str:
    """The guide's TOML config block."""
    [config] = re.findall(r"```toml\n(.*?)```", GUIDE.read_text(), re.S)
    return config


@dataclass
class FirstHourSite:
    port: int
    gateway: str = ""  # set once the gateway runs

    @property
    def origin(self) -> str:
        return f"http://shop.site.test:{self.port}"

    def page(self, language: str) -> str:
        head = "\n".join(documented_snippets()).replace(DOCUMENTED_GATEWAY, self.gateway)
        title = "Northwind" if language == "en" else "Нордвинд"
        return (
            f'<!doctype html><html lang="{language}"><head>\n{head}\n<meta charset="utf-8">'
            f"<title>{title}</title></head><body><h1>{title}</h1>"
            '<footer><a href="#" data-consent-open>Cookie settings</a></footer></body></html>'
        )


@contextmanager
def running_first_hour_site() -> Iterator[FirstHourSite]:
    site = FirstHourSite(port=free_port())

    async def english(request: Request) -> HTMLResponse:
        return HTMLResponse(site.page("en"))

    async def russian(request: Request) -> HTMLResponse:
        return HTMLResponse(site.page("ru"))

    app = Starlette(routes=[Route("/", english), Route("/ru/", russian)])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=site.port, lifespan="off", ws="none", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the first-hour site did not start on port {site.port}")
        time.sleep(0.01)
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)
