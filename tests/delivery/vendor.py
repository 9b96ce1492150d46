"""A stand-in vendor for delivery faults: counts each hit by its `n`, can be stopped and
started again on the same port, and can hold its answers (requests in flight)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.servers import free_port


class CountingVendor:
    def __init__(self) -> None:
        self.port = free_port()
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.answer = threading.Event()  # cleared: requests are held, unanswered
        self.answer.set()
        self.server: _Server | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CountingVendor:
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                query = dict(parse_qsl(urlsplit(self.path).query))
                with vendor.lock:
                    vendor.hits[query.get("cid") or query.get("n") or "?"] += 1
                vendor.answer.wait(30)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Down, as a crashed vendor: the listener and every open connection are closed."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server.drop_connections()
            self.server = None

    def total(self) -> int:
        with self.lock:
            return sum(self.hits.values())

    def twice(self) -> list[str]:
        with self.lock:
            return [n for n, count in self.hits.items() if count > 1]


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 512  # a real server's listen backlog, not socketserver's 5

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.connections: set[socket.socket] = set()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        self.connections.add(connection)
        return connection, address

    def drop_connections(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
