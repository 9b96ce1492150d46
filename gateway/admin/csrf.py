"""What every dashboard form post must pass: a small urlencoded body, a fresh CSRF token signed
for the session, and a browser origin that is the gateway's own.

The two checks cover each other: the token (in a hidden field, bound to the session) stops a
forged post even from a browser that sends no `Origin`; the Origin check stops a post from
another site even in the token's lifetime. The session cookie is `SameSite=Strict` on top.
"""

from __future__ import annotations

from starlette.requests import Request

from gateway.admin.session import AdminSession, AdminSessions
from gateway.errors import Forbidden

FORM_TOKEN_FIELD = "csrf_token"  # noqa: S105 - a field name, not a secret


class FormRefused(Forbidden):
    """A form post that failed the CSRF or Origin check; `reason` is shown to the admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_form(
    request: Request,
    form: dict[str, str],
    sessions: AdminSessions,
    session: AdminSession | None,
    own_origin: str,
) -> None:
    """Raise `FormRefused` unless the post came from our own page for this session."""
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin:
        raise FormRefused(
            f"This form was sent from {origin}, but the gateway's public URL is {own_origin}"
            " (GATEWAY_PUBLIC_URL). Open the dashboard at that address and try again."
        )
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise FormRefused("This form was sent from another site.")
    if not sessions.form_token_is_valid(form.get(FORM_TOKEN_FIELD, ""), session):
        raise FormRefused("This form has expired. Reload the page and try again.")
