"""First-party tag scripts: `/t/ga4/gtag/js?id=…` is fetched server-side from the rule's
upstream, cached (bounded) as the vendor's Cache-Control says, and never chosen by the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import RuleError
from gateway.rules.loader import load_rules
from gateway.rules.model import ScriptRule
from gateway.rules.placeholders import placeholders_in
from gateway.tracking.scripts import FirstPartyScripts
from tests.clocks import FixedClock
from tests.conftest import REPO, serving
from tests.vendors import StandInVendor, rules_pointing_at

GTAG = b"/* stand-in gtag.js */ window.gtagLoaded = true;"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_900_000_000.0)


@pytest.fixture
async def site(
    vendor: StandInVendor, make_settings, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    vendor.scripts["/gtag/js"] = (
        GTAG, {"Cache-Control": "private, max-age=900", "Content-Type": "application/javascript"}
    )  # fmt: skip
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    app = create_app(make_settings(rules=rules, allow_insecure_upstreams=True), clock=clock)
    async with serving(app) as http:
        yield http


def _fetches(vendor: StandInVendor) -> list[list[tuple[str, str]]]:
    return [hit.query for hit in vendor.received if hit.path == "/gtag/js"]


async def test_the_loader_comes_from_the_gateway_and_is_cached_as_the_vendor_says(
    site: httpx.AsyncClient, vendor: StandInVendor, clock: FixedClock
) -> None:
    first = await site.get(
        "/t/ga4/gtag/js?id=G-TEST123&other=https://evil.example/",
        headers={"Cookie": "_ga=GA1.1.123", "User-Agent": "Visitor/1.0"},
    )
    assert first.status_code == 200
    assert first.content == GTAG
    assert first.headers["content-type"].startswith("application/javascript")
    assert first.headers["cache-control"] == "public, max-age=900"
    assert first.headers["x-content-type-options"] == "nosniff"
    [fetched] = [hit for hit in vendor.received if hit.path == "/gtag/js"]
    assert fetched.query == [("id", "G-TEST123")]  # only the declared params pass
    assert "cookie" not in fetched.headers
    assert "Visitor" not in fetched.headers["user-agent"]  # nothing of the visitor

    clock.now += 600
    again = await site.get("/t/ga4/gtag/js?id=G-TEST123")
    assert again.content == GTAG
    assert again.headers["cache-control"] == "public, max-age=300"
    assert len(_fetches(vendor)) == 1  # from the cache
    clock.now += 301
    await site.get("/t/ga4/gtag/js?id=G-TEST123")
    assert len(_fetches(vendor)) == 2  # expired: fetched again
    metrics = (await site.get("/metrics")).text
    assert 'cg_vendor_scripts_total{outcome="cached",vendor="ga4"} 1.0' in metrics
    assert 'cg_vendor_scripts_total{outcome="fetched",vendor="ga4"} 2.0' in metrics


async def test_a_stale_copy_stands_in_while_the_vendor_fails(
    site: httpx.AsyncClient, vendor: StandInVendor, clock: FixedClock
) -> None:
    assert (await site.get("/t/ga4/gtag/js?id=G-1")).status_code == 200
    vendor.status = 500
    clock.now += 1000
    stale = await site.get("/t/ga4/gtag/js?id=G-1")
    assert stale.status_code == 200
    assert stale.content == GTAG
    never = await site.get("/t/ga4/gtag/js?id=G-2")
    assert never.status_code == 503
    assert never.json()["error"] == "unavailable"
    assert never.headers["retry-after"] == "30"


@pytest.mark.parametrize("query", ["id=G-1%0Aalert(1)", "id=" + "G" * 65, "id=a/b", "id=a%26b"])
async def test_a_bad_parameter_value_is_422(site: httpx.AsyncClient, query: str) -> None:
    response = await site.get(f"/t/ga4/gtag/js?{query}")
    assert response.status_code == 422
    assert response.json()["error"] == "unprocessable"


async def test_an_undeclared_script_is_not_fetched(
    site: httpx.AsyncClient, vendor: StandInVendor
) -> None:
    response = await site.get("/t/ga4/analytics.js?id=1")
    assert response.status_code in (404, 405)
    assert not [hit for hit in vendor.received if hit.path.endswith(".js")]


async def test_a_script_the_vendor_does_not_have_is_404(
    site: httpx.AsyncClient, vendor: StandInVendor
) -> None:
    vendor.status = 404
    response = await site.get("/t/ga4/gtm.js?id=GTM-X")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_an_answer_that_is_not_a_script_is_never_relayed(site: httpx.AsyncClient) -> None:
    response = await site.get("/t/ga4/gtm.js?id=GTM-X")  # the stand-in answers with no script
    assert response.status_code == 503
    assert b"vendor-body-never-relayed" not in response.content


async def test_the_cache_is_bounded(vendor: StandInVendor, clock: FixedClock) -> None:
    vendor.scripts["/gtag/js"] = (
        GTAG,
        {"Cache-Control": "max-age=900", "Content-Type": "text/javascript"},
    )
    counted: list[str] = []
    scripts = FirstPartyScripts(lambda v, outcome: counted.append(outcome), clock, max_entries=2)
    script = ScriptRule("/gtag/js", f"{vendor.origin}/gtag/js", ("id",))
    try:
        for measurement in ("id=G-1", "id=G-2", "id=G-3", "id=G-1"):
            await scripts.get("ga4", script, measurement)
    finally:
        await scripts.close()
    assert counted == ["fetched", "fetched", "fetched", "evicted", "fetched", "evicted"]


@pytest.mark.parametrize(
    ("scripts", "problem"),
    [
        ('[scripts."/gtag/js"]\nupstream = "http://www.googletagmanager.com/gtag/js"\n',
         "scripts./gtag/js.upstream: expected an https URL"),
        ('[scripts."/g/collect"]\nupstream = "https://www.googletagmanager.com/gtag/js"\n',
         "is also a hit path"),
        ('[scripts."/../x"]\nupstream = "https://www.googletagmanager.com/gtag/js"\n',
         "expected a path"),
        ('[scripts."/gtag/js"]\nupstream = "https://www.googletagmanager.com/gtag/js?id=1"\n',
         "expected no '?query'"),
        ('[scripts."/gtag/js"]\nupstream = "https://x.example/a"\nhost = "y"\n',
         "unknown key"),
    ],
)  # fmt: skip
def test_a_bad_scripts_table_stops_start_up(tmp_path: Path, scripts: str, problem: str) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    shipped = (REPO / "tag_rules" / "ga4.toml").read_text()
    (folder / "ga4.toml").write_text(shipped.split("\n[scripts.")[0] + "\n" + scripts)
    with pytest.raises(RuleError) as error:
        load_rules(folder, categories=DEFAULT_CATEGORIES)
    assert problem in str(error.value)


async def test_a_pinned_script_is_fetched_only_for_this_sites_ids(
    vendor: StandInVendor, make_settings, tmp_path: Path, clock: FixedClock
) -> None:
    """The shipped rule pins `id` (`allowed_values`, as `tid` for hits): any other id, or none,
    is answered 404 without a fetch, so nobody can make the gateway fetch and cache scripts of
    other properties, nor push this site's loader out of the bounded cache."""
    vendor.scripts["/gtag/js"] = (GTAG, {"Content-Type": "application/javascript"})
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    ga4 = rules / "ga4.toml"
    ga4.write_text(ga4.read_text().replace(
        'params = ["id", "l"]\n', 'params = ["id", "l"]\nallowed_values = { id = ["G-OURS1"] }\n', 1
    ))  # fmt: skip
    app = create_app(make_settings(rules=rules, allow_insecure_upstreams=True), clock=clock)
    async with serving(app) as http:
        for query in ("id=G-THEIRS2", "id=G-OURS", "l=dataLayer", ""):
            refused = await http.get(f"/t/ga4/gtag/js?{query}")
            assert refused.status_code == 404, query
            assert refused.json()["error"] == "not_found"
        assert _fetches(vendor) == []
        served = await http.get("/t/ga4/gtag/js?id=G-OURS1&l=dataLayer")
        assert served.status_code == 200
        assert _fetches(vendor) == [[("id", "G-OURS1"), ("l", "dataLayer")]]


def test_the_shipped_loader_scripts_are_pinned_to_placeholders() -> None:
    rules = load_rules(REPO / "tag_rules", categories=DEFAULT_CATEGORIES)
    pins = {script.path: dict(script.allowed_values) for script in rules["ga4"].scripts}
    assert pins == {"/gtag/js": {"id": frozenset({"G-XXXXXXXXXX"})},
                    "/gtm.js": {"id": frozenset({"GTM-XXXXXXX"})}}  # fmt: skip
    warnings = placeholders_in(rules["ga4"])
    assert "scripts./gtag/js.allowed_values.id is the placeholder 'G-XXXXXXXXXX'" in warnings
    assert "scripts./gtm.js.allowed_values.id is the placeholder 'GTM-XXXXXXX'" in warnings
