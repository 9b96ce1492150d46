"""The deployment recipes, run: deploy/systemd's commands (`serve --no-forwarder` and
`forward`, with env.example's settings) behind deploy/nginx's server file on TLS.

What an operator relies on: plain HTTP redirects to the fixed https name whatever the Host;
cookies are Secure because GATEWAY_PUBLIC_URL is https; the gateway sees the visitor's address
through nginx's X-Forwarded-For (it trusts nginx, and only nginx: a forged hop is ignored); a
consented hit queued by `serve` is delivered by the `forward` unit.

The visitor speaks IPv6 (::1) to nginx, nginx IPv4 to the gateway: the receipt's truncated
address tells which one the gateway believed.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import REPO, SECRET, SITE
from tests.delivery.test_sender_tls import make_ca
from tests.deploy.recipes import (
    DEPLOY,
    Unit,
    nginx_config,
    read_environment_file,
    running,
    running_nginx,
)
from tests.servers import free_port, wait_for_gateway
from tests.vendors import StandInVendor, rules_pointing_at

BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
}


def test_nginx_in_front_of_serve_and_forward(tmp_path: Path, vendor: StandInVendor) -> None:
    ca, cert, key = make_ca(tmp_path / "tls", "deploy test CA", "DNS:localhost,IP:::1")
    settings = read_environment_file(DEPLOY / "systemd" / "env.example")
    assert settings["GATEWAY_PUBLIC_URL"].startswith("https://")
    assert settings["GATEWAY_TRUSTED_PROXIES"] == "127.0.0.1"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")},
        "PYTHONPATH": str(REPO),
        **settings,
        "GATEWAY_SECRET_KEYS": SECRET,
        "GATEWAY_STORE": f"sqlite:///{tmp_path}/gateway.sqlite3",
        "GATEWAY_RULES": str(
            rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
        ),
        "GATEWAY_ALLOW_INSECURE_UPSTREAMS": "true",  # the stand-in vendor speaks plain http
    }
    serve, forward = (
        Unit.read("consent-gateway.service"),
        Unit.read("consent-gateway-forward.service"),
    )
    assert "--no-forwarder" in serve.start  # delivery is the forward unit's job
    assert serve.environment["GATEWAY_ENV"] == forward.environment["GATEWAY_ENV"] == "production"
    env |= serve.environment | {"GATEWAY_DATA_DIR": str(tmp_path / "var")}
    for pre in serve.pre:
        checked = subprocess.run(pre, env=env, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
    port, http_port, https_port = free_port(), free_port(), free_port()
    start = [*serve.start]
    start[start.index("--port") + 1] = str(port)
    config = nginx_config(tmp_path, port, http_port, https_port, cert, key)
    with (
        running(start, env, tmp_path / "serve.log") as served,
        running(forward.start, env, tmp_path / "forward.log"),
    ):
        wait_for_gateway(f"http://127.0.0.1:{port}", served, tmp_path / "serve.log")
        with (
            running_nginx(tmp_path, config, https_port),
            httpx.Client(
                base_url=f"https://[::1]:{https_port}",
                verify=ssl.create_default_context(cafile=ca),
                trust_env=False,
            ) as tls,
            httpx.Client(base_url=f"http://[::1]:{http_port}", trust_env=False) as plain,
        ):
            moved = plain.get("/consent.js?v=1", headers={"Host": "evil.example"})
            assert moved.status_code == 301
            assert moved.headers["location"] == "https://consent.example.com/consent.js?v=1"

            chosen = tls.post(
                "/consent",
                json={"granted": ["analytics"]},
                headers={"Origin": SITE, "X-Forwarded-For": "198.51.100.77", **BROWSER},
            )
            assert chosen.status_code == 200, chosen.text
            assert chosen.headers["strict-transport-security"] == "max-age=31536000"
            cookie = chosen.headers["set-cookie"]
            assert cookie.startswith("cg_consent=")
            assert "; Secure" in cookie
            assert "Domain=example.com" in cookie
            token = cookie.split(";")[0]

            own = tls.get("/consent/receipts", headers={"Cookie": token})
            (receipt,) = own.json()["receipts"]
            assert receipt["ip"] == "::"  # ::1 to its /48: the visitor, not nginx, not the forgery

            hit = tls.get("/t/ga4?v=2&tid=G-T&en=page_view", headers={"Cookie": token, **BROWSER})
            assert hit.status_code == 200
            assert hit.headers["x-consent-decision"].startswith("forward")
            deadline = time.monotonic() + 20
            while not vendor.received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [r.path for r in vendor.received] == ["/g/collect"], (
                tmp_path / "forward.log"
            ).read_text()
            assert dict(vendor.received[0].query)["en"] == "page_view"
