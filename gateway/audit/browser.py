"""Which Chromium the audit drives, how it is launched, and what user agent it shows.

Playwright is an optional dependency (`pip install 'consent-gateway[audit]'`); nothing here
imports it. Chromium comes from `--browser PATH`, `$CONSENT_AUDIT_BROWSER`, Debian's or
Ubuntu's packages, or else the browser Playwright downloads itself where the network allows it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from gateway.errors import ConfigError

BROWSER_VARIABLE = "CONSENT_AUDIT_BROWSER"
CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "/usr/lib/chromium/chromium-headless-shell",
)
LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
)  # fmt: skip
MISSING_PLAYWRIGHT = (
    "the audit needs Playwright: pip install 'consent-gateway[audit]'"
    " (and a Chromium: Debian's `chromium` package, or the one Playwright downloads itself)"
)
VIEWPORT = {"width": 1280, "height": 800}


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium to launch; None lets Playwright use the one it downloaded itself."""
    chosen = explicit or os.environ.get(BROWSER_VARIABLE)
    if chosen:
        path = Path(chosen)
        resolved = str(path) if path.is_file() else shutil.which(chosen)
        if not resolved or not os.access(resolved, os.X_OK):
            raise ConfigError("--browser", chosen, "expected an executable Chromium")
        return resolved
    for candidate in CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def launch_options(executable: str | None, extra_args: Sequence[str] = ()) -> dict[str, object]:
    return {"executable_path": executable, "args": [*LAUNCH_ARGS, *extra_args]}


def visitor_user_agent(version: str) -> str:
    """A desktop Chrome user agent for this Chromium's version.

    Headless Chromium announces itself as "HeadlessChrome", which the gateway rightly treats
    as a bot (bots never reach a vendor): an audit must see what a person's browser sees.

    >>> visitor_user_agent("156.0.8078.108")
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'
    """
    major = version.split(".", 1)[0] or "0"
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        f" Chrome/{major}.0.0.0 Safari/537.36"
    )


GPC_SCRIPT = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"


def context_options(
    user_agent: str, gpc: bool, credentials: tuple[str, str] | None = None
) -> dict[str, object]:
    """A new visitor's browser context; with GPC both halves: the header and the DOM property."""
    options: dict[str, object] = {"user_agent": user_agent, "viewport": VIEWPORT}
    if credentials:  # sent when the site asks (HTTP 401), never part of a recorded URL
        options["http_credentials"] = {"username": credentials[0], "password": credentials[1]}
    if gpc:
        options["extra_http_headers"] = {"Sec-GPC": "1"}
    return options
