"""`/o` open beacon, `/c` click-through, `/p` a recipient's preferences page.

`/o` always answers the GIF; `/c` always redirects to the target in its signed token, or shows
a 404 page — never a redirect anywhere else. Both only read the token, classify the agent
(cached) and hand the event to the recorder in memory: no store round trip on the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope

from gateway.email.page_texts import PAGE_TEXTS, page_language, page_texts_shown
from gateway.email.pages import link_not_found_page, page_headers, preferences_page
from gateway.email.recipients import Collection
from gateway.email.service import EmailService
from gateway.email.targets import is_redirectable
from gateway.email.tokens import ClickToken, OpenToken
from gateway.email.verdicts import agent_and_prefetch, agent_role
from gateway.endpoints.answers import Answer, raw_headers
from gateway.endpoints.bodies import read_form
from gateway.endpoints.facts import request_facts
from gateway.endpoints.hot import HotRoute
from gateway.endpoints.pixels import GIF, PIXEL_HEADERS
from gateway.errors import BadRequest, StoreUnavailable
from gateway.rights import SubjectRights
from gateway.settings import NetworkSection

FORM_MAX_AGE = 6 * 3600
RawHeaders = Iterable[tuple[bytes, bytes]]
_OPENED: Answer = (
    200,
    raw_headers(
        {**PIXEL_HEADERS, "Referrer-Policy": "no-referrer", "Content-Type": "image/gif"}, GIF
    ),
    GIF,
)
_CLICK = raw_headers({"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}, b"")


@dataclass(frozen=True, slots=True)
class EmailBeacons:
    """`/o` and `/c`, pure ASGI (`HotRoute`s): they read the signed token and hand the event
    to the recorder, which is all they are given."""

    email: EmailService

    def routes(self) -> list[HotRoute]:
        return [
            HotRoute("/o/{token}", self.open_beacon),
            HotRoute("/c/{token}", self.click_through),
        ]

    async def open_beacon(self, scope: Scope, receive: Receive, token: str) -> Answer:
        """The GIF, always; a GET of a valid token is an open for the recorder."""
        email = self.email
        opened = email.tokens.read_open(token)
        if opened is None:
            email.recorder.invalid("open")
        elif scope["method"] == "GET":
            note_open(email, opened, scope["headers"])
        return _OPENED

    async def click_through(self, scope: Scope, receive: Receive, token: str) -> Answer:
        """A redirect to exactly the signed target, or the link-not-found page."""
        email = self.email
        click = email.tokens.read_click(token)
        if click is None or not is_redirectable(click.target):
            email.recorder.invalid("click")
            language = page_language(None, _header(scope, b"accept-language"))
            page = link_not_found_page(language).encode()
            named = {**page_headers(), "Content-Type": "text/html; charset=utf-8"}
            return 404, raw_headers(named, page), page
        if scope["method"] == "GET":
            note_click(email, click, scope["headers"])
        # Location is exactly the signed text (checked at signing): no re-quoting, no joining.
        return 302, [*_CLICK, (b"location", click.target.encode("latin-1"))], b""


def note_open(email: EmailService, opened: OpenToken, headers: RawHeaders) -> None:
    """Hand a GET of a valid open beacon to the recorder (in memory; judged later)."""
    agent, _ = agent_and_prefetch(headers)
    email.recorder.opened(opened, agent_role("open", agent))


def note_click(email: EmailService, click: ClickToken, headers: RawHeaders) -> None:
    """Hand a GET of a valid link to the recorder, unless it is a speculative prefetch."""
    agent, prefetch = agent_and_prefetch(headers)
    if not prefetch:
        email.recorder.clicked(click, agent_role("click", agent))


def _header(scope: Scope, name: bytes) -> str:
    """The first value of a header the decision does not read (a page's language)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _link_not_found(request: Request) -> Response:
    language = page_language(None, request.headers.get("accept-language", ""))
    return HTMLResponse(link_not_found_page(language), status_code=404, headers=page_headers())


@dataclass(frozen=True, slots=True)
class PreferencesPage:
    """`/p/{token}`, a recipient's own page: it reads and changes their email consent, may
    erase them, and checks a form post comes from the gateway's own origin."""

    email: EmailService
    rights: SubjectRights
    public_origin: str
    network: NetworkSection

    def routes(self) -> list[Route]:
        return [Route("/p/{token}", self.preferences, methods=["GET", "POST"])]

    async def preferences(self, request: Request) -> Response:
        return await _preferences(self, request)


async def _preferences(page: PreferencesPage, request: Request) -> Response:
    email = page.email
    subject = email.tokens.read_preferences(request.path_params["token"])
    if subject is None:
        return _link_not_found(request)
    page_path = "/p/" + email.tokens.sign_preferences(subject)  # canonical, whatever was sent
    if request.method == "POST":
        return await _change(request, page, subject, page_path)
    if request.query_params.get("format") == "json":
        headers = {
            **page_headers(),
            "Content-Disposition": 'attachment; filename="email-tracking-data.json"',
        }
        return JSONResponse(await email.consents.export(subject), headers=headers)
    language = page_language(request.query_params.get("lang"), _accept_language(request))
    done = request.query_params.get("done", "")
    notice = PAGE_TEXTS[language].get(f"done_{done}", "") if done else ""
    return await _page(page, subject, page_path, language, notice)


async def _page(
    page: PreferencesPage,
    subject: str,
    page_path: str,
    language: str,
    notice: str,
    status: int = 200,
) -> Response:
    try:
        consent = await page.email.consents.state_of(subject)
        state: str = consent.state if consent else "not_asked"
    except StoreUnavailable:  # the page still answers, in words, and changes nothing
        state, status = "unavailable", 503
    html = preferences_page(
        language=language,
        state=state,
        page_path=page_path,
        form_token=page.email.tokens.sign_form(subject),
        notice=notice,
    )
    return HTMLResponse(html, status_code=status, headers=page_headers())


async def _change(
    request: Request, page: PreferencesPage, subject: str, page_path: str
) -> Response:
    form = await read_form(request)
    language = page_language(form.get("lang"), _accept_language(request))
    fresh = page.email.tokens.form_is_valid(form.get("form_token", ""), subject, FORM_MAX_AGE)
    if not (fresh and _same_origin(request, page.public_origin)):
        notice = PAGE_TEXTS[language]["expired"]
        return await _page(page, subject, page_path, language, notice, status=403)
    action = form.get("action")
    if action not in ("grant", "withdraw", "erase"):
        raise BadRequest('"action" must be grant, withdraw or erase')
    facts = request_facts(request, page.network)
    collection = Collection(
        action="preferences_page" if action == "grant" else "withdraw",
        facts=facts,
        page="/p/erase" if action == "erase" else "/p",
        shown=page_texts_shown(language),
    )
    if action == "erase":
        await page.rights.erase(subject)  # no receipt: only the tombstone stays
        done = "erased"
    else:
        await page.email.consents.choose(subject, grant=action == "grant", collection=collection)
        done = "granted" if action == "grant" else "withdrawn"
    # Post/Redirect/Get, to our own page only.
    return RedirectResponse(f"{page_path}?lang={language}&done={done}", status_code=303)


def _same_origin(request: Request, own_origin: str) -> bool:
    """A browser's form post names its origin; one from another site (or a sandboxed `null`)
    is refused. A client that sends no Origin must still hold a valid form token."""
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin:
        return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _accept_language(request: Request) -> str:
    return request.headers.get("accept-language", "")
