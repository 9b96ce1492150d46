"""Runs the docs' example consent tests (docs/audit.md) (test_site_consent.py) against the demo site.

A real site passes `--consent-site`, `--consent-rules` and `$CONSENT_GATEWAY_SECRET`; here the demo
gateway is started on loopback (SQLite store, vendors stood in for on loopback), and the
plugin's `consent_site` and `consent_secret` fixtures are pointed at it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.gateway_server import REPO, SECRET, GatewayProcess, running_gateway
from tests.vendors import rules_pointing_at, stand_in_vendor


def pytest_configure(config: pytest.Config) -> None:
    # The gateway answers as consent.site.test (see e2e.gateway_server): resolve it locally.
    config.option.consent_browser_arg = [
        *config.option.consent_browser_arg,
        "--host-resolver-rules=MAP *.site.test 127.0.0.1",
    ]


@pytest.fixture(scope="session")
def demo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    directory = tmp_path_factory.mktemp("example")
    with stand_in_vendor() as vendor:
        rules = rules_pointing_at(REPO / "tag_rules", directory / "rules", vendor.origin)
        settings = {
            "store": f"sqlite:///{directory}/gateway.sqlite3",
            "rules": str(rules),
            "allow_insecure_upstreams": "true",
        }
        with running_gateway(directory / "gateway", settings) as gateway:
            yield gateway


@pytest.fixture(scope="session")
def consent_site(demo_gateway: GatewayProcess) -> str:
    return f"{demo_gateway.origin}/demo"


@pytest.fixture(scope="session")
def consent_secret() -> str:
    return SECRET
