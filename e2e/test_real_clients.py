"""Real tracker clients, run from the documented snippets, against the real gateway (issue 9).

Each page is one snippet of `tag_rules/README.md` (see `e2e/client_pages.py`), opened by a new
visitor once without a choice and once after "accept all"; the stand-in vendor says what
arrived. The page URL carries `?email=…&utm_source=news#top`, which an anonymous ping must not,
and whose address no analytics vendor receives even with consent (`[email]`).
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from playwright.async_api import Page

from e2e.conftest import Visit
from e2e.gateway_server import GatewayProcess
from e2e.site import Site
from e2e.vendor_hits import arrived, params, sent
from tests.vendors import StandInVendor

QUERY = "?email=ann%40example.org&utm_source=news#top"


async def open_client(
    visit: Visit,
    site: Site,
    gateway: GatewayProcess,
    name: str,
    *,
    consent: bool,
    gpc: bool = False,
) -> Page:
    page = await visit(f"{site.www}/privacy", gpc=gpc)
    if consent:
        status = await page.evaluate(
            """(url) => fetch(url, {method: "POST", credentials: "include",
                 headers: {"Content-Type": "application/json"},
                 body: JSON.stringify({action: "accept_all"})}).then((r) => r.status)""",
            f"{gateway.origin}/consent",
        )
        assert status == 200
    await page.goto(f"{site.www}/clients/{name}{QUERY}")
    return page


def page_url(site: Site, name: str, *, anonymous: bool) -> str:
    base = f"{site.www}/clients/{name}"
    # Compared decoded: matomo.js sends the page URL decoded, gtag as `location.href` has it.
    # With consent the URL stays whole but for the e-mail address (gateway.tracking.redaction).
    if anonymous:
        return f"{base}?utm_source=news"
    return f"{base}?email=[email]&utm_source=news#top"


@pytest.mark.parametrize("name", ["gtag", "gtm-server"])
@pytest.mark.parametrize("consent", [False, True], ids=["no_choice", "accept_all"])
async def test_gtag_shapes(visit, site, gateway, vendor: StandInVendor, name, consent) -> None:
    await open_client(visit, site, gateway, name, consent=consent)
    events = {
        en: await arrived(vendor, "/g/collect", en=en)
        for en in ("page_view", "scroll", "user_engagement")
    }
    for hit in events.values():
        got = params(hit)
        assert got["tid"] == "G-XXXXXXXXXX"
        assert unquote(got["dl"]) == page_url(site, name, anonymous=not consent)
        if consent:
            assert (got["cid"], got["sid"], got["gcs"]) == ("555.666", "1732900000", "G111")
        else:
            assert not {"cid", "sid", "sct"} & set(got)
            assert (got["gcs"], got["gcd"]) == ("G100", "11p1p1p1p5")
    assert params(events["scroll"])["epn.percent_scrolled"] == "90"


async def test_gtag_under_gpc_never_says_ads_are_granted(visit, site, gateway, vendor) -> None:
    """The privacy bug of issue 9, end to end: "accept all" with Global Privacy Control on."""
    await open_client(visit, site, gateway, "gtag", consent=True, gpc=True)
    for en in ("page_view", "scroll", "user_engagement"):
        got = params(await arrived(vendor, "/g/collect", en=en))
        assert got["cid"] == "555.666"  # analytics consent stands
        assert (got["gcs"], got["gcd"]) == ("G101", "11q1r1q1q5")  # every ad signal denied


@pytest.mark.parametrize("name", ["plausible-tracker", "plausible-analytics-tracker"])
@pytest.mark.parametrize("consent", [False, True], ids=["no_choice", "accept_all"])
async def test_plausible_trackers(visit, site, gateway, vendor, name, consent) -> None:
    await open_client(visit, site, gateway, name, consent=consent)
    hit = await arrived(vendor, "/api/event", n="pageview")
    assert hit.method == "POST"
    got = params(hit)
    assert got["d"] == "example.com"
    # Neither tracker sends cookies across origins: the gateway never sees the consent, and
    # the vendor gets the cookieless ping with the page URL cut to its campaign keys.
    assert unquote(got["u"]) == page_url(site, name, anonymous=True)
    assert not {"email", "ip"} & set(got)


@pytest.mark.parametrize("consent", [False, True], ids=["no_choice", "accept_all"])
async def test_matomo_js(visit, site, gateway, vendor, consent) -> None:
    page = await open_client(visit, site, gateway, "matomo", consent=consent)
    pageview = await arrived(vendor, "/matomo.php", action_name="matomo")
    await page.evaluate(
        """() => {
          _paq.push(['trackEvent', 'video', 'play']);          // a sendBeacon form POST
          _paq.push(['setRequestQueueInterval', 1000]);
          _paq.push(['queueRequest', 'e_c=video&e_a=pause']);  // these two: one bulk envelope
          _paq.push(['queueRequest', 'e_c=video&e_a=seek']);
        }"""
    )
    play = await arrived(vendor, "/matomo.php", e_a="play")
    pause = await arrived(vendor, "/matomo.php", e_a="pause")
    seek = await arrived(vendor, "/matomo.php", e_a="seek")
    await page.evaluate(
        "() => { _paq.push(['disableAlwaysUseSendBeacon']); _paq.push(['trackEvent', 'video', 'stop']); }"
    )
    stop = await arrived(vendor, "/matomo.php", e_a="stop")  # an image GET
    for hit in (pageview, play, stop):
        got = params(hit)
        assert got["idsite"] == "1"
        assert unquote(got["url"]) == page_url(site, "matomo", anonymous=not consent)
        assert ("_id" in got) == consent
    for hit in (pause, seek):  # queued requests carry what the tracker put in them
        assert ("_id" in params(hit)) == consent


@pytest.mark.parametrize("consent", [False, True], ids=["no_choice", "accept_all"])
async def test_meta_and_linkedin_pixels(visit, site, gateway, vendor, consent) -> None:
    page = await open_client(visit, site, gateway, "meta-pixel", consent=consent)
    await page.evaluate(
        """(gw) => Promise.all([
          fetch(gw + "/t/meta_pixel/tr/?id=PIXEL_ID&ev=ViewContent",
                {mode: "no-cors", credentials: "include"}),
          fetch(gw + "/t/meta_pixel/tr/", {method: "POST", mode: "no-cors", credentials: "include",
                body: new URLSearchParams({id: "PIXEL_ID", ev: "Purchase", "cd[value]": "9.5"})}),
        ])""",
        gateway.origin,
    )
    linkedin = await open_client(visit, site, gateway, "linkedin-insight", consent=consent)
    assert linkedin.url.endswith(QUERY)
    # Both pages have loaded (images included) and the fetches are answered: a redirect has
    # been followed to the vendor by now, or the gateway answered with a block.
    meta = {params(hit)["ev"]: params(hit) for hit in sent(vendor, "/tr")}
    if not consent:
        assert meta == {}
        assert sent(vendor, "/collect/") == []
        return
    assert set(meta) == {"PageView", "ViewContent", "Purchase"}
    assert meta["PageView"] == {"id": "PIXEL_ID", "ev": "PageView", "noscript": "1"}
    assert meta["Purchase"]["cd[value]"] == "9.5"
    (insight,) = sent(vendor, "/collect/")
    assert params(insight) == {"pid": "PARTNER_ID", "fmt": "gif"}
