"""The consent cookie: round trips, key rotation, and nothing that fails to verify counts."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.signing import SALT_CLICK, make_serializer

OLD, NEW, OTHER = "old-key-" + "o" * 32, "new-key-" + "n" * 32, "other-key-" + "x" * 32
NOW = 1_764_000_000
CONSENT = Consent("Xq3v9sK2mP0aL7tR4wZ8yA", 1, frozenset({"analytics", "necessary"}), NOW, gpc=True)


def codec(*keys: str, days: int = 180) -> ConsentCodec:
    return ConsentCodec(keys, max_age_days=days)


def test_round_trip() -> None:
    token = codec(NEW).encode(CONSENT)
    assert codec(NEW).decode(token, now=NOW) == CONSENT


def test_payload_is_plain_base64url_json_the_banner_can_read() -> None:
    payload = codec(NEW).encode(CONSENT).split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert (
        decoded
        == b'{"g":["analytics","necessary"],"i":"Xq3v9sK2mP0aL7tR4wZ8yA","p":1,"r":1,"t":1764000000}'
    )


REFUSING = Consent(
    "Xq3v9sK2mP0aL7tR4wZ8yA",
    1,
    frozenset({"analytics", "marketing", "necessary"}),
    NOW,
    refused_vendors=frozenset({"youtube", "ga4"}),
)


def test_vendor_refusals_round_trip_and_are_readable_by_the_banner() -> None:
    token = codec(NEW).encode(REFUSING)
    assert codec(NEW).decode(token, now=NOW) == REFUSING
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert decoded.endswith(b',"v":["ga4","youtube"]}')


def test_a_token_minted_before_vendor_choices_reads_as_no_vendor_refused() -> None:
    """The exact payload the earlier code signed (no "v"), signed the way it signed it."""
    old_payload = {"i": "Xq3v9sK2mP0aL7tR4wZ8yA", "r": 1, "g": ["analytics"], "t": NOW, "p": 0}
    token = make_serializer((NEW,), "cg.consent").dumps(old_payload)
    decoded = codec(NEW).decode(token, now=NOW)
    assert decoded is not None
    assert decoded.refused_vendors == frozenset()
    assert decoded.allows_vendor("ga4", "analytics")
    assert not decoded.allows_vendor("meta_pixel", "marketing")


def test_a_choice_without_vendor_refusals_signs_the_old_payload() -> None:
    """Instances still running the earlier code read tokens the new code writes."""
    token = codec(NEW).encode(CONSENT)
    assert make_serializer((NEW,), "cg.consent").loads(token) == {
        "g": ["analytics", "necessary"],
        "i": "Xq3v9sK2mP0aL7tR4wZ8yA",
        "p": 1,
        "r": 1,
        "t": NOW,
    }


def test_allows_vendor() -> None:
    assert REFUSING.allows_vendor("matomo", "analytics")
    assert not REFUSING.allows_vendor("ga4", "analytics")
    assert not REFUSING.allows_vendor("linkedin", "preferences")
    assert REFUSING.allows_vendor("recaptcha", "necessary")


def test_a_cookie_signed_with_an_old_key_still_verifies_after_rotation() -> None:
    token = codec(OLD).encode(CONSENT)
    assert codec(OLD, NEW).decode(token, now=NOW) == CONSENT


def test_the_newest_key_signs() -> None:
    token = codec(OLD, NEW).encode(CONSENT)
    assert codec(NEW).decode(token, now=NOW) == CONSENT
    assert codec(OLD).decode(token, now=NOW) is None


def test_a_token_is_what_the_serializer_of_the_newest_key_writes() -> None:
    """The codec signs with one signer made at start; its token is `dumps`' own, byte for
    byte (older instances and the banner read it as before)."""
    before = int(time.time())
    token = codec(OLD, NEW).encode(CONSENT)
    payload, signed_at = make_serializer((NEW,), "cg.consent").loads(token, return_timestamp=True)
    assert payload == {
        "i": CONSENT.consent_id,
        "r": 1,
        "g": ["analytics", "necessary"],
        "t": NOW,
        "p": 1,
    }
    assert before <= signed_at.timestamp() <= time.time()
    written = make_serializer((NEW,), "cg.consent").dumps(payload)
    assert token.split(".")[0] == written.split(".")[0]


def test_a_cookie_signed_with_a_removed_key_does_not_verify() -> None:
    token = codec(OLD).encode(CONSENT)
    assert codec(NEW).decode(token, now=NOW) is None


def test_expired_cookie_is_no_consent() -> None:
    token = codec(NEW, days=1).encode(CONSENT)  # signed now
    now = time.time()
    assert codec(NEW, days=1).decode(token, now=now + 86400 - 5) is not None
    assert codec(NEW, days=1).decode(token, now=now + 86400 + 5) is None


def test_a_token_with_another_salt_is_no_consent() -> None:
    payload = {"i": CONSENT.consent_id, "r": 1, "g": ["marketing"], "t": NOW, "p": 0}
    click_token = make_serializer((NEW,), SALT_CLICK).dumps(payload)
    assert codec(NEW).decode(click_token, now=NOW) is None


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3],
        {"i": "short", "r": 1, "g": [], "t": NOW, "p": 0},
        {"i": "Xq3v9sK2mP0aL7tR4wZ8yA", "r": "1", "g": [], "t": NOW, "p": 0},
        {"i": "Xq3v9sK2mP0aL7tR4wZ8yA", "r": 1, "g": "analytics", "t": NOW, "p": 0},
        {"i": "Xq3v9sK2mP0aL7tR4wZ8yA", "r": 1, "g": [], "t": NOW, "p": 7},
        {"i": "Xq3v9sK2mP0aL7tR4wZ8yA", "r": 1, "g": [], "t": NOW, "p": 0, "v": "ga4"},
        {"i": "Xq3v9sK2mP0aL7tR4wZ8yA", "r": 1, "g": [], "t": NOW, "p": 0, "v": [4]},
    ],
)
def test_validly_signed_but_foreign_shapes_are_no_consent(payload: object) -> None:
    """Even a leaked key cannot make the gateway build odd consent objects."""
    token = make_serializer((NEW,), "cg.consent").dumps(payload)
    assert codec(NEW).decode(token, now=NOW) is None


def test_old_revision_is_recognised_as_not_current() -> None:
    decoded = codec(NEW).decode(codec(NEW).encode(CONSENT), now=NOW)
    assert decoded is not None
    assert decoded.is_current(1)
    assert not decoded.is_current(2)


def test_decoding_is_cached() -> None:
    gateway_codec = codec(NEW)
    token = gateway_codec.encode(CONSENT)
    for _ in range(3):
        gateway_codec.decode(token, now=NOW)
    assert gateway_codec._verify.cache_info().hits >= 2


def test_itsdangerous_sha256_is_used() -> None:
    token = codec(NEW).encode(CONSENT)
    reference = URLSafeTimedSerializer(
        NEW, salt="cg.consent", signer_kwargs={"digest_method": hashlib.sha256}
    )
    assert reference.loads(token)["i"] == CONSENT.consent_id


VALID = codec(NEW).encode(CONSENT)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_verify_and_never_raise(data: bytes) -> None:
    assert codec(NEW).decode(data.decode("latin-1"), now=NOW) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(VALID) - 1))
def test_truncations_never_verify(cut: int) -> None:
    assert codec(NEW).decode(VALID[:cut], now=NOW) is None


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(min_value=0, max_value=7))
def test_bit_flips_never_verify(position: int, bit: int) -> None:
    flipped = chr(ord(VALID[position]) ^ (1 << bit))
    tampered = VALID[:position] + flipped + VALID[position + 1 :]
    if tampered == VALID:
        return
    result = codec(NEW).decode(tampered, now=NOW)
    # base64 padding bits can flip without changing the decoded bytes; then the consent is identical
    assert result is None or result == CONSENT


def test_presented_tokens_count_only_when_their_valid_ones_share_one_consent_id() -> None:
    codec = ConsentCodec(keys=("k" * 32,), max_age_days=180)
    early = codec.encode(Consent("consent-id-0000000001", 1, frozenset({"analytics"}), 100))
    later = codec.encode(Consent("consent-id-0000000001", 1, frozenset(), 200))
    stranger = codec.encode(Consent("consent-id-0000000002", 1, frozenset({"analytics"}), 300))
    now = 1000.0
    assert codec.decode_presented((), now) is None
    assert codec.decode_presented(("forged", early), now) == codec.decode(early, now)
    assert codec.decode_presented((early, later), now) == codec.decode(later, now)
    assert codec.decode_presented((later, early), now) == codec.decode(later, now)
    assert codec.decode_presented((early, stranger), now) is None
    assert codec.decode_presented((early,) * 4 + ("x",), now) is None  # more than four: none
