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


def wait_for_gateway(
    base: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0
) -> None:
    """Until the gateway at `base` says `/readyz` 200 (its store answered). A server that exits
    or is not ready in time fails the test with its log."""
    import httpx  # the tests' HTTP client; servers.py is imported by code that needs no HTTP

    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, trust_env=False, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log = log_path.read_text(errors="replace")
                raise RuntimeError(f"the gateway exited with {process.returncode}:\n{log}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(
        f"the gateway was not ready in {timeout} s:\n{log_path.read_text(errors='replace')}"
    )


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
    start_command: tuple[str, ...] = ()  # instead of redis-server and its arguments (Sentinel)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / f"redis-{self.port}.log").open("ab") as log:
            command = self.start_command or (
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                *self.extra,
            )
            self.process = subprocess.Popen(
                command,
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

    def kill(self) -> None:
        """SIGKILL: the server dies without a word, as in a crash."""
        if self.process is not None:
            self.process.kill()
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


REDIS_SENTINEL = shutil.which("redis-sentinel") or "redis-sentinel"


def sentinel_master(port: int, service: str) -> str:
    """The address (host:port) Sentinel on `port` names as the primary of `service`."""
    reply = redis_command(port, "SENTINEL", "get-master-addr-by-name", service)
    words = [w for w in reply.split("\r\n") if w and w[0] not in "*$"]
    return ":".join(words[:2])


def _sentinel_count(port: int, question: str, service: str) -> int:
    """How many replicas / other sentinels Sentinel on `port` knows for `service`."""
    reply = redis_command(port, "SENTINEL", question, service)
    return int(reply[1:].split("\r\n", 1)[0]) if reply.startswith("*") else 0


def _sees_the_group(port: int, service: str) -> bool:
    return (
        _sentinel_count(port, "replicas", service) == 1
        and _sentinel_count(port, "sentinels", service) == 2
    )


@dataclass
class SentinelGroup:
    """A primary, a replica and three sentinels watching them as `service`."""

    primary: RedisServer
    replica: RedisServer
    sentinels: list[RedisServer]
    service: str

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}"

    def master(self) -> str:
        return sentinel_master(self.sentinels[0].port, self.service)


@contextlib.contextmanager
def redis_sentinel_group(directory: Path, service: str = "gateway") -> Iterator[SentinelGroup]:
    """Real redis-server primary and replica, and three real `redis-sentinel` processes that
    fail over after the primary is silent for a second."""
    started: list[RedisServer] = []
    try:
        primary = RedisServer(directory / "primary").start()
        started.append(primary)
        replica = RedisServer(directory / "replica")
        replica.extra = (
            "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", str(primary.port),
        )  # fmt: skip
        started.append(replica.start())
        wait_until(
            lambda: "master_link_status:up" in redis_command(replica.port, "INFO", "replication"),
            "the replica to sync",
        )
        sentinels = []
        for index in range(3):
            sentinel = RedisServer(directory / f"sentinel{index}")
            sentinel.directory.mkdir(parents=True, exist_ok=True)
            config = sentinel.directory / "sentinel.conf"
            config.write_text(
                f"port {sentinel.port}\nbind 127.0.0.1\ndir {sentinel.directory}\n"
                f"sentinel monitor {service} 127.0.0.1 {primary.port} 2\n"
                f"sentinel down-after-milliseconds {service} 1000\n"
                f"sentinel failover-timeout {service} 5000\n"
                f"sentinel parallel-syncs {service} 1\n"
            )
            sentinel.extra = ()
            sentinel.start_command = (REDIS_SENTINEL, str(config))
            sentinels.append(sentinel.start())
            started.append(sentinel)
        for sentinel in sentinels:  # each knows the replica and the two others
            wait_until(
                partial(_sees_the_group, sentinel.port, service),
                f"sentinel {sentinel.port} to see the group",
                timeout=30,
            )
        yield SentinelGroup(primary, replica, sentinels, service)
    finally:
        for server in reversed(started):
            server.stop()
