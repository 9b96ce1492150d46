"""How much one request may ask to sign of an email's links: the email code enforces these
(`gateway.email.links`, `gateway.email.targets`) and the API's body declarations state them
in `/openapi.json` (`gateway.bodies.requests`), so both read them from here."""

from __future__ import annotations

MAX_LINKS = 500  # links signed in one request
MAX_TARGET_LENGTH = 2048  # characters of one click target
