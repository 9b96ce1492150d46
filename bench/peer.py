"""The peer: matomo-org/tracker-proxy, run as its users run it — Debian nginx in front of
php-fpm — forwarding to the same stand-in Matomo as the gateway.

Its code is never part of this repository: `BENCH_TRACKER_PROXY` names a checkout of
https://github.com/matomo-org/tracker-proxy; without it the bench clones `PINNED` into its
cache folder (once). The row is skipped, with the reason, when no checkout can be had or nginx
or php-fpm is missing (`make bench` installs php-fpm and php-curl on Debian: bench/peer-deps).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, wait_until

PHP_CHILDREN = 16  # php-fpm workers: each holds one tracking request while Matomo answers
UPSTREAM = "https://github.com/matomo-org/tracker-proxy"
PINNED = "ecbc1a33f9e45cb6822b663782c65997d8e55c10"  # 2026-08-17, the commit measured


@dataclass(frozen=True)
class Checkout:
    path: Path
    commit: str  # the measured commit, or why it is not known


def find() -> Checkout | str:
    """The tracker-proxy to measure, or why the peer cannot run here."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed (Debian: apt-get install nginx)"
    if _php_fpm() is None:
        return "php-fpm is not installed (Debian: apt-get install php-fpm php-curl)"
    return checkout(os.environ.get("BENCH_TRACKER_PROXY", ""))


def checkout(source: str) -> Checkout | str:
    """The checkout at `source` (BENCH_TRACKER_PROXY), else the pinned clone in the cache."""
    if source:
        if not (Path(source) / "proxy.php").is_file():
            return f"BENCH_TRACKER_PROXY={source} holds no tracker-proxy (no proxy.php)"
        return Checkout(Path(source), _commit(Path(source)) or "not a git checkout")
    return _cached_clone()


def _cache() -> Path:
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "consent-gateway-bench" / "tracker-proxy"


def _cached_clone() -> Checkout | str:
    """The pinned commit, cloned into the cache folder the first time."""
    path = _cache()
    if _commit(path) != PINNED:
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            for command in (
                ["git", "clone", "--quiet", UPSTREAM, str(path)],
                ["git", "-C", str(path), "checkout", "--quiet", PINNED],
            ):
                subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as error:
            shutil.rmtree(path, ignore_errors=True)
            detail = getattr(error, "stderr", "") or str(error)
            last = (detail.strip().splitlines() or ["no output"])[-1]
            return (
                f"BENCH_TRACKER_PROXY is not set and `git clone {UPSTREAM}` failed ({last}); "
                "point BENCH_TRACKER_PROXY at a checkout"
            )
    return Checkout(path, PINNED)


def _commit(path: Path) -> str | None:
    if not (path / ".git").exists():
        return None
    found = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        return None
    return found.stdout.strip() or None


def versions() -> str:
    """The nginx and PHP the peer ran on."""

    def first_line(command: list[str]) -> str:
        found = subprocess.run(command, capture_output=True, text=True, check=False)
        return ((found.stdout or found.stderr).strip().splitlines() or ["unknown"])[0]

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    php = _php_fpm()
    return (
        f"{first_line([nginx, '-v']).removeprefix('nginx version: ')}, "
        f"{first_line([php, '-v']) if php else 'no php-fpm'}, pm = static with "
        f"{PHP_CHILDREN} children"
    )


def _php_fpm() -> str | None:
    return shutil.which("php-fpm") or next(iter(sorted(glob.glob("/usr/sbin/php-fpm*"))), None)


@contextlib.contextmanager
def tracker_proxy(checkout: Checkout, work: Path, matomo_origin: str) -> Iterator[str]:
    """nginx + php-fpm serving tracker-proxy on a free port; yields its base URL."""
    root = work / "tracker-proxy"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(checkout.path, root, ignore=shutil.ignore_patterns(".git"))
    port = free_port()
    (root / "config.php").write_text(
        "<?php\n"
        f"$MATOMO_URL = '{matomo_origin}/';\n"
        f"$PROXY_URL = 'http://127.0.0.1:{port}/';\n"
        "$TOKEN_AUTH = 'bench0123456789abcdef0123456789ab';\n"
        "$timeout = 5;\n"
        "$user_agent = '';\n"
    )
    socket_path = work / "php-fpm.sock"
    fpm_conf = work / "php-fpm.conf"
    fpm_conf.write_text(
        "[global]\n"
        f"pid = {work}/php-fpm.pid\n"
        f"error_log = {work}/php-fpm.log\n"
        "daemonize = no\n"
        "[www]\n"
        f"listen = {socket_path}\n"
        "pm = static\n"
        f"pm.max_children = {PHP_CHILDREN}\n"
        "user = root\n"
        "group = root\n"
    )
    nginx_conf = work / "nginx.conf"
    nginx_conf.write_text(
        "user root;\n"
        "worker_processes auto;\n"
        "daemon off;\n"
        f"pid {work}/nginx.pid;\n"
        f"error_log {work}/nginx-error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        "  access_log off;\n"
        f"  client_body_temp_path {work}/nginx-body;\n"
        f"  fastcgi_temp_path {work}/nginx-fastcgi;\n"
        "  keepalive_requests 100000;\n"
        "  server {\n"
        f"    listen 127.0.0.1:{port};\n"
        f"    root {root};\n"
        "    location ~ \\.php$ {\n"
        "      include /etc/nginx/fastcgi_params;\n"
        "      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"
        f"      fastcgi_pass unix:{socket_path};\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    php_fpm = _php_fpm()
    assert php_fpm is not None
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with (work / "peer.log").open("wb") as log:
        fpm = subprocess.Popen(
            [php_fpm, "-R", "-F", "-y", str(fpm_conf)], stdout=log, stderr=subprocess.STDOUT
        )
        server = subprocess.Popen(
            [nginx, "-c", str(nginx_conf), "-e", str(work / "nginx-error.log")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(socket_path.exists, "php-fpm", timeout=20)
        wait_until(lambda: _answers(port), "nginx", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in (server, fpm):
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            process.kill()


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
