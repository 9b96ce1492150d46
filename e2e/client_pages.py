"""Pages of the test site that run the real tracker clients through the documented snippets.

`/clients/{name}` is the snippet `name` of `tag_rules/README.md`, as written, with the gateway's
placeholder origin replaced by the real gateway and each vendor's script URL by the copy kept in
`tests/data/trackers/` (no internet here). Module snippets import the npm packages by name
through an import map, as a bundler would resolve them. gtag.js is on no registry: its stand-in
`/trackers/gtag-replay.js` reads the same `dataLayer` commands and sends the request shapes
gtag.js documents (a `POST` beacon to `{transport_url}/g/collect` with one event a line, and a
`GET` with everything in the query). A snippet that waits for the banner (`data-consent`)
gets the banner's one tag first in `<head>`, as the README tells sites to put it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.snippets import PLACEHOLDER_GATEWAY, REPO, snippets

TRACKERS = REPO / "tests" / "data" / "trackers"
SCRIPTS = {
    # gtag.js, which the gateway serves first-party (tests/first_hour covers that path).
    f"{PLACEHOLDER_GATEWAY}/t/ga4/gtag/js?id=G-XXXXXXXXXX": "/trackers/gtag-replay.js",
    "https://matomo.example.com/matomo.js": "/trackers/matomo/matomo.js",
}
IMPORTS = {
    "plausible-tracker": "/trackers/plausible-tracker/index.js",
    "@plausible-analytics/tracker": "/trackers/plausible-analytics-tracker/plausible.js",
}
GTAG_REPLAY = """
(() => {
  const config = Array.from(window.dataLayer).find((command) => command[0] === "config");
  const options = config[2] || {};
  const collect = (options.server_container_url || options.transport_url) + "/g/collect";
  const shared = new URLSearchParams({
    v: "2", tid: config[1], gtm: "45je4b20", _p: "1732900000000", cid: "555.666",
    sid: "1732900000", sct: "1", seg: "1", ul: "en-us", sr: "1280x800",
    dl: location.href, dr: document.referrer, dt: document.title,
  });
  navigator.sendBeacon(`${collect}?${shared}`, "en=page_view&_et=10\\nen=scroll&epn.percent_scrolled=90");
  const single = new URLSearchParams(shared);
  single.set("en", "user_engagement");
  single.set("_et", "1500");
  new Image().src = `${collect}?${single}`;
})();
"""
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title>
{banner}
<script type="importmap">{imports}</script>
<script>window.__plausible = true; // the Plausible tracker skips automated browsers otherwise</script>
</head><body><h1>{name}</h1>
{snippet}
</body></html>"""


def client_page(name: str, gateway: str) -> str:
    language, code = snippets()[name]
    for remote, local in SCRIPTS.items():
        code = code.replace(remote, local)
    code = code.replace(PLACEHOLDER_GATEWAY, gateway)
    if language == "js":
        code = f'<script type="module">\n{code}\n</script>'
    banner = f'<script src="{gateway}/consent.js"></script>' if "data-consent" in code else ""
    return PAGE.format(
        name=html.escape(name),
        banner=banner,
        imports=json.dumps({"imports": IMPORTS}),
        snippet=code,
    )


def client_routes(gateway_for: Callable[[Request], str]) -> list[Route]:
    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in snippets():
            return HTMLResponse("no such client", status_code=404)
        return HTMLResponse(client_page(name, gateway_for(request)))

    async def tracker(request: Request) -> Response:
        path = request.path_params["path"]
        if path == "gtag-replay.js":
            return Response(GTAG_REPLAY, media_type="text/javascript")
        file = _tracker_file(path)
        if file is None:
            return Response("not found", status_code=404)
        return Response(file.read_bytes(), media_type="text/javascript")

    return [Route("/clients/{name}", page), Route("/trackers/{path:path}", tracker)]


def _tracker_file(path: str) -> Path | None:
    # The npm builds import `./lib/tracker` without `.js`, as a bundler resolves it.
    for candidate in (TRACKERS / path, TRACKERS / f"{path}.js"):
        resolved = candidate.resolve()
        if resolved.is_file() and resolved.is_relative_to(TRACKERS) and resolved.suffix == ".js":
            return resolved
    return None
