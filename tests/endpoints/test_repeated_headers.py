"""Every header a decision reads, sent twice in both orders, to both paths of `/t`: the pure-ASGI
GET fast path and the full stack (a POST, or a GET carrying an Origin). Ambiguity never means
more tracking, and both paths answer alike (`gateway.visitors.headers`)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.conftest import SITE
from tests.tracking.test_pixel_proxy import CHROME, GOOGLEBOT

IOS_APP = "ShopApp/3.2 (com.example.shop; build:41; iOS 17.5.0) Alamofire/5.9.1"
APP = {"id": "com.example.shop", "screen": "Onboarding"}


async def decisions(
    http: httpx.AsyncClient, path: str, headers: list[tuple[str, str]], form: str = ""
) -> set[str]:
    """The decision each path takes for the same request headers (one answer expected)."""
    fast = await http.get(f"{path}?{form}", headers=headers)
    full_get = await http.get(f"{path}?{form}", headers=[*headers, ("Origin", SITE)])
    full_post = await http.post(
        path,
        content=form,
        headers=[*headers, ("Content-Type", "application/x-www-form-urlencoded")],
    )
    return {r.headers["x-consent-decision"] for r in (fast, full_get, full_post)}


async def token_for(http: httpx.AsyncClient, **body: object) -> str:
    answer = await http.post("/consent", json={"app": APP, **body}, headers={"Origin": SITE})
    http.cookies.clear()
    return str(answer.json()["token"])


def both_orders(name: str, first: str, second: str) -> list[list[tuple[str, str]]]:
    return [[(name, a), (name, b)] for a, b in itertools.permutations((first, second))]


async def test_two_authorization_headers_are_no_consent(http) -> None:
    everything = await token_for(http, action="accept_all")
    nothing = await token_for(http, action="reject_all")
    for pair in both_orders("Authorization", f"Consent {everything}", f"Consent {nothing}"):
        headers = [("User-Agent", CHROME), *pair]
        assert await decisions(http, "/t/ga4", headers, "v=2&cid=1") == {
            "anonymous; reason=no_consent"
        }
        state = await http.get("/consent", headers=pair)
        assert state.json()["consent"] is None
    # Even twice the same token: which header speaks for the person is not for us to pick.
    twice = both_orders("Authorization", f"Consent {everything}", f"Consent {everything}")[0]
    assert await decisions(http, "/t/meta_pixel", [("User-Agent", CHROME), *twice], "id=1") == {
        "block; reason=no_consent"
    }


@pytest.mark.parametrize(
    ("first", "second"),
    [("denied", "authorized"), ("authorized", "restricted"), ("authorized", "")],
)
async def test_conflicting_app_tracking_headers_refuse_ad_tracking(
    http, first: str, second: str
) -> None:
    token = await token_for(http, action="accept_all")
    for pair in both_orders("App-Tracking", first, second):
        headers = [("User-Agent", IOS_APP), ("Authorization", f"Consent {token}"), *pair]
        assert await decisions(http, "/t/meta_app/activities", headers, "event=x") == {
            "block; reason=app_tracking"
        }
    authorized = [("User-Agent", IOS_APP), ("Authorization", f"Consent {token}")]
    agreed = [*authorized, ("App-Tracking", "authorized"), ("App-Tracking", "Authorized")]
    assert await decisions(http, "/t/meta_app/activities", agreed, "event=x") == {
        "forward; reason=consented"
    }


async def test_an_app_rule_without_any_app_tracking_header_refuses_ad_tracking(
    http, vendor
) -> None:
    token = await token_for(http, action="accept_all")
    headers = [("User-Agent", IOS_APP), ("Authorization", f"Consent {token}")]
    assert await decisions(http, "/t/meta_app/activities", headers, "event=x") == {
        "block; reason=app_tracking"
    }
    # A web rule is not an app's: no header there is a browser, and the choice decides.
    assert await decisions(http, "/t/meta_pixel", headers, "id=1") == {"redirect; reason=consented"}


async def test_two_sec_gpc_headers_count_as_gpc_if_either_says_1(http) -> None:
    token = await token_for(http, action="accept_all")
    for pair in both_orders("Sec-GPC", "0", "1"):
        headers = [("User-Agent", CHROME), ("Authorization", f"Consent {token}"), *pair]
        assert await decisions(http, "/t/meta_pixel", headers, "id=1") == {"block; reason=gpc"}


async def test_two_cookies_of_different_consent_ids_are_no_consent(http) -> None:
    one = await token_for(http, action="accept_all")
    other = await token_for(http, action="accept_all")
    for pair in itertools.permutations((f"cg_consent={one}", f"cg_consent={other}")):
        joined = [("User-Agent", CHROME), ("Cookie", "; ".join(pair))]
        split = [("User-Agent", CHROME), ("Cookie", pair[0]), ("Cookie", pair[1])]
        for headers in (joined, split):
            assert await decisions(http, "/t/meta_pixel", headers, "id=1") == {
                "block; reason=no_consent"
            }


async def test_two_cookies_of_one_consent_id_read_as_its_newest_choice(http) -> None:
    everything = await token_for(http, action="accept_all")
    narrower = (
        await http.post(
            "/consent",
            json={"app": APP, "granted": ["analytics"]},
            headers={"Origin": SITE, "Authorization": f"Consent {everything}"},
        )
    ).json()["token"]
    http.cookies.clear()
    for pair in itertools.permutations((everything, narrower)):
        cookie = "; ".join(f"cg_consent={token}" for token in pair)
        headers = [("User-Agent", CHROME), ("Cookie", cookie)]
        assert await decisions(http, "/t/meta_pixel", headers, "id=1") == {"block; reason=denied"}


async def test_two_user_agents_count_the_bot_in_either(http) -> None:
    for pair in both_orders("User-Agent", CHROME, GOOGLEBOT):
        assert await decisions(http, "/t/ga4", pair, "v=2") == {"block; reason=bot"}


async def test_two_different_regions_are_no_region_the_opt_in_default(http) -> None:
    for pair in both_orders("CF-IPCountry", "US", "DE"):  # US is an opt-out region here
        headers = [("User-Agent", CHROME), *pair]
        assert await decisions(http, "/t/meta_pixel", headers, "id=1") == {
            "block; reason=no_consent"
        }
    agreed = [("User-Agent", CHROME), ("CF-IPCountry", "US"), ("CF-IPCountry", "US")]
    assert await decisions(http, "/t/meta_pixel", agreed, "id=1") == {
        "redirect; reason=opt_out_region"
    }
