"""Real servers for tests: redis-server, a 3-master Redis Cluster, uvicorn — on free ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"


def real_clock_env() -> dict[str, str]:
    """This environment without libfaketime: `make test` runs the suite a year ahead under
    `faketime`, and redis-server hangs under it; Redis keeps the real clock, as in production."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith("FAKETIME")
    }


def free_port(also_free: Callable[[int], bool] = lambda _: True) -> int:
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if also_free(port):
            return port
    raise RuntimeError("no free port")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {what}")


def redis_command(port: int, *words: str) -> str:
    """One command over a raw socket; returns the first reply line (enough for PING/INFO)."""
    request = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(request.encode())
        return connection.recv(65536).decode(errors="replace")


def _cluster_ok(port: int) -> bool:
    return "cluster_state:ok" in redis_command(port, "CLUSTER", "INFO")


def _answers(port: int) -> bool:
    try:
        return "PONG" in redis_command(port, "PING")
    except OSError:
        return False


@dataclass
class RedisServer:
    """A real redis-server; `stop()` and `start()` again on the same port and data dir."""

    directory: Path
    port: int = field(
        default_factory=lambda: free_port(lambda p: p < 55000 and port_is_free(p + 10000))
    )
    extra: tuple[str, ...] = ("--save", "", "--appendonly", "no")
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / f"redis-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.directory),
                    *self.extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=real_clock_env(),
            )
        wait_until(lambda: _answers(self.port), f"redis-server on port {self.port}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None


@contextlib.contextmanager
def redis_server(directory: Path, *extra: str) -> Iterator[RedisServer]:
    server = RedisServer(directory, extra=extra or ("--save", "", "--appendonly", "no")).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def redis_cluster(directory: Path, masters: int = 3) -> Iterator[list[RedisServer]]:
    """A real Redis Cluster of `masters` masters and no replicas."""
    nodes: list[RedisServer] = []
    try:
        for index in range(masters):
            node_dir = directory / f"node{index}"
            node = RedisServer(node_dir)
            node.extra = (
                "--save",
                "",
                "--appendonly",
                "no",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
                "--cluster-node-timeout",
                "2000",
            )
            nodes.append(node.start())
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [
                REDIS_CLI,
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
            env=real_clock_env(),
        )
        for node in nodes:
            wait_until(partial(_cluster_ok, node.port), f"cluster node {node.port}")
        yield nodes
    finally:
        for node in nodes:
            node.stop()
