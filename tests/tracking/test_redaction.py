"""Privacy by default in hits: URL queries never ride an anonymous ping, e-mail addresses never
reach an analytics vendor, and a hit naming a property not the operator's goes nowhere."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from gateway.app import app_for
from gateway.rules.loader import load_rules
from gateway.rules.name_sets import NameSet
from gateway.rules.placeholders import placeholder_warnings, placeholders_in
from gateway.runtime import Gateway
from gateway.tracking.redaction import MAX_SCANNED, redact_params
from tests.conftest import REPO, SITE, serving
from tests.tracking.test_pixel_proxy import BROWSER, consent_to, received_after_drain
from tests.vendors import StandInVendor, rules_pointing_at

UTM = NameSet(("utm_*",))
NOTHING = NameSet()
SHIPPED = load_rules(
    REPO / "tag_rules", categories=("necessary", "preferences", "analytics", "marketing")
)


def redacted(value: object, *, anonymous: bool = True, name: str = "x", email_params=NOTHING):
    pairs, count = redact_params(
        [(name, value)],
        anonymous=anonymous,
        url_params=NOTHING,
        url_query_keys=UTM,
        email_params=email_params,
    )
    return pairs[0][1], count


@pytest.mark.parametrize(
    ("sent", "leaves"),
    [
        ("ada@example.com", "[email]"),
        ("Reset password for ada@example.com", "Reset password for [email]"),
        ("ada%40example.com", "[email]"),
        ("ada%2540example.com", "[email]"),  # encoded twice
        ("a.b+tag@mail.example.co.uk, c@d.example", "[email], [email]"),
        ("no address @ here", "no address @ here"),
        ("ada@localhost", "ada@localhost"),  # no domain: not an address the vendor can use
    ],
)
def test_every_email_address_is_replaced_with_or_without_consent(sent: str, leaves: str) -> None:
    for anonymous in (True, False):
        value, count = redacted(sent, anonymous=anonymous)
        assert value == leaves
        assert count == (leaves != sent)


def test_addresses_inside_json_lists_and_objects_are_replaced() -> None:
    value, count = redacted({"who": ["ada@example.com", 3, None], "n": {"e": "b%40c.example"}})
    assert value == {"who": ["[email]", 3, None], "n": {"e": "[email]"}}
    assert count == 2


@pytest.mark.parametrize(
    ("sent", "leaves"),
    [
        ("https://a.example/p?user=ada&token=s3cr3t#x", "https://a.example/p"),
        ("https://a.example/p?utm_source=news&user=ada", "https://a.example/p?utm_source=news"),
        (quote("https://a.example/p?user=ada", safe=""), "https://a.example/p"),
        # The query hidden one encoding deeper: `%253F` is a "?" once decoded twice.
        ("https%3A%2F%2Fa.example%2Fp%253Fuser%253Dada", "https://a.example/p"),
        (quote(quote("https://a.example/p?token=1", safe=""), safe=""), "https://a.example/p"),
        ("HTTP://A.EXAMPLE/p?x=1", "HTTP://A.EXAMPLE/p"),
        ("not a url?x=1", "not a url?x=1"),
    ],
)
def test_an_anonymous_ping_loses_every_url_query_found_by_value(sent: str, leaves: str) -> None:
    assert redacted(sent, name="ep.page")[0] == leaves
    assert redacted([sent], name="props")[0] == [leaves]
    assert redacted({"page": sent}, name="props")[0] == {"page": leaves}


def test_a_consented_hit_keeps_its_urls_and_a_value_left_alone_stays_encoded() -> None:
    url = "https://a.example/p?user=ada"
    assert redacted(url, anonymous=False)[0] == url
    encoded = "caf%C3%A9"
    assert redacted(encoded)[0] is encoded  # nothing to take out: forwarded as it came


def test_a_rule_exempts_its_protocols_email_field_on_consented_hits_only() -> None:
    hashed = NameSet(("ud[em]",))
    assert redacted("ada@example.com", anonymous=False, name="ud[em]", email_params=hashed) == (
        "ada@example.com",
        0,
    )
    assert redacted("ada@example.com", anonymous=True, name="ud[em]", email_params=hashed) == (
        "[email]",
        1,
    )


def test_allowlist_patterns_match_whole_names() -> None:
    ga4 = SHIPPED["ga4"].hit
    assert ga4.keeps_param("pr1", anonymous=False)
    assert ga4.keeps_param("pr200", anonymous=False)
    assert not ga4.keeps_param("prEmail", anonymous=False)
    assert not ga4.keeps_param("pr", anonymous=False)


# -- through HTTP, against a stand-in vendor ------------------------------------------------


async def test_what_ga4_receives_without_and_with_consent(
    http, gateway, vendor: StandInVendor
) -> None:
    leaky = (
        "/t/ga4?v=2&tid=G-TEST123&cid=555.666&en=page_view"
        "&ep.email=ada%40example.com&dt=Reset%20password%20for%20ada%40example.com"
        "&prEmail=ada%40example.com&pr1=id1~nmShoes"
        "&dl=https%3A%2F%2Fa.example%2Freset%253Ftoken%253Ds3cr3t%2526utm_source%253Dmail"
        "&ep.next=https%3A%2F%2Fa.example%2Faccount%3Fuser%3Dada"
    )
    await http.get(leaky, headers=BROWSER)  # no choice: an anonymous ping
    await consent_to(http, "analytics")
    await http.get(leaky, headers={**BROWSER, "Cookie": f"cg_consent={http.cookies['cg_consent']}"})
    anonymous, consented = sorted(
        (dict(hit.query) for hit in await received_after_drain(gateway, vendor)),
        key=lambda query: "cid" in query,
    )
    assert anonymous["ep.email"] == consented["ep.email"] == "[email]"
    assert anonymous["dt"] == consented["dt"] == "Reset password for [email]"
    assert "prEmail" not in anonymous
    assert "prEmail" not in consented
    assert anonymous["pr1"] == consented["pr1"] == "id1~nmShoes"
    assert anonymous["dl"] == "https://a.example/reset?utm_source=mail"
    assert anonymous["ep.next"] == "https://a.example/account"  # a URL by value, any name
    assert consented["ep.next"] == "https://a.example/account?user=ada"
    metrics = (await http.get("/metrics")).text
    assert 'cg_pii_redacted_total{vendor="ga4"} 4.0' in metrics


async def test_a_url_field_sent_as_a_list_or_object_is_refused_not_forwarded(
    http, gateway, vendor: StandInVendor
) -> None:
    for shape in (["https://a.example/?email=a%40b.example"], {"href": "https://a.example/"}):
        event = {"n": "pageview", "u": shape, "d": "example.com"}
        response = await http.post(
            "/t/plausible/api/event",
            content=json.dumps(event),
            headers={**BROWSER, "Content-Type": "text/plain"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "bad_request"
    assert await received_after_drain(gateway, vendor) == []


async def test_a_sites_own_rule_without_url_params_still_strips_urls_on_anonymous_pings(
    make_settings, tmp_path: Path, vendor: StandInVendor
) -> None:
    rules = tmp_path / "own"
    rules.mkdir()
    (rules / "stats.toml").write_text(
        'id = "stats"\nname = "Our stats"\ncategory = "analytics"\n'
        'privacy_policy_url = "https://www.example.com/privacy"\n'
        'processing_locations = ["DE"]\n'
        f'[hit]\nmode = "forward"\nupstream = "{vendor.origin}/collect"\n'
        'allowed_params = ["page", "ref"]\nwithout_consent = "anonymous"\n'
    )
    gateway = Gateway.build(make_settings(rules=rules, allow_insecure_upstreams=True))
    async with serving(app_for(gateway)) as http:
        page = quote("https://www.example.com/welcome?user=ada&token=s3cr3t#x", safe="")
        response = await http.get(f"/t/stats?page={page}&ref=newsletter", headers=BROWSER)
        assert response.headers["x-consent-decision"] == "anonymous; reason=no_consent"
        (hit,) = await received_after_drain(gateway, vendor)
    assert hit.query == [("page", "https://www.example.com/welcome"), ("ref", "newsletter")]


async def test_a_hit_naming_another_property_goes_nowhere(
    make_settings, tmp_path: Path, vendor: StandInVendor
) -> None:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    ga4 = rules / "ga4.toml"
    ga4.write_text(
        ga4.read_text().replace("[hit]\n", '[hit]\nallowed_values = { tid = ["G-MINE01"] }\n', 1)
    )
    gateway = Gateway.build(make_settings(rules=rules, allow_insecure_upstreams=True))
    async with serving(app_for(gateway)) as http:
        await consent_to(http, "analytics")
        cookie = {**BROWSER, "Cookie": f"cg_consent={http.cookies['cg_consent']}"}
        theirs = await http.get("/t/ga4?v=2&tid=G-THEIRS&en=page_view", headers=cookie)
        assert theirs.headers["x-consent-decision"] == "block; reason=not_allowed_value"
        posted = await http.post(
            "/t/ga4/g/collect?v=2&tid=G-MINE01",
            content="en=a\ntid=G-THEIRS&en=b",  # one line of the batch names another property
            headers={**cookie, "Origin": SITE},
        )
        assert posted.headers["x-consent-decision"] == "block; reason=not_allowed_value"
        mine = await http.get("/t/ga4?v=2&tid=G-MINE01&en=page_view", headers=cookie)
        assert mine.headers["x-consent-decision"] == "forward; reason=consented"
        received = await received_after_drain(gateway, vendor)
    assert [dict(hit.query)["tid"] for hit in received] == ["G-MINE01"]


def test_shipped_rules_pin_their_properties_to_placeholders_and_say_so() -> None:
    assert placeholders_in(SHIPPED["ga4"]) == [
        "allowed_values.tid is the placeholder 'G-XXXXXXXXXX'",
        "scripts./gtag/js.allowed_values.id is the placeholder 'G-XXXXXXXXXX'",
        "scripts./gtm.js.allowed_values.id is the placeholder 'GTM-XXXXXXX'",
    ]
    assert SHIPPED["meta_pixel"].hit.pins([("id", "000000000000000")])
    assert not SHIPPED["meta_pixel"].hit.pins([("id", "1234")])
    assert not SHIPPED["linkedin_insight"].hit.pins([("pid", "1")])
    assert not SHIPPED["plausible"].hit.pins([("d", "someone-else.example")])
    app_stream = dict(SHIPPED["ga4_app"].hit.fixed_params)
    assert set(app_stream) >= {"firebase_app_id", "api_secret"}  # never the app's own
    warned = placeholder_warnings(REPO / "tag_rules", SHIPPED.values())
    assert {line.split(".toml:")[0].rsplit("/", 1)[1] for line in warned} == {
        "ga4", "ga4_app", "linkedin_insight", "matomo", "meta_app", "meta_pixel", "plausible",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "leaves"),
    [
        ("https%3A//a.example/p%3Ftoken%3Dsecret", "https://a.example/p"),  # the colon alone
        ("https:%2F%2Fa.example/p%3Ftoken%3Dsecret", "https://a.example/p"),  # the slashes alone
        ("see https://a.example/p?token=secret, then", "see https://a.example/p then"),
        ("ada@почта.рф wrote", "[email] wrote"),  # an address in any script
        # Encoded more times than any honest client does: nothing of it leaves.
        (
            functools.reduce(lambda v, _: quote(v, safe=""), range(7), "ada@example.com"),
            "[redacted]",
        ),
    ],
)
def test_hidden_urls_and_addresses_do_not_slip_through(sent: str, leaves: str) -> None:
    assert redacted(sent)[0] == leaves


def test_a_crafted_value_costs_linear_time() -> None:
    """These took a minute or more each with an unbounded pattern (quadratic backtracking);
    bounded pieces and a scan limit make them as cheap as any value."""
    for crafted in ("a" * 32000 + "@" + "b" * 32000, "a" * 32000 + "@b" + ".c-" * 32000):
        value, count = redacted(crafted)
        assert count == 0  # no address in it
        assert value == crafted[:MAX_SCANNED]  # cut to the scan limit
