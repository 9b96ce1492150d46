"""What the gateway exposes: `/metrics` only to internal effective clients or a metrics token;
every CSV it writes (API, dashboard download, CLI) neutralised against formula injection."""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.app import app_for, create_app
from gateway.inputs import SUBJECT_ID_PATTERN
from gateway.model.receipts import Receipt
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.admin.html_reading import log_in
from tests.conftest import serving
from tests.security.conftest import ADMIN, ADMIN_HASH, AUTH, ORIGIN
from tests.store.test_contract import receipt
from tests.test_cli import CLI, environment

METRICS_TOKEN = "metrics-scraper-token-0123456789"
METRICS_HASH = hashlib.sha256(METRICS_TOKEN.encode()).hexdigest()
PROXY = ipaddress.ip_network("10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "token", "status"),
    [
        ("10.0.0.5", None, None, 200),  # an internal scraper
        ("127.0.0.1", None, None, 200),
        ("8.8.8.8", None, None, 403),  # a public client
        ("10.0.0.5", "8.8.8.8", None, 403),  # a public client behind our trusted proxy
        ("10.0.0.5", "192.168.1.4", None, 200),  # an internal client behind it
        ("10.0.0.5", "8.8.8.8, 10.1.1.1", None, 403),  # proxies all the way: the rightmost public
        ("8.8.8.8", "10.0.0.7", None, 403),  # an untrusted peer cannot claim to be internal
        ("::ffff:8.8.8.8", None, None, 403),  # an IPv4-mapped public address is public
        ("8.8.8.8", None, METRICS_TOKEN, 200),  # a scraper elsewhere, with the token
        ("10.0.0.5", "8.8.8.8", METRICS_TOKEN, 200),
        ("8.8.8.8", None, "wrong-token", 401),
        ("8.8.8.8", None, ADMIN, 401),  # the admin token is not a metrics token
    ],
)
async def test_metrics_go_to_internal_effective_clients_or_a_metrics_token(
    make_settings: Callable[..., Settings],
    peer: str,
    forwarded_for: str | None,
    token: str | None,
    status: int,
) -> None:
    settings = make_settings(
        trusted_proxies=(PROXY,),
        metrics_token_hashes=(METRICS_HASH,),
        admin_token_hashes=(ADMIN_HASH,),
    )
    headers = {}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with serving(create_app(settings), client_ip=peer) as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert "cg_http_requests_total" in response.text
        assert response.headers["cache-control"] == "no-store"
    else:
        assert "cg_" not in response.text


async def test_a_metrics_token_without_configured_hashes_changes_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    async with serving(create_app(make_settings()), client_ip="8.8.8.8") as http:
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 403


FORMULAS = ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _hostile_receipts() -> list[Receipt]:
    now = time.time()
    return [
        receipt(
            formula if formula[0] in "-" else f"-{index}x",  # visitor ids may start with "-"
            at=now - 60 + index,
            collection_point=formula,
            region=formula,
        )
        for index, formula in enumerate(FORMULAS)
    ]


SUBJECT_ID = re.compile(SUBJECT_ID_PATTERN)


def _assert_neutral(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        for name, cell in row.items():
            if name in ("subject_id", "receipt_id") and SUBJECT_ID.fullmatch(cell):
                continue  # an id is written exactly (letters, digits, `._:-`): it matches the API
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    assert sorted(row["collection_point"] for row in rows) == sorted(f"'{f}" for f in FORMULAS)
    ids = sorted(r.subject_id for r in _hostile_receipts())
    assert sorted(row["subject_id"] for row in rows) == sorted(
        subject if SUBJECT_ID.fullmatch(subject) else f"'{subject}" for subject in ids
    )


async def test_injection_csv_every_export_neutralises_formula_cells(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(admin_token_hashes=(ADMIN_HASH,), public_url=ORIGIN)
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    async with serving(app) as http:
        await gateway.store.receipts.add_receipts(_hostile_receipts())
        api = await http.get("/api/receipts", params={"format": "csv"}, headers=AUTH)
        assert api.status_code == 200, api.text
        _assert_neutral(api.text)
        await log_in(http, ADMIN)
        download = await http.get("/admin/receipts.csv")
        assert download.status_code == 200, download.text
        _assert_neutral(download.text)
    cli = subprocess.run(
        [*CLI, "receipts", "--format", "csv"],
        env=environment(tmp_path, GATEWAY_STORE=settings.store.url),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    _assert_neutral(cli.stdout.decode())  # bytes: no newline translation of a CR in a cell


async def test_guessing_the_metrics_token_is_rate_limited(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(metrics_token_hashes=(METRICS_HASH,))
    async with serving(create_app(settings), client_ip="8.8.8.8") as http:
        statuses = [
            (
                await http.get("/metrics", headers={"Authorization": f"Bearer guess-{attempt}"})
            ).status_code
            for attempt in range(12)
        ]
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    assert right.status_code == 429  # refused without checking: a guesser learns nothing
    assert int(right.headers["retry-after"]) >= 1
