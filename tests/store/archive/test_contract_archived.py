"""The storage contract (tests/store) against Redis with the archive beside it, moving after
every write: what the contract reads back comes from PostgreSQL, merged with Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from gateway.settings import Settings
from gateway.store.store_settings import StoreSettings
from tests.store.archive.conftest import MovingStore
from tests.store.test_contract import (  # noqa: F401 -- collected here against the archive
    test_a_stored_receipt_comes_back_unchanged,
    test_email_events_are_idempotent_ordered_and_per_subject,
    test_email_events_older_than_the_retention_are_gone,
    test_erasing_a_recipient_leaves_only_a_tombstone,
    test_latest_receipts_are_newest_first_across_days,
    test_receipt_windows_far_in_the_past_or_future_are_just_wide,
    test_receipts_stream_by_time_window_across_days,
    test_streaming_pages_through_many_receipts,
    test_subject_receipts_are_oldest_first_and_only_theirs,
    test_writing_a_receipt_twice_stores_it_once,
)
from tests.store.test_rights_contract import (  # noqa: F401
    test_erasing_a_subject_removes_everything_and_leaves_only_a_tombstone,
    test_purge_removes_only_what_outlived_its_retention,
    test_standings_of_many_subjects_in_one_read,
)


@pytest.fixture
async def store(archived_settings: Callable[..., Settings]) -> AsyncIterator[MovingStore]:
    settings = archived_settings()
    backend = MovingStore(settings.store.url, StoreSettings.of(settings))
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
