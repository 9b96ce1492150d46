"""What a form may send, as a table; and the signed links, which read only as what they are."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from gateway.email.tokens import ClickToken, EmailTokens
from gateway.errors import Unprocessable
from gateway.forms.submission import FormPurposes, PreTicked, parse_submission
from gateway.forms.tokens import CONFIRM_SECONDS, Confirmation, FormTokens

PURPOSES = FormPurposes(("necessary", "analytics", "marketing"), "email_tracking")
KEYS = ("k" * 32,)
T0 = 1_767_225_600


def body(**change: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "form": "contact",
        "page": "/contact",
        "policy_revision": 1,
        "language": "en",
        "purposes": [
            {"purpose": "marketing", "label": "Offers", "language": "en", "ticked": True,
             "initially_checked": False},
        ],
    }  # fmt: skip
    record.update(change)
    return record


def box(**change: Any) -> dict[str, Any]:
    return body()["purposes"][0] | change


def test_a_form_without_an_address_speaks_for_the_visitor() -> None:
    submission = parse_submission(body(), PURPOSES)
    assert submission.address is None
    assert submission.ticked == ("marketing",)
    assert submission.labels[0].sha256 == hashlib.sha256(b"Offers").hexdigest()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"purposes": [box(label="   ")]}, "the text shown"),
        ({"purposes": [box(label="x" * 1001)]}, "the text shown"),
        ({"purposes": [box(), box()]}, "appears twice"),
        ({"purposes": [box(ticked="yes")]}, "true or false"),
        ({"purposes": [{k: v for k, v in box().items() if k != "initially_checked"}]}, "lacks"),
        ({"purposes": [box(language="english please")]}, "language tag"),
        ({"purposes": [box()] * 17}, "1 to 16"),
        ({"language": 5}, "language tag"),
        ({"policy_revision": True}, "integer"),
        ({"policy_revision": 0}, "integer"),
        ({"page": "/" + "p" * 600}, "path"),
        ({"honeypot": 1}, "string"),
        ({"email": "two@@example.com"}, "valid email"),
        ({"email": "ada@example"}, "valid email"),
        ({"email": "ada@.example.com"}, "valid email"),
        ({"email": "a b@example.com"}, "valid email"),
        ({"email": ["ada@example.com"]}, "email address"),
        ({"form": None}, "letters, digits"),
    ],
)
def test_bad_input_names_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        parse_submission(body(**change), PURPOSES)
    assert message in raised.value.detail


def test_a_missing_field_is_named() -> None:
    record = body()
    del record["page"]
    with pytest.raises(Unprocessable, match='"page" is required'):
        parse_submission(record, PURPOSES)


def test_pre_ticked_boxes_are_refused_together() -> None:
    two = [box(initially_checked=True), box(purpose="analytics", initially_checked=True)]
    with pytest.raises(PreTicked) as raised:
        parse_submission(body(purposes=two), PURPOSES)
    assert raised.value.status == 422
    assert raised.value.body()["purposes"] == ["marketing", "analytics"]


def test_an_address_is_normalised_and_opt_in_purposes_need_one() -> None:
    newsletter = box(purpose="newsletter")
    with pytest.raises(Unprocessable, match="needs the address"):
        parse_submission(body(purposes=[newsletter]), PURPOSES)
    submission = parse_submission(body(purposes=[newsletter], email=" Ada@Example.COM "), PURPOSES)
    assert submission.address == "ada@example.com"
    unticked = parse_submission(body(purposes=[box(purpose="newsletter", ticked=False)]), PURPOSES)
    assert unticked.unticked == ("newsletter",)  # no address needed to refuse


def test_a_confirmation_link_expires_after_48_hours_and_is_nothing_else() -> None:
    tokens = FormTokens(KEYS)
    pending = Confirmation("p1", "subject-1", ("newsletter",), "contact", "ru", T0)
    token = tokens.sign_confirmation(pending)
    assert tokens.read_confirmation(token, T0 + CONFIRM_SECONDS - 1) == pending
    assert tokens.read_confirmation(token, T0 + CONFIRM_SECONDS) is None
    assert tokens.read_confirmation(token, T0 - 1) is None  # issued "in the future"
    assert tokens.is_expired(token)
    assert tokens.read_confirmation(token[:-2] + "xx", T0) is None
    assert not tokens.is_expired(token[:-2] + "xx")
    assert FormTokens(("other" * 8,)).read_confirmation(token, T0) is None
    assert tokens.read_unsubscribe(token) is None  # each salt reads only its own
    unsubscribe = tokens.sign_unsubscribe("subject-1")
    assert tokens.read_confirmation(unsubscribe, T0) is None
    click = EmailTokens(KEYS).sign_click(ClickToken("c", "subject-1", 1, "https://a.example/", 1))
    assert tokens.read_unsubscribe(click) is None
    assert tokens.read_unsubscribe("x" * 5000) is None
