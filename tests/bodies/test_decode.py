"""The API's bodies decode strictly, and each bad field gets the message a person can act on:
the struct declares the shape, its `problems` table the words (gateway.bodies.decode)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from gateway.bodies.choices import AddressChoice, AppPoint, Choice
from gateway.bodies.decode import decode
from gateway.bodies.forms import FormSubmission
from gateway.bodies.requests import ObjectionRequest, SignLinks
from gateway.errors import Unprocessable
from gateway.openapi.components import REQUESTS

BOX = {"purpose": "marketing", "label": "Offers", "language": "en", "ticked": True,
       "initially_checked": False}  # fmt: skip
FORM = {"form": "contact", "page": "/contact", "policy_revision": 1, "language": "en",
        "purposes": [BOX]}  # fmt: skip


def refusal(document: Any, shape: type[msgspec.Struct]) -> Unprocessable:
    with pytest.raises(Unprocessable) as raised:
        decode(document, shape)
    assert raised.value.status == 422
    return raised.value


@pytest.mark.parametrize(
    ("document", "shape", "detail"),
    [
        ([1, 2], Choice, "the body must be a JSON object"),
        ("text", FormSubmission, "the body must be a JSON object"),
        ({"granted": "analytics"}, Choice, '"granted" must be a list of category names'),
        ({"granted": ["analytics", 7]}, Choice, '"granted" must be a list of category names'),
        ({"action": "accept_some"}, Choice, "unknown action 'accept_some'"),
        ({"action": 3}, Choice, "unknown action 3"),
        ({"language": "x" * 36}, Choice, '"language" must be printable text of at most 35'),
        ({"page": 42}, Choice, '"page" must be the page path, at most 2048 characters'),
        ({"app": "com.example"}, Choice, '"app" must be {"id": "<bundle id>"'),
        ({"app": {"id": "a", "x": 1}}, Choice, '"app" must be {"id": "<bundle id>"'),
        ({"app": {"screen": "Home"}}, Choice, '"app.id" must be a bundle id'),
        ({"app": {"id": "com.example\n"}}, Choice, '"app.id" must be a bundle id'),
        ({"app": {"id": "a", "screen": "Cart?u=1"}}, Choice, '"app.screen" must be a screen'),
        ({"granted": []}, AddressChoice, 'send "recipient" (an email address or ESP id)'),
        ({"recipient": 5}, AddressChoice, '"recipient" must be an ESP id or an email address'),
        ({}, ObjectionRequest, '"categories" must be a list of category names'),
        ({"categories": ["ads"], "source": ""}, ObjectionRequest, '"source" must be printable'),
        ({"recipient": "r"}, SignLinks, '"campaign" must be 1 to 64 letters'),
        ({"campaign": "c", "recipient": "r", "urls": "x"}, SignLinks, '"urls" must be a list'),
        ({"campaign": "c", "recipient": "r", "sent_at": True}, SignLinks, '"sent_at" must be'),
        ({**FORM, "policy_revision": True}, FormSubmission, '"policy_revision" must be an integer'),
        ({**FORM, "form": "contact\n"}, FormSubmission, '"form" must be 1 to 64 letters'),
        ({**FORM, "purposes": []}, FormSubmission, '"purposes" must be a list of 1 to 16'),
        ({**FORM, "purposes": [BOX, {**BOX, "label": " "}]}, FormSubmission,
         '"purposes"[1]: "label" must be the text shown (1 to 1000)'),
        ({**FORM, "purposes": [{**BOX, "ticked": "yes"}]}, FormSubmission,
         '"purposes"[0]: "ticked" and "initially_checked" must be true or false'),
        ({**FORM, "purposes": [{**BOX, "language": "english please"}]}, FormSubmission,
         '"purposes"[0].language must be a language tag'),
    ],
)  # fmt: skip
def test_each_bad_field_gets_its_own_message(
    document: Any, shape: type[msgspec.Struct], detail: str
) -> None:
    assert refusal(document, shape).detail.startswith(detail)


def test_unknown_fields_are_all_named_with_the_allowed_ones() -> None:
    refused = refusal({"granted": [], "colour": "red", "age": 3}, Choice)
    assert refused.detail == "unknown field(s): age, colour"
    assert refused.extra["allowed"] == sorted(Choice.__struct_fields__)


def test_a_box_without_its_fields_names_what_it_lacks() -> None:
    box = {k: v for k, v in BOX.items() if k not in ("ticked", "initially_checked")}
    refused = refusal({**FORM, "purposes": [BOX, box]}, FormSubmission)
    assert refused.detail == '"purposes"[1] lacks initially_checked, ticked'
    without_page = {k: v for k, v in FORM.items() if k != "page"}
    assert refusal(without_page, FormSubmission).detail == '"page" is required'


def test_an_unknown_action_lists_the_actions() -> None:
    assert refusal({"action": "x"}, Choice).extra == {
        "allowed_actions": ["accept_all", "reject_all"]
    }


def test_good_bodies_decode_into_their_structs() -> None:
    choice = decode({"granted": ["analytics"], "app": {"id": "com.example.shop"}}, Choice)
    assert choice.granted == ["analytics"]
    assert choice.app == AppPoint("com.example.shop")
    links = decode(
        {"campaign": "c", "recipient": "r", "url": "https://a.test/", "sent_at": 5}, SignLinks
    )
    assert (links.url, links.sent_at) == ("https://a.test/", 5)
    assert decode(FORM, FormSubmission).purposes[0].purpose == "marketing"


@pytest.mark.parametrize("shape", REQUESTS)
def test_every_request_body_refuses_fields_it_does_not_declare(
    shape: type[msgspec.Struct],
) -> None:
    assert shape.__struct_config__.forbid_unknown_fields


def test_a_target_too_long_is_left_to_the_email_code_that_names_the_limit() -> None:
    long = "https://a.test/" + "p" * 3000
    links = decode({"campaign": "c", "recipient": "r", "urls": [long]}, SignLinks)
    assert links.urls == [long]  # gateway.email.targets refuses it: "at most 2048 characters"


@pytest.mark.parametrize(
    "document",
    [
        {"granted": [], "x` - at `$.app": 1},  # a name that reads like msgspec's "where"
        {"granted": [], "a - at `$.app`": 1},
        {"granted": [], "x`": 1, "y\n": 2},
        {"action": "x' - at `$.app.id"},  # a value that does
        {"app": {"id": "a", "z` - at `$.granted[3]": 1}},
    ],
)
def test_what_the_client_wrote_never_steers_the_message_or_raises_elsewhere(
    document: dict[str, Any],
) -> None:
    refused = refusal(document, Choice)
    assert refused.detail  # a 422 with words, not a KeyError (a 500)


def test_all_unknown_fields_are_found_where_they_are() -> None:
    assert refusal({"x` - at `$.app": 1, "granted": []}, Choice).extra["allowed"]
    nested = {**FORM, "purposes": [BOX, {**BOX, "colour": 1, "age": 2}]}
    refused = refusal(nested, FormSubmission)
    assert refused.detail == "unknown field(s): age, colour"
    assert "ticked" in refused.extra["allowed"]
