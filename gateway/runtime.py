"""The running gateway's parts, built once from the settings; `app_for` (`gateway.app`) hands
each route factory the few parts it uses."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from gateway.admin.dashboard import DashboardSources
from gateway.admin_auth import FailedAdminAttempts
from gateway.banner.config import ShownTexts
from gateway.configured_banner import configured_banner
from gateway.configured_rules import configured_rules
from gateway.consent.cookie import ConsentCodec
from gateway.consent_records import ConsentRecords
from gateway.counting.counters import EventCounter
from gateway.delivery.monitor import DeliveryMonitor
from gateway.delivery.queue import HitQueue, QueueCap, open_hit_queue
from gateway.delivery.worker import DeliveryWorker
from gateway.email.recipients import RecipientConsentCache
from gateway.email.service import EmailService
from gateway.forms.build import form_service
from gateway.forms.service import FormService
from gateway.instances import InstanceHeartbeat
from gateway.metrics import Metrics
from gateway.objection_registry import ObjectionRegistry
from gateway.process_figures import ProcessFigures
from gateway.receipts.ledger import ReceiptLedger
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.retention import PeriodicPurge
from gateway.rights import SubjectRights
from gateway.rules.model import Rule
from gateway.settings import Settings
from gateway.signing import development_keys
from gateway.store import Store
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from gateway.store_health import StoreHealth, StoreStatus
from gateway.tracking.appender import HitAppender
from gateway.tracking.scripts import FirstPartyScripts


@dataclass(frozen=True, slots=True)
class Gateway:
    settings: Settings
    keys: tuple[str, ...] = field(repr=False)  # signing secrets: never in a log or traceback
    codec: ConsentCodec
    rules: Mapping[str, Rule]
    store: Store
    spool: ReceiptSpool
    writer: ReceiptWriter
    receipts: ReceiptLedger
    hit_queue: HitQueue
    appender: HitAppender
    delivery: DeliveryWorker | None  # None: `serve --no-forwarder`, workers run elsewhere
    delivery_monitor: DeliveryMonitor
    counter: EventCounter
    email: EmailService
    banner_config: Mapping[str, object]
    shown_texts: ShownTexts
    metrics: Metrics
    objections: ObjectionRegistry
    retention: PeriodicPurge
    heartbeat: InstanceHeartbeat
    rights: SubjectRights
    store_health: StoreHealth
    archive_mover: ArchiveMover | None  # with GATEWAY_ARCHIVE: moves old records to it
    figures: ProcessFigures  # what this process shows of itself (readyz, heartbeat, scrape)
    scripts: FirstPartyScripts  # vendors' loader scripts, served from our origin
    forms: FormService
    admin_attempts: FailedAdminAttempts  # wrong admin tokens, shared by the API and the login
    dashboard: DashboardSources  # what `/admin` reads
    clock: Callable[[], float] = field(default=time.time, repr=False)  # tests inject one

    @classmethod
    def build(cls, settings: Settings, clock: Callable[[], float] = time.time) -> Gateway:
        """Everything that can fail on bad config fails here, before the server listens.
        `clock` dates receipts, counters and email events (tests pass their own)."""
        keys = settings.site.secret_keys or development_keys(settings.site.data_dir)
        declared, rules = configured_rules(settings)
        # The email consents' cache comes first: the objection registry, built with the consent
        # records, empties it whenever another instance announces a change.
        email_consents = RecipientConsentCache(settings.email.consent_cache_seconds)
        records = ConsentRecords.build(settings, clock, on_change=(email_consents.clear,))
        store, spool, metrics = records.store, records.spool, records.metrics
        counter, writer, ledger = records.counter, records.writer, records.ledger
        objections = records.objections
        banner_config = configured_banner(settings, declared)
        hit_queue = open_hit_queue(store, settings.delivery.shards)
        cap = QueueCap(
            settings.delivery.queue_cap,
            settings.delivery.queue_cap_bytes,
            settings.delivery.anonymous_share,
            settings.delivery.client_share,
        )
        appender = HitAppender(hit_queue, cap_per_vendor=cap)
        delivery = (
            DeliveryWorker(hit_queue, store, rules, settings.delivery)
            if settings.delivery.forwarder
            else None
        )
        forwarding = sorted(r.id for r in rules.values() if r.hit.mode == "forward")
        email = EmailService.build(
            settings.email,
            settings.consent,
            keys,
            settings.site.public_url,
            store,
            ledger,
            counter,
            objected=objections.objected,
            consents_cache=email_consents,
            on_verdict=lambda kind, verdict, n: metrics.email_verdicts.labels(kind, verdict).inc(n),
            on_drop=metrics.email_events_dropped.inc,
            clock=clock,
        )
        rights = SubjectRights(
            store,
            ledger,
            objections,
            spool,
            settings.consent,
            forgetters=(
                email.recorder.forget_subject,
                email.consents.forget,
                appender.forget_subject,
            ),
            clock=clock,
        )
        delivery_monitor = DeliveryMonitor(hit_queue, appender, delivery, forwarding, cap=cap)
        store_health = StoreHealth(store, settings.store.timeout_seconds)
        forms = form_service(
            settings.forms,
            settings.consent,
            keys,
            store,
            ledger,
            email.consents,
            counter,
            public_url=settings.site.public_url,
            allow_plain_smtp=settings.site.allow_insecure_upstreams,
            clock=clock,
        )
        figures = ProcessFigures(
            spool, delivery_monitor, store_health, counter, email.recorder, forms.outbox
        )
        metrics.watch(figures)  # queue and spool gauges are read from it when scraped
        heartbeat = InstanceHeartbeat(
            store.shared, figures=figures.of_instance, on_beat=metrics.sync_state
        )
        archive_mover = (
            ArchiveMover(store, clock) if isinstance(store, ArchivedRedisStore) else None
        )
        return cls(
            settings=settings,
            keys=keys,
            codec=ConsentCodec(keys, settings.consent.consent_days),
            rules=rules,
            store=store,
            spool=spool,
            writer=writer,
            receipts=ledger,
            hit_queue=hit_queue,
            appender=appender,
            delivery=delivery,
            delivery_monitor=delivery_monitor,
            metrics=metrics,
            counter=counter,
            email=email,
            objections=objections,
            retention=PeriodicPurge(store, settings.retention.purge_interval_seconds),
            heartbeat=heartbeat,
            rights=rights,
            store_health=store_health,
            figures=figures,
            archive_mover=archive_mover,
            scripts=FirstPartyScripts(
                lambda vendor, outcome: metrics.scripts.labels(vendor, outcome).inc(), clock
            ),
            forms=forms,
            admin_attempts=FailedAdminAttempts(
                settings.network.trusted_proxies, store=store.shared
            ),
            dashboard=DashboardSources(
                StoreStatus.of(store),
                store.counts,
                store.receipts,
                figures,
                counter,
                email.recorder,
                heartbeat,
                archive_mover,
                vendors=tuple(sorted(rules)),
                categories=settings.consent.categories,
                clock=clock,
            ),
            banner_config=banner_config,
            shown_texts=ShownTexts(banner_config),
            clock=clock,
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Gateway]:
        """Open and start every part, in order. On the way out — or when a start fails half-way
        — what was opened is closed, in reverse order: SIGTERM stops taking hits and writes the
        edge's buffer; what is undelivered stays queued."""
        async with AsyncExitStack() as stack:
            stack.callback(self.metrics.close)
            stack.push_async_callback(self.scripts.close)
            await self.store.open()
            stack.push_async_callback(self.store.close)
            await self.writer.start(replay_now=True)  # in the background: a big spool takes a while
            stack.push_async_callback(self.writer.close)
            await self.appender.start()
            stack.push_async_callback(self.appender.close, 2.0)
            if self.delivery is not None:
                await self.delivery.start()
                stack.push_async_callback(self.delivery.stop, 4.0)
            self.delivery_monitor.start()
            stack.push_async_callback(self.delivery_monitor.stop)
            self.store_health.start()
            stack.push_async_callback(self.store_health.stop)
            await self.counter.start()
            stack.push_async_callback(self.counter.close)
            await self.email.start()
            stack.push_async_callback(self.email.stop)
            self.forms.outbox.start()
            stack.push_async_callback(self.forms.outbox.close)
            await self.objections.start()
            stack.push_async_callback(self.objections.close)
            await self.retention.start()
            stack.push_async_callback(self.retention.close)
            if self.archive_mover is not None:
                await self.archive_mover.start()
                stack.push_async_callback(self.archive_mover.close)
            await self.heartbeat.start()
            stack.push_async_callback(self.heartbeat.close)
            yield self
