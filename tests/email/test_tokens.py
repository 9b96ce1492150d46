"""Email tokens: what verifies, what never does, and how small they are."""

from __future__ import annotations

import hashlib

import pytest
from itsdangerous import URLSafeSerializer

from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.email.links import EmailSigner
from gateway.email.tokens import ClickToken, EmailTokens, OpenToken
from gateway.signing import SALT_CLICK, SALT_OPEN, SALT_PREFS

OLD_KEY, NEW_KEY, OTHER_KEY = "o" * 40, "n" * 40, "x" * 40
CLICK = ClickToken("spring-26", "esp-42", 3, "https://www.example.com/offer?x=1", 1_767_225_600)
OPEN = OpenToken("spring-26", "esp-42", 1_767_225_600)


def test_tokens_round_trip() -> None:
    tokens = EmailTokens((NEW_KEY,))
    assert tokens.read_click(tokens.sign_click(CLICK)) == CLICK
    assert tokens.read_open(tokens.sign_open(OPEN)) == OPEN
    assert tokens.read_preferences(tokens.sign_preferences("esp-42")) == "esp-42"


def test_rotation_old_tokens_verify_and_the_newest_key_signs() -> None:
    before = EmailTokens((OLD_KEY,)).sign_click(CLICK)
    rotated = EmailTokens((OLD_KEY, NEW_KEY))
    assert rotated.read_click(before) == CLICK
    assert EmailTokens((NEW_KEY,)).read_click(rotated.sign_click(CLICK)) == CLICK
    assert EmailTokens((NEW_KEY,)).read_click(before) is None  # old key dropped


def _purposes(tokens: EmailTokens) -> dict[str, str]:
    return {
        "click": tokens.sign_click(CLICK),
        "open": tokens.sign_open(OPEN),
        "preferences": tokens.sign_preferences("esp-42"),
        "form": tokens.sign_form("esp-42"),
    }


@pytest.mark.parametrize("purpose", ["click", "open", "preferences", "form"])
def test_a_token_of_one_purpose_is_nothing_to_the_others(purpose: str) -> None:
    tokens = EmailTokens((NEW_KEY,))
    token = _purposes(tokens)[purpose]
    assert (tokens.read_click(token) is None) == (purpose != "click")
    assert (tokens.read_open(token) is None) == (purpose != "open")
    assert (tokens.read_preferences(token) is None) == (purpose != "preferences")


def test_a_consent_cookie_is_no_email_token() -> None:
    cookie = ConsentCodec((NEW_KEY,), 180).encode(
        Consent("c" * 22, 1, frozenset({"analytics"}), 1_767_225_600)
    )
    tokens = EmailTokens((NEW_KEY,))
    assert tokens.read_click(cookie) is None
    assert tokens.read_open(cookie) is None
    assert tokens.read_preferences(cookie) is None


def _forged(salt: str, payload: object, key: str = NEW_KEY) -> str:
    serializer = URLSafeSerializer(key, salt=salt, signer_kwargs={"digest_method": hashlib.sha256})
    token = serializer.dumps(payload)
    return token if isinstance(token, str) else token.decode()


@pytest.mark.parametrize(
    "payload",
    [
        {"campaign": "c", "subject": "s", "link": 1, "target": "https://x.test/", "sent": 1},
        ["c1", "esp-1", 1, "https://x.test/"],  # too short
        ["c1", "esp-1", 1, "https://x.test/", 1, "extra"],
        ["c1", "a@b.example", 1, "https://x.test/", 1],  # an address is never a subject
        ["c|1", "esp-1", 1, "https://x.test/", 1],
        ["c1", "esp-1", True, "https://x.test/", 1],  # a bool is not a link index
        ["c1", "esp-1", -1, "https://x.test/", 1],
        ["c1", "esp-1", 1, None, 1],
        ["c1", "esp-1", 1, "https://x.test/", 1.5],
        ["c1", "{esp-1}", 1, "https://x.test/", 1],
    ],
)
def test_a_well_signed_payload_of_a_shape_we_never_sign_reads_as_nothing(payload: object) -> None:
    assert EmailTokens((NEW_KEY,)).read_click(_forged(SALT_CLICK, payload)) is None


def test_wrong_key_tamper_and_truncation_read_as_nothing() -> None:
    tokens = EmailTokens((NEW_KEY,))
    good = tokens.sign_click(CLICK)
    payload, signature = good.split(".")
    fields = [CLICK.campaign, CLICK.subject, CLICK.link, CLICK.target, CLICK.sent_at]
    assert tokens.read_click(_forged(SALT_CLICK, fields)) == CLICK  # the same, signed by hand
    assert tokens.read_click(_forged(SALT_CLICK, fields, OTHER_KEY)) is None
    assert tokens.read_click(good[:-1]) is None
    assert tokens.read_click(good[:-10]) is None
    assert tokens.read_click(payload) is None
    assert tokens.read_click(payload[:-2] + "AA." + signature) is None
    assert tokens.read_click("") is None
    assert tokens.read_click("." * 10) is None
    assert tokens.read_click("A" * 5000) is None
    assert tokens.read_open(_forged(SALT_OPEN, ["c1", "esp-1"])) is None
    assert tokens.read_preferences(_forged(SALT_PREFS, ["a@b.example"])) is None


def test_the_form_token_is_bound_to_its_subject_and_expires() -> None:
    tokens = EmailTokens((NEW_KEY,))
    token = tokens.sign_form("esp-42")
    assert tokens.form_is_valid(token, "esp-42", max_age=60)
    assert not tokens.form_is_valid(token, "esp-43", max_age=60)
    assert not tokens.form_is_valid(token, "esp-42", max_age=-1)
    assert not tokens.form_is_valid("", "esp-42", max_age=60)
    assert not tokens.form_is_valid(tokens.sign_preferences("esp-42"), "esp-42", max_age=60)


def test_a_click_url_for_a_60_character_target_stays_under_250_characters() -> None:
    signer = EmailSigner((NEW_KEY,), "https://consent.example.com")
    target = "https://www.example.com/spring/collection?utm_source=email&c=1"
    assert len(target) == 62
    esp = signer.message(campaign="spring-2026", recipient="esp-123456", sent_at=1_767_225_600)
    hashed = signer.message(campaign="spring-2026", recipient="ada@example.com", sent_at=0)
    assert len(esp.click_url(target, 12)) < 230
    assert len(hashed.click_url(target, 12)) < 250
    assert len(hashed.open_url) < 150
    assert len(hashed.preferences_url) < 120


def test_long_targets_are_compressed_and_still_verify() -> None:
    tokens = EmailTokens((NEW_KEY,))
    target = "https://www.example.com/p?" + "&".join(
        f"utm_{n}=newsletter-spring" for n in range(20)
    )
    click = ClickToken("spring-26", "esp-42", 1, target, 1_767_225_600)
    token = tokens.sign_click(click)
    assert token.startswith(".")  # itsdangerous' mark of a zlib payload
    assert len(token) < len(target)
    assert tokens.read_click(token) == click


def test_the_signature_is_compared_as_sent_padding_aside() -> None:
    tokens = EmailTokens((OLD_KEY, NEW_KEY))
    good = tokens.sign_click(CLICK)
    assert tokens.read_click(good + "=") == CLICK  # a client that pads base64 still lands
    assert tokens.read_click(good[:-1] + ("A" if good[-1] != "A" else "B")) is None
    assert tokens.read_click(good[:-1] + "!") is None  # outside the alphabet: no match
    assert tokens.read_click(good + "A") is None
    assert tokens.read_click(good.replace(".", ". ", 1)) is None
    assert tokens.read_open(tokens.sign_open(OPEN) + "==") == OPEN
