"""The consent token's limits, each at its exact boundary: age, length, id length, and the
payload fields a token may lack."""

from __future__ import annotations

import hashlib
import time

import pytest
from itsdangerous import TimestampSigner

from gateway.consent.cookie import AUTHORIZATION_SCHEME, COOKIE_NAME, ConsentCodec, presented_token
from gateway.consent.model import Consent
from gateway.signing import SALT_CONSENT, PlainSerializer, make_serializer

KEY = "boundary-key-" + "k" * 32
ID = "Xq3v9sK2mP0aL7tR4wZ8yA"
NOW = 1_764_000_000
DAY = 86400


def codec(days: int = 180, cache_size: int = 16384) -> ConsentCodec:
    return ConsentCodec((KEY,), max_age_days=days, cache_size=cache_size)


def signed(payload: object) -> str:
    return make_serializer((KEY,), SALT_CONSENT).dumps(payload)


def signed_at(token: str) -> int:
    _, moment = make_serializer((KEY,), SALT_CONSENT).loads(token, return_timestamp=True)
    return int(moment.timestamp())


def test_the_names_and_the_defaults() -> None:
    assert (COOKIE_NAME, AUTHORIZATION_SCHEME, SALT_CONSENT) == (
        "cg_consent",
        "Consent",
        "cg.consent",
    )
    default = ConsentCodec((KEY,), max_age_days=180)
    assert default.max_age == 180 * DAY
    assert default._verify.cache_info().maxsize == 16384


@pytest.mark.parametrize("days", [1, 30, 180, 395])
def test_a_token_is_good_for_exactly_max_age(days: int) -> None:
    token = codec(days).encode(Consent(ID, 1, frozenset(), NOW))
    start = signed_at(token)
    assert codec(days).decode(token, now=start + days * DAY) is not None
    assert codec(days).decode(token, now=start + days * DAY + 0.001) is None
    assert codec(days).decode(token, now=start) is not None


class _TwoDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * DAY


def test_without_now_the_age_is_counted_from_the_clock() -> None:
    old = PlainSerializer(
        [KEY],
        salt=SALT_CONSENT,
        signer=_TwoDaysAgo,
        signer_kwargs={"digest_method": hashlib.sha256},
    ).dumps({"i": ID, "r": 1, "g": [], "t": NOW, "p": 0})
    assert codec(days=1).decode(old) is None
    assert codec(days=3).decode(old) == Consent(ID, 1, frozenset(), NOW)
    fresh = codec(days=1).encode(Consent(ID, 1, frozenset(), NOW))
    assert codec(days=1).decode(fresh) is not None


def long_token(length: int) -> str:
    """A validly signed token of exactly `length` characters (padded with a refused vendor)."""
    for size in range(length * 3 // 4 - 150, length):  # base64: 4 characters per 3 bytes
        token = codec().encode(
            Consent(ID, 1, frozenset(), NOW, refused_vendors=frozenset({"v" * size}))
        )
        if len(token) == length:
            return token
    raise AssertionError(f"no token of {length} characters")


def test_a_token_longer_than_1024_characters_is_not_read() -> None:
    assert codec().decode(long_token(1023), now=NOW) is not None
    assert codec().decode(long_token(1025), now=NOW) is None


@pytest.mark.parametrize(("length", "valid"), [(15, False), (16, True), (64, True), (65, False)])
def test_consent_id_length_boundaries(length: int, valid: bool) -> None:
    token = signed({"i": "a" * length, "r": 1, "g": [], "t": NOW, "p": 0})
    decoded = codec().decode(token, now=NOW)
    assert (decoded is not None) is valid
    if valid:
        assert decoded == Consent("a" * length, 1, frozenset(), NOW)


def test_a_payload_without_p_is_no_gpc_and_without_v_refuses_no_vendor() -> None:
    decoded = codec().decode(signed({"i": ID, "r": 2, "g": ["analytics"], "t": NOW}), now=NOW)
    assert decoded == Consent(ID, 2, frozenset({"analytics"}), NOW, gpc=False)
    assert decoded.refused_vendors == frozenset()


@pytest.mark.parametrize(("p", "gpc"), [(0, False), (1, True)])
def test_p_is_the_gpc_flag(p: int, gpc: bool) -> None:
    decoded = codec().decode(signed({"i": ID, "r": 1, "g": [], "t": NOW, "p": p}), now=NOW)
    assert decoded is not None
    assert decoded.gpc is gpc
    assert codec().encode(Consent(ID, 1, frozenset(), NOW, gpc=gpc)) == signed(
        {"i": ID, "r": 1, "g": [], "t": NOW, "p": p}
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"r": 1, "g": [], "t": NOW, "p": 0},
        {"i": 12345678901234567890, "r": 1, "g": [], "t": NOW, "p": 0},
        {"i": ID, "g": [], "t": NOW, "p": 0},
        {"i": ID, "r": 1, "t": NOW, "p": 0},
        {"i": ID, "r": 1, "g": [], "p": 0},
        {"i": ID, "r": 1, "g": [], "t": 1.5, "p": 0},
        {"i": ID, "r": 1, "g": [], "t": str(NOW), "p": 0},
        {"i": ID, "r": 1, "g": ["analytics", 3], "t": NOW, "p": 0},
        {"i": ID, "r": 1, "g": [], "t": NOW, "p": 2},
        {"i": ID, "r": 1, "g": [], "t": NOW, "p": -1},
        {"i": ID, "r": 1, "g": [], "t": NOW, "p": "1"},
        {"i": ID, "r": 1, "g": [], "t": NOW, "p": 0, "v": ["ga4", None]},
        {"i": ID, "r": 1, "g": [], "t": NOW, "p": 0, "v": None},
        "a string",
        None,
    ],
)
def test_every_field_is_checked(payload: object) -> None:
    assert codec().decode(signed(payload), now=NOW) is None


@pytest.mark.parametrize("token", ["", None])
def test_no_token_is_no_consent(token: str | None) -> None:
    assert codec().decode(token, now=NOW) is None


def test_a_verified_token_is_served_from_the_cache_and_the_cache_is_bounded() -> None:
    small = codec(cache_size=2)
    tokens = [small.encode(Consent(ID, revision, frozenset(), NOW)) for revision in range(3)]
    assert [small.decode(t, now=NOW) for t in tokens] == [
        Consent(ID, r, frozenset(), NOW) for r in range(3)
    ]
    assert [small.decode(t, now=NOW) for t in tokens[1:]] == [
        Consent(ID, r, frozenset(), NOW) for r in (1, 2)
    ]
    info = small._verify.cache_info()
    assert (info.hits, info.misses, info.currsize, info.maxsize) == (2, 3, 2, 2)
    # a cached verification still ages: expiry is checked at every decode
    assert small.decode(tokens[2], now=signed_at(tokens[2]) + 180 * DAY + 1) is None


@pytest.mark.parametrize(
    ("authorization", "cookie", "token"),
    [
        ("Consent abc.def", "from-cookie", "abc.def"),
        ("consent abc.def", "from-cookie", "abc.def"),  # the scheme is case-insensitive
        ("CONSENT abc.def", None, "abc.def"),
        ("  Consent   abc.def  ", "from-cookie", "abc.def"),
        ("Consent", "from-cookie", None),  # an app that presents no token has none
        ("Consent    ", "from-cookie", None),
        ("Bearer abc.def", "from-cookie", "from-cookie"),
        ("ConsentX abc.def", "from-cookie", "from-cookie"),
        ("", "from-cookie", "from-cookie"),
        (None, "from-cookie", "from-cookie"),
        (None, None, None),
    ],
)
def test_presented_token(authorization: str | None, cookie: str | None, token: str | None) -> None:
    assert presented_token(authorization, cookie) == token


# Several `cg_consent` cookies in one request (`decode_presented`).

T = NOW + 100
TIE_A = Consent(ID, 2, frozenset({"analytics", "marketing"}), T, refused_vendors=frozenset({"ga4"}))
TIE_B = Consent(
    ID, 1, frozenset({"analytics", "preferences"}), T, gpc=True, refused_vendors=frozenset({"yt"})
)


def test_one_presented_token_is_decoded_with_the_given_time() -> None:
    token = codec(days=1).encode(TIE_A)
    start = signed_at(token)
    assert codec(days=1).decode_presented((token,), now=start) == TIE_A
    assert codec(days=1).decode_presented((token,), now=start + DAY + 1) is None


def test_every_presented_token_ages_with_the_given_time() -> None:
    tokens = (codec(days=1).encode(TIE_A), codec(days=1).encode(TIE_B))
    start = signed_at(tokens[0])
    assert codec(days=1).decode_presented(tokens, now=start + 2 * DAY) is None


def test_up_to_four_presented_tokens_are_read() -> None:
    token = codec().encode(TIE_A)
    assert codec().decode_presented((token,) * 4, now=NOW) == TIE_A
    assert codec().decode_presented((token,) * 5, now=NOW) is None


@pytest.mark.parametrize("order", [(TIE_A, TIE_B), (TIE_B, TIE_A)])
def test_two_choices_of_one_second_allow_only_what_both_allow(order: tuple[Consent, ...]) -> None:
    tokens = tuple(codec().encode(consent) for consent in order)
    assert codec().decode_presented(tokens, now=NOW) == Consent(
        ID, 1, frozenset({"analytics"}), T, gpc=True, refused_vendors=frozenset({"ga4", "yt"})
    )


def test_a_newer_choice_wins_whole_and_a_duplicate_changes_nothing() -> None:
    older = Consent(ID, 1, frozenset(), T - 1, gpc=True, refused_vendors=frozenset({"yt"}))
    newer, same = codec().encode(TIE_A), codec().encode(TIE_A)
    assert codec().decode_presented((codec().encode(older), newer), now=NOW) == TIE_A
    assert codec().decode_presented((newer, same), now=NOW) == TIE_A
