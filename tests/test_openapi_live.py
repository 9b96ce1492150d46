"""schemathesis against the real gateway: `consent-gateway serve` (real uvicorn) on SQLite and on
a real redis-server, with a stand-in vendor behind the tag rules, fuzzed from its own
`/openapi.json`. No input may get a 5xx answer, nor an unhandled error in the log, and every
answer must be one the description documents: its status, content type, headers and schema
(schemathesis' response-conformance checks)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import REPO
from tests.servers import RedisServer, free_port, wait_for_gateway
from tests.test_cli import CLI, environment
from tests.vendors import rules_pointing_at, stand_in_vendor

TOKEN = "live-admin-token-for-schemathesis"
SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli"]
MAX_EXAMPLES = 15  # per operation and phase: lean, since the suite runs it twice
SEED = 20261125  # fixed, so a failure reproduces; change it to explore further
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def admin_session(base: str) -> str:
    """Log in to the dashboard as a person does (form, CSRF token); returns the session cookie."""
    with httpx.Client(base_url=base) as http:
        form = http.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None, form.text
        login = http.post("/admin/login", data={"csrf_token": csrf.group(1), "token": TOKEN})
        assert login.status_code == 303, login.text
        session: str = login.cookies["cg_admin"]
        return session


@pytest.fixture(params=["sqlite", "redis"])
def live_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/gateway.sqlite3"
    server: RedisServer = request.getfixturevalue("redis_single")
    client = redis.Redis(port=server.port)
    client.flushall()
    client.close()
    return server.url


def test_every_answer_is_documented_and_none_is_a_server_error(
    tmp_path: Path, live_store: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with stand_in_vendor() as vendor, log_path.open("w") as log:
        script = (b"/* loader */", {"Content-Type": "application/javascript"})
        vendor.scripts |= {"/gtag/js": script, "/gtm.js": script}
        env = environment(
            tmp_path,
            GATEWAY_STORE=live_store,
            GATEWAY_RULES=str(
                rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
            ),
            GATEWAY_ALLOW_INSECURE_UPSTREAMS="true",
            GATEWAY_ADMIN_TOKEN_HASHES=hashlib.sha256(TOKEN.encode()).hexdigest(),
            GATEWAY_PUBLIC_URL=base,
            GATEWAY_ALLOWED_ORIGINS="https://www.example.com",
        )
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_gateway(base, server, log_path)
            session = admin_session(base)
            run = subprocess.run(
                [
                    *SCHEMATHESIS,
                    "run",
                    f"{base}/openapi.json",
                    f"--checks={','.join(CHECKS)}",
                    f"--max-examples={MAX_EXAMPLES}",
                    f"--seed={SEED}",
                    f"--header=Authorization: Bearer {TOKEN}",
                    f"--header=Cookie: cg_admin={session}",  # the dashboard's pages too
                    "--generation-database=none",
                    "--no-color",
                ],
                capture_output=True,
                text=True,
                cwd=tmp_path,  # schemathesis may write reports here, never into the repo
                timeout=300,
                check=False,
            )
        finally:
            server.terminate()
            server.wait(timeout=15)
    served_log = log_path.read_text()
    print(run.stdout[-3000:])  # the summary, shown with -s or on failure
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:] + served_log[-4000:]
    operations = re.search(r"Tested: (\d+)", run.stdout)
    cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert operations is not None, run.stdout[-3000:]
    assert int(operations.group(1)) >= 29  # every operation but /openapi.json itself
    assert cases is not None, run.stdout[-3000:]
    assert cases.group(1) == cases.group(2), run.stdout[-3000:]
    assert "unhandled error" not in served_log
    assert "Traceback" not in served_log
