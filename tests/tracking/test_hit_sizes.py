"""Bounded hits: one shaped hit over `hit_max_bytes`, or one request's hits over
`hit_request_max_bytes` together (a batch's query string is copied into each of its lines),
is a 413 JSON error, counted by reason, and nothing of it is queued."""

from __future__ import annotations

import httpx
import pytest

from gateway.runtime import Gateway
from tests.tracking.test_client_shapes import rejected, with_cookie
from tests.tracking.test_pixel_proxy import consent_to, received_after_drain
from tests.vendors import StandInVendor

BIG = "x" * 60_000  # the 60 KB parameter


async def queued(gateway: Gateway) -> int:
    await gateway.appender.flush()
    return (await gateway.hit_queue.depths(["ga4"]))["ga4"].depth


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_60_kb_parameter_is_a_413_counted_and_never_queued(
    http: httpx.AsyncClient, gateway: Gateway, vendor: StandInVendor, method: str
) -> None:
    await consent_to(http, "analytics")
    before = rejected(gateway, "ga4", "hit_too_large")
    url = f"/t/ga4/g/collect?v=2&tid=G-T&cid=1.2&en=page_view&dl=https%3A%2F%2Fa.example%2F{BIG}"
    response = await http.request(method, url, headers=with_cookie(http))
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert "16384" in response.json()["detail"]
    assert rejected(gateway, "ga4", "hit_too_large") == before + 1
    assert await queued(gateway) == 0
    assert await received_after_drain(gateway, vendor) == []


async def test_a_hit_at_the_cap_is_queued(
    http: httpx.AsyncClient, gateway: Gateway, vendor: StandInVendor
) -> None:
    await consent_to(http, "analytics")
    base = "/t/ga4/g/collect?v=2&tid=G-T&cid=1.2&en=page_view&dl="
    # Shaped, the hit also carries the upstream, the User-Agent and the consent signals: a
    # page URL of 14 KB stays under 16 KiB, one of 17 KB does not.
    small = await http.get(base + "y" * 14_000, headers=with_cookie(http))
    large = await http.get(base + "y" * 17_000, headers=with_cookie(http))
    assert (small.status_code, large.status_code) == (200, 413)
    (hit,) = await received_after_drain(gateway, vendor)
    assert len(dict(hit.query)["dl"]) == 14_000


async def test_a_batch_copying_a_large_query_into_every_line_is_a_413(
    http: httpx.AsyncClient, gateway: Gateway, vendor: StandInVendor
) -> None:
    await consent_to(http, "analytics")
    before = rejected(gateway, "ga4", "request_too_large")
    # 8 KB of shared parameters, 40 lines: 320 KB queued if each line took its own copy.
    query = f"v=2&tid=G-T&cid=1.2&dl={'z' * 8_000}"
    lines = "\n".join(f"en=e{n}" for n in range(40))
    response = await http.post(
        f"/t/ga4/g/collect?{query}",
        content=lines,
        headers={**with_cookie(http), "Content-Type": "text/plain"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert rejected(gateway, "ga4", "request_too_large") == before + 1
    assert await queued(gateway) == 0
    # The same batch with the usual shared parameters is taken whole.
    usual = await http.post(
        "/t/ga4/g/collect?v=2&tid=G-T&cid=1.2&dl=https%3A%2F%2Fa.example%2F",
        content=lines,
        headers={**with_cookie(http), "Content-Type": "text/plain"},
    )
    assert usual.status_code == 204
    assert len(await received_after_drain(gateway, vendor)) == 40
