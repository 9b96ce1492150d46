"""One view of a subject across two gateways on one Redis and one PostgreSQL: a choice made a
month ago, moved to the archive, is what the visitor reads back, what access and the export
return, and what erasure deletes — from both stores."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import Settings
from gateway.store.archive.store import ArchivedRedisStore
from tests.admin.html_reading import log_in
from tests.clocks import FixedClock
from tests.conftest import SITE, serving
from tests.store.archive.helpers import DAY, archived_ids, hot_receipt_count, move_all

ADMIN = "admin-token-for-the-archive-tests"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Origin": SITE,
}


async def test_rights_see_and_erase_archived_receipts(
    archived_settings: Callable[..., Settings], archive_url: str, tmp_path: Path
) -> None:
    month_ago = FixedClock(time.time() - 30 * DAY)
    async with AsyncExitStack() as stack:
        gateways = [
            Gateway.build(
                archived_settings(
                    data_dir=tmp_path / name,
                    admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),),
                    public_url="http://gateway.test",  # the in-process client's origin
                ),
                clock,
            )
            for name, clock in (("a", month_ago), ("b", time.time))
        ]
        a = await stack.enter_async_context(serving(app_for(gateways[0])))
        b = await stack.enter_async_context(serving(app_for(gateways[1])))
        chosen = await a.post("/consent", json={"action": "reject_all"}, headers=BROWSER)
        assert chosen.status_code == 200
        receipt_id = chosen.json()["receipt_id"]
        subject = (await a.get("/consent/receipts")).json()["subject_id"]

        store = gateways[1].store
        assert isinstance(store, ArchivedRedisStore)
        await move_all(store)  # or B's own mover, which may be at it: either moves it once
        assert await archived_ids(archive_url, subject=subject) == [receipt_id]
        assert await hot_receipt_count(store) == 0

        own = (await a.get("/consent/receipts")).json()["receipts"]
        assert [(r["receipt_id"], r["action"]) for r in own] == [(receipt_id, "reject_all")]
        access = (await b.get(f"/api/subjects/{subject}", headers=AUTH)).json()
        assert [r["receipt_id"] for r in access["receipts"]] == [receipt_id]
        lines = (await b.get("/api/receipts?format=jsonl", headers=AUTH)).text.splitlines()
        assert [json.loads(line)["receipt_id"] for line in lines] == [receipt_id]
        ready = (await b.get("/readyz")).json()
        assert ready["archive"]["status"] == "ok"
        assert ready["archive"]["lag_seconds"] == 0.0
        await log_in(b, ADMIN)  # the dashboard's Operations panel says the same
        assert '<dd id="archive" class="ok">answers;' in (await b.get("/admin")).text

        erased = (await b.delete(f"/api/subjects/{subject}", headers=AUTH)).json()
        assert erased["erased"]["receipts"] == 1
        assert await archived_ids(archive_url, subject=subject) == []
        assert (await a.get("/consent/receipts")).json()["receipts"] == []
        assert (await b.get(f"/api/subjects/{subject}", headers=AUTH)).json()["receipts"] == []
