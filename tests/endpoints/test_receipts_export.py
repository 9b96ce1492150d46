"""`GET /api/receipts`: every receipt as CSV or JSON Lines, streamed in bounded chunks."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from gateway.app import app_for
from gateway.model.receipts import FIELD_NAMES, Receipt
from gateway.receipts.export import export_chunks, jsonl_line, started
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import serving
from tests.store.test_contract import DAY, T0, receipt

ADMIN = "admin-token-for-receipts"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
async def http(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),))
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    async with serving(app) as client:
        await gateway.store.receipts.add_receipts(
            [
                receipt("subject-a-aaaaaaaaaaaa", at=T0 - DAY),
                receipt("subject-b-aaaaaaaaaaaa", at=T0, action="reject_all", granted=()),
                receipt("subject-c-aaaaaaaaaaaa", at=T0 + DAY, language="ru"),
            ]
        )
        yield client


async def test_jsonl_by_default_oldest_first(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/receipts", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="receipts.jsonl"'
    assert answer.headers["cache-control"] == "no-store"
    rows = [json.loads(line) for line in answer.text.splitlines()]
    assert [row["subject_id"][:9] for row in rows] == ["subject-a", "subject-b", "subject-c"]
    assert rows[1]["action"] == "reject_all"
    assert rows[0]["created_at"] == "2025-11-23T16:00:00.000+00:00"


async def test_csv_with_a_time_window(http: httpx.AsyncClient) -> None:
    answer = await http.get(
        "/api/receipts",
        params={"format": "csv", "since": "2025-11-24", "until": "2025-11-25T16:00:00Z"},
        headers=AUTH,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(table[0]) == list(FIELD_NAMES)
    assert [row["subject_id"][:9] for row in table] == ["subject-b"]  # until is exclusive
    assert table[0]["granted"] == ""


async def test_an_empty_window_is_just_the_header(http: httpx.AsyncClient) -> None:
    csv_answer = await http.get("/api/receipts?format=csv&since=2999-01-01", headers=AUTH)
    assert csv_answer.text.splitlines() == [",".join(FIELD_NAMES)]
    jsonl_answer = await http.get("/api/receipts?since=2999-01-01", headers=AUTH)
    assert jsonl_answer.text == ""


@pytest.mark.parametrize(
    "query",
    [
        "format=xml",
        "since=yesterday",
        "until=2026-13-01",
        "since=0001-01-01",  # before 1970: refused rather than sent to the store
        "sinse=2026-01-01",
    ],
)
async def test_bad_parameters_are_422(http: httpx.AsyncClient, query: str) -> None:
    answer = await http.get(f"/api/receipts?{query}", headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["error"] == "unprocessable"


async def test_the_body_comes_in_bounded_chunks() -> None:
    """Constant memory: the generator never holds more than about one chunk of lines."""
    many = [receipt(f"subject-{i:05d}-aaaaaaaa", at=T0 + i) for i in range(2000)]

    async def stream() -> AsyncIterator[Receipt]:
        for item in many:
            yield item

    chunks = [chunk async for chunk in export_chunks(await started(stream()), "jsonl", 4096)]
    longest_line = max(len(jsonl_line(r).encode()) for r in many)
    assert len(chunks) > 100
    assert max(len(chunk) for chunk in chunks) <= 4096 + longest_line
    lines = b"".join(chunks).decode().splitlines()
    assert [json.loads(line)["receipt_id"] for line in lines] == [r.receipt_id for r in many]
