"""The dashboard session cookie and the forms' CSRF tokens, with the clock under control."""

from __future__ import annotations

import pytest

from gateway.admin.session import LOGIN_FORM_SECONDS, AdminSessions
from gateway.admin_auth import token_hash

KEYS = ("session-test-key-0123456789abcdefghij",)
TOKEN, OTHER_TOKEN = "the-admin-token", "another-admin-token"


class Clock:
    def __init__(self, now: float = 1_764_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def sessions(
    clock: Clock, *tokens: str, minutes: int = 60, keys: tuple[str, ...] = KEYS
) -> AdminSessions:
    hashes = [token_hash(t) for t in tokens or (TOKEN,)]
    return AdminSessions(keys, hashes, minutes=minutes, secure=True, clock=clock)


def test_a_configured_token_opens_a_session_that_reads_back() -> None:
    clock = Clock()
    admin = sessions(clock)
    session = admin.open(TOKEN)
    assert session is not None
    assert admin.read(admin.cookie_value(session)) == session
    assert TOKEN not in admin.cookie_value(session)
    assert token_hash(TOKEN) not in admin.cookie_value(session)


@pytest.mark.parametrize("token", ["", "wrong", TOKEN + " ", "x" * 513])
def test_anything_else_opens_nothing(token: str) -> None:
    assert sessions(Clock()).open(token) is None


def test_a_session_ends_at_a_fixed_time() -> None:
    clock = Clock()
    admin = sessions(clock, minutes=60)
    cookie = admin.cookie_value(admin.open(TOKEN))  # type: ignore[arg-type]
    clock.now += 3600
    assert admin.read(cookie) is not None
    clock.now += 1
    assert admin.read(cookie) is None


@pytest.mark.parametrize("cookie", ["", "garbage", "a.b.c", "e30.AAAAAA.AAAA", "x" * 600, "🍪"])
def test_forged_or_broken_cookies_are_no_session(cookie: str) -> None:
    assert sessions(Clock()).read(cookie) is None


def test_a_cookie_signed_with_another_key_or_salt_is_no_session() -> None:
    clock = Clock()
    elsewhere = sessions(clock, keys=("a-different-key-0123456789abcdefghijk",))
    cookie = elsewhere.cookie_value(elsewhere.open(TOKEN))  # type: ignore[arg-type]
    assert sessions(clock).read(cookie) is None
    admin = sessions(clock)
    form = admin.form_token(admin.open(TOKEN))  # a CSRF token is not a session
    assert admin.read(form) is None


def test_removing_a_token_from_the_config_ends_its_sessions() -> None:
    clock = Clock()
    both = sessions(clock, TOKEN, OTHER_TOKEN)
    first, second = both.open(TOKEN), both.open(OTHER_TOKEN)
    assert first
    assert second
    after = sessions(clock, OTHER_TOKEN)  # a restart without the first token's hash
    assert after.read(both.cookie_value(first)) is None
    assert after.read(both.cookie_value(second)) == second


async def test_logging_out_ends_the_session_in_this_process() -> None:
    clock = Clock()
    admin = sessions(clock)
    session, other = admin.open(TOKEN), admin.open(TOKEN)
    assert session
    assert other
    await admin.end(session)
    assert admin.read(admin.cookie_value(session)) is None
    assert admin.read(admin.cookie_value(other)) == other


def test_a_form_token_is_bound_to_its_session_and_its_lifetime() -> None:
    clock = Clock()
    admin = sessions(clock, minutes=60)
    session, other = admin.open(TOKEN), admin.open(TOKEN)
    token = admin.form_token(session)
    assert admin.form_token_is_valid(token, session)
    assert not admin.form_token_is_valid(token, other)
    assert not admin.form_token_is_valid(token, None)
    assert not admin.form_token_is_valid("", session)
    assert not admin.form_token_is_valid(admin.cookie_value(session), session)  # type: ignore[arg-type]
    clock.now += 3601
    assert not admin.form_token_is_valid(token, session)


def test_the_login_form_token_lasts_an_hour() -> None:
    clock = Clock()
    admin = sessions(clock, minutes=600)
    token = admin.form_token(None)
    assert admin.form_token_is_valid(token, None)
    assert not admin.form_token_is_valid(token, admin.open(TOKEN))
    clock.now += LOGIN_FORM_SECONDS + 1
    assert not admin.form_token_is_valid(token, None)


def test_no_configured_token_means_closed() -> None:
    admin = AdminSessions(KEYS, [], minutes=60, secure=False)
    assert admin.closed
    assert admin.open(TOKEN) is None
    assert admin.open("") is None
