"""The gateway with its hot paths turned off: every request through the full Starlette stack.

`make bench` runs it beside the real gateway to measure what the pure-ASGI hot paths
(`gateway.endpoints.hot`) buy, in the same run. Not a way to run the gateway.
"""

from __future__ import annotations

from gateway.app import GatewayApp, create_app
from gateway.settings import load_settings


def app() -> GatewayApp:
    gateway_app = create_app(load_settings())
    gateway_app.hot_paths = None
    return gateway_app
