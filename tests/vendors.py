"""A real HTTP server on loopback standing in for an analytics vendor: it records every request."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class StandInVendor:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    status: int = 200
    extra_headers: dict[str, str] = field(default_factory=dict)
    # Path → (body, headers): what it answers there instead (a loader script such as gtag.js).
    scripts: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        port = self.server.server_address[1]
        return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def stand_in_vendor() -> Iterator[StandInVendor]:
    vendor: StandInVendor

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            vendor.received.append(
                Received(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            if parts.path in vendor.scripts and vendor.status == 200:
                script, headers = vendor.scripts[parts.path]
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(script)))
                self.end_headers()
                self.wfile.write(script)
                return
            payload = b"vendor-body-never-relayed"
            self.send_response(vendor.status)
            self.send_header("Set-Cookie", "vendor_id=tracking-you; Path=/")
            for name, value in vendor.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _record

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    vendor = StandInVendor(server)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield vendor
    finally:
        server.shutdown()
        server.server_close()


def vendors_in(folder: Path) -> tuple[str, ...]:
    """Every rule id in `folder`: what test gateways enable (`GATEWAY_VENDORS`), web and app."""
    return tuple(sorted(path.stem for path in folder.glob("*.toml")))


def rules_pointing_at(source: Path, target: Path, origin: str) -> Path:
    """A copy of the shipped rules whose upstream hosts are replaced by the stand-in's origin,
    and whose pinned properties (`allowed_values` placeholders) are unpinned: the suites send
    many property ids. `tests/tracking/test_redaction.py` tests the pins of the shipped rules."""
    target.mkdir(parents=True, exist_ok=True)
    for rule in source.glob("*.toml"):
        text = re.sub(r'upstream = "https://[^/"]+', f'upstream = "{origin}', rule.read_text())
        text = re.sub(r"^allowed_values = .*$", "", text, flags=re.MULTILINE)
        (target / rule.name).write_text(text)
    return target
