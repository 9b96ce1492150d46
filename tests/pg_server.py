"""A real PostgreSQL for tests: Debian's server, initialised in a temporary directory and run on
a free port, as `tests/servers.py` runs redis-server.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user that
Debian's package creates and the commands run through `runuser`; as anyone else they run as
that user. The directory is made with `tempfile.mkdtemp` (not pytest's tmp_path, whose parent
is private to root) so the `postgres` user can reach it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.servers import free_port, real_clock_env, wait_until


def _binary(name: str) -> str:
    """`initdb`/`postgres` of the newest PostgreSQL Debian installed (not on PATH there)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major)
    return found[-1] if found else shutil.which(name) or name


def _major(path: str) -> int:
    return int(Path(path).parts[-3])


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


def _answers(url: str) -> bool:
    """Takes a connection (an open port is not enough: "the database system is starting up")."""
    try:
        with psycopg.connect(url, connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


@dataclass
class PostgresServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        log = (self.directory / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            _as_owner(
                [
                    _binary("postgres"),
                    "-D",
                    str(self.directory / "data"),
                    "-k",
                    str(self.directory),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",  # a test server: speed over durability of the test data
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "max_connections=60",
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=real_clock_env(),
        )
        log.close()
        wait_until(lambda: _answers(self.url), f"postgres on port {self.port}", timeout=30)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: a smart shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
            self.process = None


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """initdb (trust on 127.0.0.1, for tests only) and a running server; removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="cg-postgres-"))
    if os.getuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    try:
        subprocess.run(
            _as_owner(
                [
                    _binary("initdb"),
                    "-D",
                    str(directory / "data"),
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
            env=real_clock_env(),
        )
        server = PostgresServer(directory, free_port()).start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
