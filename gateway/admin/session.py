"""The dashboard's session: a signed, short-lived cookie, opened by logging in with an admin token.

    cg_admin = URLSafeTimedSerializer(keys, salt="cg.admin").dumps({"s": session id, "k": key id})

The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/admin`, `Secure` on an https gateway, and
verified with `max_age` (`admin_session_minutes`): a session ends at a fixed time, however
busy. `k` names the configured token hash that opened it, so removing that hash from the
configuration ends its sessions too. The token itself is never stored. Logging out writes the
session's end to the store, so every instance and worker refuses the cookie from then on.

Every form carries a CSRF token signed for its session (salt `cg.admin.csrf`); the login form,
which has no session yet, carries one signed for no session that lasts an hour.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from starlette.responses import Response

from gateway.admin_auth import MAX_TOKEN_LENGTH, token_hash, token_is_valid
from gateway.errors import StoreUnavailable
from gateway.signing import SALT_ADMIN, PlainSerializer

log = logging.getLogger("gateway.admin")

COOKIE_NAME = "cg_admin"
COOKIE_PATH = "/admin"
SALT_CSRF = SALT_ADMIN + ".csrf"
LOGIN_FORM_SECONDS = 3600
_NO_SESSION = "-"
_MAX_ENDED = 10_000


@dataclass(frozen=True, slots=True)
class AdminSession:
    session_id: str
    key_id: str  # which configured token hash opened the session (a digest of it, not it)


def _key_id(configured_hash: str) -> str:
    return hashlib.sha256(b"cg.admin.key|" + configured_hash.lower().encode()).hexdigest()[:16]


def _ended_mark(session: AdminSession) -> str:
    return f"admin-session-ended|{session.session_id}"


class _ClockedSigner(TimestampSigner):
    """A timestamp signer that reads the time from `clock`, so tests control expiry."""

    def __init__(self, *args: Any, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def get_timestamp(self) -> int:
        return int(self.clock())


def _serializer(
    keys: tuple[str, ...], salt: str, clock: Callable[[], float]
) -> URLSafeTimedSerializer:
    """Like `gateway.signing.make_serializer` (SHA-256, keys oldest → newest), with a clock."""
    return PlainSerializer(
        list(keys),
        salt=salt,
        signer=_ClockedSigner,
        signer_kwargs={"digest_method": hashlib.sha256, "clock": clock},
    )


class EndedSessions(Protocol):
    """Where ended sessions are marked so every instance sees them: the store's shared state
    (`gateway.store.shared.SharedState`), given by whoever builds the sessions."""

    async def mark(self, name: str, now: float) -> float | None: ...

    async def set_mark(self, name: str, until: float) -> None: ...


class AdminSessions:
    """Opens, reads and ends dashboard sessions, and signs and checks their forms' CSRF tokens.

    >>> sessions = AdminSessions(("k" * 32,), [token_hash("t0ken")], minutes=60, secure=True)
    >>> session = sessions.open("t0ken")
    >>> sessions.read(sessions.cookie_value(session)) == session
    True
    """

    def __init__(
        self,
        keys: tuple[str, ...],
        token_hashes: Sequence[str],
        *,
        minutes: int,
        secure: bool,
        store: EndedSessions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.token_hashes = tuple(token_hashes)
        self.key_ids = frozenset(_key_id(configured) for configured in token_hashes)
        self.max_age = minutes * 60
        self.secure = secure
        self.clock = clock
        self._cookies = _serializer(keys, SALT_ADMIN, clock)
        self._forms = _serializer(keys, SALT_CSRF, clock)
        self._ended: dict[str, float] = {}  # session id → when its cookie would have expired

    @property
    def closed(self) -> bool:
        """No token is configured: nobody can log in."""
        return not self.token_hashes

    def open(self, token: str) -> AdminSession | None:
        """A new session if `token` is a configured admin token, else None."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        if not token_is_valid(token, self.token_hashes):
            return None
        return AdminSession(secrets.token_urlsafe(16), _key_id(token_hash(token)))

    def cookie_value(self, session: AdminSession) -> str:
        return self._cookies.dumps({"s": session.session_id, "k": session.key_id})

    async def current(self, cookie: str | None) -> AdminSession | None:
        """The session in `cookie` unless it was ended on any instance (`read` + the store).
        While the store is down only this process's logouts count: the dashboard still opens
        to say so, and nothing it does without the store changes any data."""
        session = self.read(cookie)
        if session is None or self.store is None:
            return session
        try:
            ended = await self.store.mark(_ended_mark(session), self.clock())
        except StoreUnavailable:
            return session
        return None if ended is not None else session

    def read(self, cookie: str | None) -> AdminSession | None:
        """The session in `cookie`; None if absent, forged, expired, ended here or its token
        removed. Signature and memory only: `current` also asks the store."""
        if not cookie or len(cookie) > 512:
            return None
        try:
            payload = self._cookies.loads(cookie, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not isinstance(payload, dict):
            return None
        session_id, key_id = payload.get("s"), payload.get("k")
        if not (isinstance(session_id, str) and isinstance(key_id, str)):
            return None
        if key_id not in self.key_ids or session_id in self._ended:
            return None
        return AdminSession(session_id, key_id)

    async def end(self, session: AdminSession) -> None:
        """Log out: every instance refuses the session from now on (the cookie is cleared too).
        The end is kept until the cookie would have expired anyway."""
        now = self.clock()
        self._ended = {sid: until for sid, until in self._ended.items() if until > now}
        if len(self._ended) < _MAX_ENDED:
            self._ended[session.session_id] = now + self.max_age
        if self.store is not None:
            try:
                await self.store.set_mark(_ended_mark(session), now + self.max_age)
            except StoreUnavailable:
                log.warning("admin logout: the store is unavailable; ended on this process only")

    def set_cookie(self, response: Response, session: AdminSession) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self.cookie_value(session),
            max_age=self.max_age,
            path=COOKIE_PATH,
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE_NAME, path=COOKIE_PATH, secure=self.secure, httponly=True, samesite="strict"
        )

    def form_token(self, session: AdminSession | None) -> str:
        """The CSRF token for a form of `session` (None: the login form)."""
        return self._forms.dumps(session.session_id if session else _NO_SESSION)

    def form_token_is_valid(self, token: str, session: AdminSession | None) -> bool:
        max_age = self.max_age if session else LOGIN_FORM_SECONDS
        try:
            signed_for = self._forms.loads(token, max_age=max_age)
        except BadSignature:
            return False
        expected = session.session_id if session else _NO_SESSION
        return isinstance(signed_for, str) and secrets.compare_digest(signed_for, expected)
