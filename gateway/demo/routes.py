"""`/demo`: a sample site wired to this gateway, the way a real site would be.

    >>> from starlette.applications import Starlette
    >>> from gateway.settings import SiteSection
    >>> app = Starlette(routes=demo_routes(SiteSection(), revision=1))

(`create_app` mounts these when `settings.site.demo`.)

The page embeds `/consent.js` first in `<head>`, carries blocked tags (two scripts, a GA4-style
pixel through `/t/ga4`), three embeds behind the banner's placeholders (YouTube and Vimeo
iframes, an OpenStreetMap `<div>`: stand-ins served by `/demo/embed`), reCAPTCHA's notice, and
shows the visitor's consent live. It is served from the
gateway's own origin under a strict Content-Security-Policy (scripts and styles from 'self'
only, no inline code), which is also how it proves the banner needs nothing more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gateway.demo.texts import LANGUAGES, texts_for
from gateway.settings import SiteSection

HERE = Path(__file__).resolve().parent
ASSETS = {
    "demo.css": "text/css; charset=utf-8",
    "demo.js": "text/javascript; charset=utf-8",
    "analytics.js": "text/javascript; charset=utf-8",
    "marketing.js": "text/javascript; charset=utf-8",
}
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Stand-ins for the three embeds the demo shows (no internet needed): `/demo/embed?kind=`.
EMBED_NAMES = {"youtube": "YouTube", "vimeo": "Vimeo", "map": "OpenStreetMap"}
EMBED_CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'self'"
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    media_type: str

    async def respond(self, request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=60", "X-Content-Type-Options": "nosniff"}
        return Response(self.body, media_type=self.media_type, headers=headers)


def demo_routes(site: SiteSection, revision: int, directory: Path = HERE) -> list[Route]:
    """The demo page for `site`'s gateway (the banner at its public URL, choices of consent
    `revision`), its embedded "video", and its static files (read once, served from memory)."""
    templates = Environment(
        loader=FileSystemLoader(directory / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    page_template = templates.get_template("demo.html")
    embed_template = templates.get_template("embed.html")

    async def page(request: Request) -> Response:
        language = _language(request)
        texts = texts_for(language)
        page_url = f"{site.public_origin}/demo"
        pixel = "/t/ga4?" + urlencode(
            {
                "v": "2",
                "tid": "G-XXXXXXXXXX",
                "en": "page_view",
                "dl": page_url,
                "dt": texts["title"],
            }
        )
        own_origin = f"{request.url.scheme}://{request.url.netloc}"
        html = page_template.render(
            lang=language,
            languages=LANGUAGES,
            t=texts,
            pixel=pixel,
            public_url=site.public_url.rstrip("/"),
            revision=revision,
            # The banner calls the public URL; opened on another host it could not (CORS).
            wrong_host=own_origin != site.public_origin,
            script_texts=json.dumps(texts["script"], ensure_ascii=False).replace("<", "\\u003c"),
        )
        headers = {**_HEADERS, "Content-Security-Policy": PAGE_CSP}
        return HTMLResponse(html, headers=headers)

    async def embed(request: Request) -> Response:
        kind = request.query_params.get("kind", "youtube")
        kind = kind if kind in EMBED_NAMES else "youtube"
        language = _language(request)
        html = embed_template.render(
            lang=language, t=texts_for(language), kind=kind, name=EMBED_NAMES[kind]
        )
        return HTMLResponse(html, headers={**_HEADERS, "Content-Security-Policy": EMBED_CSP})

    routes = [
        Route("/demo", page, methods=["GET", "HEAD"], name="demo"),
        Route("/demo/embed", embed, methods=["GET", "HEAD"], name="demo_embed"),
    ]
    for name, media_type in ASSETS.items():
        asset = _Asset((directory / "static" / name).read_bytes(), media_type)
        routes.append(Route(f"/demo/{name}", asset.respond, methods=["GET", "HEAD"]))
    return routes


def _language(request: Request) -> str:
    wanted = request.query_params.get("lang", "en").lower()
    return wanted if wanted in LANGUAGES else "en"
