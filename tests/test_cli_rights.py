"""`consent-gateway export | erase | purge`, run as a user runs them: real processes, a real store."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from gateway.model.email_events import RecipientConsent
from gateway.settings import load_settings
from gateway.store import Store, open_store
from tests.store.test_contract import receipt
from tests.test_cli import environment, run

DAY = 86400.0
T = TypeVar("T")


def with_store(env: dict[str, str], work: Callable[[Store], Awaitable[T]]) -> T:
    """Run `work(store)` on the gateway's store, as the CLI process sees it."""

    async def go() -> T:
        store = open_store(load_settings(environ=env))
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


def test_export_prints_everything_held_as_json(tmp_path: Path) -> None:
    env = environment(tmp_path)
    mine = receipt("esp-77", at=round(time.time() - 60, 3), subject_kind="recipient")

    async def seed(store: Store) -> None:
        await store.receipts.add_receipts([mine])
        await store.email.put_recipient_consent(
            RecipientConsent("esp-77", "granted", mine.created_at)
        )

    with_store(env, seed)
    result = run("export", "esp-77", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["subject_id"] == "esp-77"
    assert [r["receipt_id"] for r in data["receipts"]] == [mine.receipt_id]
    assert data["email_tracking"]["state"] == "granted"
    bad = run("export", "ada@example.com", env=env)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert "subject id" in bad.stderr


def test_erase_asks_for_yes_then_leaves_only_the_tombstone(tmp_path: Path) -> None:
    env = environment(tmp_path)
    mine = receipt("esp-78", at=round(time.time() - 60, 3))
    with_store(env, lambda store: store.receipts.add_receipts([mine]))

    refused = run("erase", "esp-78", env=env)
    assert refused.returncode == 1
    assert "--yes" in refused.stderr
    assert with_store(env, lambda store: store.receipts.subject_receipts("esp-78")) == [mine]

    done = run("erase", "esp-78", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "receipts": 1,
        "email_events": 0,
        "email_consent": 0,
        "objections": 0,
    }
    assert "only the tombstone stays" in done.stderr
    assert with_store(env, lambda store: store.receipts.subject_receipts("esp-78")) == []
    assert with_store(env, lambda store: store.rights.suppression("esp-78")) is not None
    after = json.loads(run("export", "esp-78", env=env).stdout)
    assert (after["receipts"], after["erased_at"] is not None) == ([], True)


def test_purge_deletes_what_outlived_its_retention_with_progress_on_stderr(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, GATEWAY_RECEIPT_RETENTION_DAYS="30")
    now = time.time()
    expired = [
        receipt(f"subject-{i:02d}-aaaaaaaaaaa", at=round(now - 40 * DAY + i, 3)) for i in range(3)
    ]
    kept = receipt("subject-kept-aaaaaaaaa", at=round(now - 20 * DAY, 3))
    with_store(env, lambda store: store.receipts.add_receipts([*expired, kept]))
    result = run("purge", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "purging receipts: 3" in result.stderr
    assert result.stderr.rstrip().endswith("purged: 3 receipts, 0 email events, 0 counts")
    remaining = with_store(env, lambda store: store.receipts.subject_receipts(kept.subject_id))
    assert remaining == [kept]


def test_a_store_that_is_down_is_one_line_and_nothing_is_done(tmp_path: Path) -> None:
    """Nothing listens on port 1: each command says so in one line and exits 1."""
    env = environment(
        tmp_path, GATEWAY_STORE="redis://127.0.0.1:1/0", GATEWAY_STORE_TIMEOUT_SECONDS="0.3"
    )
    for command, said in (
        (("export", "esp-79"), "the store is unavailable: "),
        (("erase", "esp-79", "--yes"), "the store is unavailable; nothing was erased: "),
        (("purge",), "the store is unavailable: "),
    ):
        result = run(*command, env=env)
        assert (result.returncode, result.stdout) == (1, ""), result.stderr
        assert result.stderr.startswith(f"consent-gateway: {said}"), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr


def test_erase_refuses_what_cannot_be_a_subject(tmp_path: Path) -> None:
    result = run("erase", "ada@example.com", "--yes", env=environment(tmp_path))
    assert (result.returncode, result.stdout) == (1, "")
    assert "subject id" in result.stderr
