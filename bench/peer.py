"""The peer: matomo-org/tracker-proxy, run as its users run it — Debian nginx in front of
php-fpm — forwarding to the same stand-in Matomo as the gateway.

Its code is never part of this repository: point `BENCH_TRACKER_PROXY` at a checkout of
https://github.com/matomo-org/tracker-proxy. The row is skipped, with the reason, when that,
nginx or php-fpm is missing (Debian: `apt-get install nginx php-fpm php-curl`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.servers import free_port, wait_until

PHP_CHILDREN = 16  # php-fpm workers: each holds one tracking request while Matomo answers


def missing() -> str | None:
    """Why the peer cannot run here, or None."""
    source = os.environ.get("BENCH_TRACKER_PROXY", "")
    if not source or not (Path(source) / "proxy.php").is_file():
        return "BENCH_TRACKER_PROXY is not set to a tracker-proxy checkout"
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed"
    if _php_fpm() is None:
        return "PHP (php-fpm) is not installed"
    return None


def _php_fpm() -> str | None:
    return shutil.which("php-fpm") or next(iter(sorted(glob.glob("/usr/sbin/php-fpm*"))), None)


@contextlib.contextmanager
def tracker_proxy(work: Path, matomo_origin: str) -> Iterator[str]:
    """nginx + php-fpm serving tracker-proxy on a free port; yields its base URL."""
    root = work / "tracker-proxy"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(os.environ["BENCH_TRACKER_PROXY"], root)
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
