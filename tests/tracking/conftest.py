"""The tracking suites' shared parts: a stand-in vendor and a gateway whose rules point at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from tests.conftest import REPO, serving
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor


@pytest.fixture
def vendor() -> Iterator[StandInVendor]:
    with stand_in_vendor() as server:
        yield server


@pytest.fixture
async def http(
    vendor: StandInVendor, make_settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    app = create_app(
        make_settings(
            rules=rules,
            allow_insecure_upstreams=True,
            opt_out_regions=("US",),
            geo_header="CF-IPCountry",
        )
    )
    async with serving(app, client_ip="198.51.100.77") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
