"""`/admin`: log in with an admin token, see the dashboard, look up, export and erase subjects.

    GET  /admin                  the dashboard (`?days=7|14|30`), or a redirect to the login
    GET  /admin/login            the login form;  POST: token → session cookie → /admin
    POST /admin/logout           end the session
    GET  /admin/receipts.csv     every receipt as CSV, streamed (as `GET /api/receipts`)
    POST /admin/subject          look a subject up
    POST /admin/subject/export   download what is held about a subject (JSON)
    POST /admin/subject/erase    ask to confirm; with `confirmed=yes`, erase

Subject ids travel only in POST bodies, never in URLs (history, proxies' logs). Every POST
passes `check_form` (CSRF token + Origin); every page has the strict headers of `pages`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from gateway.admin.csrf import FORM_TOKEN_FIELD, FormRefused, check_form
from gateway.admin.dashboard import PERIODS, DashboardSources, build_dashboard, period_of
from gateway.admin.pages import page_headers, render
from gateway.admin.session import COOKIE_NAME, AdminSession, AdminSessions
from gateway.admin.subjects import clean_subject, erased_summary, summarize
from gateway.admin_auth import FailedAdminAttempts
from gateway.endpoints.bodies import read_form
from gateway.errors import StoreUnavailable, TooManyRequests
from gateway.inputs import checked_moment
from gateway.receipts.export import MEDIA_TYPES, export_chunks, started
from gateway.rights import SubjectRights

log = logging.getLogger("gateway.admin")


@dataclass(frozen=True, slots=True)
class AdminSite:
    """What `/admin` uses, and nothing else: the sessions, the limiter of wrong tokens (the
    admin API's), the gateway's own origin (forms' Origin check), the subjects' rights and
    what the dashboard reads (which gives the receipts export its receipts and clock too)."""

    sessions: AdminSessions
    attempts: FailedAdminAttempts
    own_origin: str
    rights: SubjectRights
    sources: DashboardSources

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/admin", self.dashboard, methods=["GET"]),
            Route("/admin/login", self.login_form, methods=["GET"]),
            Route("/admin/login", self.login, methods=["POST"]),
            Route("/admin/logout", self.logout, methods=["POST"]),
            Route("/admin/receipts.csv", self.receipts_csv, methods=["GET"]),
            Route("/admin/subject", self.subject, methods=["POST"]),
            Route("/admin/subject/export", self.subject_export, methods=["POST"]),
            Route("/admin/subject/erase", self.subject_erase, methods=["POST"]),
        ]

    # ------------------------------------------------------------------ helpers

    async def _session(self, request: Request) -> AdminSession | None:
        return await self.sessions.current(request.cookies.get(COOKIE_NAME))

    def _closed(self) -> Response:
        return render("closed.html", status=403)

    def _page(
        self, template: str, session: AdminSession, status: int = 200, **context: Any
    ) -> Response:
        return render(
            template,
            status=status,
            csrf=self.sessions.form_token(session),
            csrf_field=FORM_TOKEN_FIELD,
            signed_in=True,
            **context,
        )

    def _login_page(
        self, error: str = "", status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return render(
            "login.html",
            status=status,
            headers=headers,
            error=error,
            csrf=self.sessions.form_token(None),
            csrf_field=FORM_TOKEN_FIELD,
            minutes=self.sessions.max_age // 60,
        )

    @staticmethod
    def _to_login() -> Response:
        return RedirectResponse("/admin/login", status_code=303, headers={"Vary": "Cookie"})

    async def _checked_form(
        self, request: Request
    ) -> tuple[AdminSession, dict[str, str]] | Response:
        """The session and form of an admin POST, or the response that refuses it."""
        if self.sessions.closed:
            return self._closed()
        session = await self._session(request)
        if session is None:
            return self._to_login()
        form = await read_form(request)
        try:
            check_form(request, form, self.sessions, session, self.own_origin)
        except FormRefused as refused:
            return self._page("refused.html", session, status=403, reason=refused.reason)
        return session, form

    # ------------------------------------------------------------------ login and out

    async def login_form(self, request: Request) -> Response:
        if self.sessions.closed:
            return self._closed()
        if await self._session(request) is not None:
            return RedirectResponse("/admin", status_code=303)
        return self._login_page()

    async def login(self, request: Request) -> Response:
        if self.sessions.closed:
            return self._closed()
        form = await read_form(request)
        try:
            check_form(request, form, self.sessions, None, self.own_origin)
        except FormRefused as refused:
            return self._login_page(refused.reason, status=403)
        attempts = self.attempts
        client = attempts.client_of(request)
        try:
            await attempts.check(client)
        except TooManyRequests as limited:
            message = f"Too many wrong tokens. Try again in {limited.retry_after} seconds."
            return self._login_page(message, status=429, headers=limited.headers())
        token = form.get("token", "").strip()
        if not token:
            return self._login_page("Enter an admin token.", status=400)
        session = self.sessions.open(token)
        if session is None:
            await attempts.failed(client)
            log.warning("admin login refused: wrong token")
            return self._login_page("That token is not an admin token.", status=401)
        log.info("admin session opened (key %s)", session.key_id)
        response = RedirectResponse("/admin", status_code=303)
        self.sessions.set_cookie(response, session)
        return response

    async def logout(self, request: Request) -> Response:
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        await self.sessions.end(session)
        response = self._to_login()
        self.sessions.clear_cookie(response)
        return response

    # ------------------------------------------------------------------ the dashboard

    async def dashboard(self, request: Request) -> Response:
        if self.sessions.closed:
            return self._closed()
        session = await self._session(request)
        if session is None:
            return self._to_login()
        period = period_of(request.query_params.get("days"))
        figures = await build_dashboard(self.sources, period)
        return self._page("dashboard.html", session, d=figures, periods=PERIODS)

    async def receipts_csv(self, request: Request) -> Response:
        if self.sessions.closed:
            return self._closed()
        if await self._session(request) is None:
            return self._to_login()
        query = request.query_params
        since = checked_moment(query.get("since"), "since")
        until = checked_moment(query.get("until"), "until")
        receipts = await started(self.sources.receipts.iter_receipts(since, until))
        day = datetime.fromtimestamp(self.sources.clock(), UTC).strftime("%Y-%m-%d")
        headers = {
            **page_headers(),
            "Content-Disposition": f'attachment; filename="receipts-{day}.csv"',
        }
        return StreamingResponse(
            export_chunks(receipts, "csv"), media_type=MEDIA_TYPES["csv"], headers=headers
        )

    # ------------------------------------------------------------------ subjects

    async def subject(self, request: Request) -> Response:
        checked = await self._checked_subject(request)
        if isinstance(checked, Response):
            return checked
        session, form, subject = checked
        try:
            export = await self.rights.export(subject)
        except StoreUnavailable:
            return self._subject_problem(session, form, "The store did not answer.", status=503)
        return self._page("subject.html", session, summary=summarize(subject, export))

    async def _checked_subject(
        self, request: Request
    ) -> tuple[AdminSession, dict[str, str], str] | Response:
        """The session, form and a well-formed subject id of a subject form, or the answer."""
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        subject = clean_subject(form.get("subject"))
        if subject is None:
            return self._subject_problem(
                session, form, "A subject id is 1 to 64 letters, digits or ._:-"
            )
        return session, form, subject

    def _subject_problem(
        self, session: AdminSession, form: dict[str, str], problem: str, status: int = 422
    ) -> Response:
        typed = form.get("subject", "")[:100]
        return self._page("subject.html", session, status=status, problem=problem, typed=typed)

    async def subject_export(self, request: Request) -> Response:
        checked = await self._checked_subject(request)
        if isinstance(checked, Response):
            return checked
        _, _, subject = checked
        export = await self.rights.export(subject)
        headers = {
            **page_headers(),
            "Content-Disposition": f'attachment; filename="subject-{subject}.json"',
        }
        return JSONResponse(export, headers=headers)

    async def subject_erase(self, request: Request) -> Response:
        checked = await self._checked_subject(request)
        if isinstance(checked, Response):
            return checked
        session, form, subject = checked
        if form.get("confirmed") != "yes":
            return self._page("erase_confirm.html", session, subject=subject)
        try:
            erased = await self.rights.erase(subject)
        except StoreUnavailable:
            return self._subject_problem(
                session, form, "The store did not answer; nothing was erased.", status=503
            )
        return self._page("erased.html", session, subject=subject, erased=erased_summary(erased))
