"""`/o` open beacon, `/c` click-through, `/p` a recipient's preferences page.

`/o` always answers the GIF; `/c` always redirects to the target in its signed token, or shows
a 404 page — never a redirect anywhere else. Both only read the token, classify the agent
(cached) and hand the event to the recorder in memory: no store round trip on the request.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.email.page_texts import PAGE_TEXTS, page_language, page_texts_shown
from gateway.email.pages import link_not_found_page, page_headers, preferences_page
from gateway.email.recipients import Collection
from gateway.email.service import EmailService
from gateway.email.targets import is_redirectable
from gateway.email.tokens import ClickToken, OpenToken
from gateway.email.verdicts import agent_and_prefetch, agent_role
from gateway.endpoints.bodies import read_form
from gateway.endpoints.facts import request_facts
from gateway.endpoints.pixels import gif_response
from gateway.errors import BadRequest, StoreUnavailable
from gateway.runtime import Gateway, gateway_of

FORM_MAX_AGE = 6 * 3600
RawHeaders = Iterable[tuple[bytes, bytes]]
_CLICK_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


async def open_beacon(request: Request) -> Response:
    email = gateway_of(request).email
    opened = email.tokens.read_open(request.path_params["token"])
    if opened is None:
        email.recorder.invalid("open")
    elif request.method == "GET":
        note_open(email, opened, request.scope["headers"])
    return gif_response({"Referrer-Policy": "no-referrer"})


def note_open(email: EmailService, opened: OpenToken, headers: RawHeaders) -> None:
    """Hand a GET of a valid open beacon to the recorder (in memory; judged later)."""
    agent, _ = agent_and_prefetch(headers)
    email.recorder.opened(opened, agent_role("open", agent))


def note_click(email: EmailService, click: ClickToken, headers: RawHeaders) -> None:
    """Hand a GET of a valid link to the recorder, unless it is a speculative prefetch."""
    agent, prefetch = agent_and_prefetch(headers)
    if not prefetch:
        email.recorder.clicked(click, agent_role("click", agent))


async def click_through(request: Request) -> Response:
    email = gateway_of(request).email
    click = email.tokens.read_click(request.path_params["token"])
    if click is None or not is_redirectable(click.target):
        email.recorder.invalid("click")
        return _link_not_found(request)
    if request.method == "GET":
        note_click(email, click, request.scope["headers"])
    # Location is exactly the signed text (checked at signing): no re-quoting, no joining.
    return Response(status_code=302, headers={**_CLICK_HEADERS, "Location": click.target})


def _link_not_found(request: Request) -> Response:
    language = page_language(None, request.headers.get("accept-language", ""))
    return HTMLResponse(link_not_found_page(language), status_code=404, headers=page_headers())


async def preferences(request: Request) -> Response:
    gateway = gateway_of(request)
    email = gateway.email
    subject = email.tokens.read_preferences(request.path_params["token"])
    if subject is None:
        return _link_not_found(request)
    page_path = "/p/" + email.tokens.sign_preferences(subject)  # canonical, whatever was sent
    if request.method == "POST":
        return await _change(request, gateway, subject, page_path)
    if request.query_params.get("format") == "json":
        headers = {
            **page_headers(),
            "Content-Disposition": 'attachment; filename="email-tracking-data.json"',
        }
        return JSONResponse(await email.consents.export(subject), headers=headers)
    language = page_language(request.query_params.get("lang"), _accept_language(request))
    done = request.query_params.get("done", "")
    notice = PAGE_TEXTS[language].get(f"done_{done}", "") if done else ""
    return await _page(gateway, subject, page_path, language, notice)


async def _page(
    gateway: Gateway, subject: str, page_path: str, language: str, notice: str, status: int = 200
) -> Response:
    try:
        consent = await gateway.email.consents.state_of(subject)
        state: str = consent.state if consent else "not_asked"
    except StoreUnavailable:  # the page still answers, in words, and changes nothing
        state, status = "unavailable", 503
    html = preferences_page(
        language=language,
        state=state,
        page_path=page_path,
        form_token=gateway.email.tokens.sign_form(subject),
        notice=notice,
    )
    return HTMLResponse(html, status_code=status, headers=page_headers())


async def _change(request: Request, gateway: Gateway, subject: str, page_path: str) -> Response:
    form = await read_form(request)
    language = page_language(form.get("lang"), _accept_language(request))
    fresh = gateway.email.tokens.form_is_valid(form.get("form_token", ""), subject, FORM_MAX_AGE)
    if not (fresh and _same_origin(request, gateway.settings.site.public_origin)):
        notice = PAGE_TEXTS[language]["expired"]
        return await _page(gateway, subject, page_path, language, notice, status=403)
    action = form.get("action")
    if action not in ("grant", "withdraw", "erase"):
        raise BadRequest('"action" must be grant, withdraw or erase')
    facts = request_facts(request, gateway.settings.network)
    collection = Collection(
        action="preferences_page" if action == "grant" else "withdraw",
        facts=facts,
        page="/p/erase" if action == "erase" else "/p",
        shown=page_texts_shown(language),
    )
    if action == "erase":
        await gateway.rights.erase(subject)  # no receipt: only the tombstone stays
        done = "erased"
    else:
        await gateway.email.consents.choose(subject, grant=action == "grant", collection=collection)
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


routes = [
    Route("/o/{token}", open_beacon, methods=["GET"]),
    Route("/c/{token}", click_through, methods=["GET", "HEAD"]),
    Route("/p/{token}", preferences, methods=["GET", "POST"]),
]
