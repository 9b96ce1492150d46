"""The consent records every process that touches a subject needs, built once from the
settings: the store, the receipt spool and ledger, the event counter and the registry of
latest choices and objections. `Gateway.build` composes the edge on top of them; the CLI's
rights commands use them alone (`subject_rights`): no queue, no delivery worker, no email.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gateway.counting.counters import EventCounter
from gateway.counting.pending_counts import PendingCountsFile
from gateway.metrics import Metrics
from gateway.objection_registry import ObjectionRegistry
from gateway.receipts.ledger import ReceiptLedger, count_receipts
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.rights import SubjectRights
from gateway.settings import Settings
from gateway.store import Store, open_store


@dataclass(frozen=True, slots=True)
class ConsentRecords:
    store: Store
    spool: ReceiptSpool
    metrics: Metrics
    counter: EventCounter
    writer: ReceiptWriter
    ledger: ReceiptLedger
    objections: ObjectionRegistry

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        *,
        on_change: Sequence[Callable[[], None]] = (),
    ) -> ConsentRecords:
        """Built, not opened: the caller's lifecycle opens what it uses. `on_change`: what the
        objection registry calls when another instance announced a change (caches to empty)."""
        store = open_store(settings)
        spool = ReceiptSpool(settings.site.spool_path)
        metrics = Metrics()
        counter = EventCounter(
            store.counts,
            metrics=metrics,
            clock=clock,
            pending_file=PendingCountsFile(settings.site.data_dir),
        )
        writer = ReceiptWriter(
            store,
            spool,
            settings.store.spool_replay_seconds,
            metrics=metrics,
            on_stored=functools.partial(count_receipts, counter),
        )
        objections = ObjectionRegistry(
            store,
            categories=(*settings.consent.categories, settings.consent.email_category),
            refresh_seconds=settings.consent.objection_refresh_seconds,
            tombstone_days=settings.consent.consent_days,
            on_superseded=metrics.tally.superseded_token,
            on_change=on_change,
        )
        ledger = ReceiptLedger(writer)
        return cls(store, spool, metrics, counter, writer, ledger, objections)


@asynccontextmanager
async def subject_rights(
    settings: Settings, clock: Callable[[], float] = time.time
) -> AsyncIterator[SubjectRights]:
    """Export and erasure for one command, with the store open for as long as it runs. Nothing
    else starts: no queue, no delivery worker, no email service, no background task (a
    process that runs no edge holds no subject in memory, so there is nothing to forget)."""
    records = ConsentRecords.build(settings, clock)
    rights = SubjectRights(
        records.store,
        records.ledger,
        records.objections,
        records.spool,
        settings.consent,
        clock=clock,
    )
    await records.store.open()
    try:
        yield rights
    finally:
        await records.store.close()
