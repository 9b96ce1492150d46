"""The running gateway's parts, built once from the settings and reached through app state."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from starlette.requests import Request

from gateway.banner.config import ShownTexts, banner_config_for
from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.counting.counters import EventCounter
from gateway.counting.pending_counts import PendingCountsFile
from gateway.delivery.monitor import DeliveryMonitor
from gateway.delivery.queue import HitQueue, QueueCap, open_hit_queue
from gateway.delivery.worker import DeliveryWorker
from gateway.email.service import EmailService
from gateway.forms.build import form_service
from gateway.forms.service import FormService
from gateway.instances import InstanceHeartbeat
from gateway.metrics import Metrics
from gateway.objection_registry import ObjectionRegistry
from gateway.receipts.ledger import ReceiptLedger, count_receipts
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.retention import PeriodicPurge
from gateway.rights import SubjectRights
from gateway.rules.loader import load_rules
from gateway.rules.model import Rule
from gateway.rules.selection import select_vendors
from gateway.settings import Settings
from gateway.signing import development_keys
from gateway.store import Store, open_store
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from gateway.store_health import StoreHealth
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
    scripts: FirstPartyScripts  # vendors' loader scripts, served from our origin
    forms: FormService
    archive_mover: ArchiveMover | None  # with GATEWAY_ARCHIVE: moves old records to it
    clock: Callable[[], float] = field(default=time.time, repr=False)  # tests inject one

    def __post_init__(self) -> None:
        self.metrics.watch(self)  # queue and spool gauges are read from here when scraped
        self.heartbeat.figures = self.instance_figures
        self.heartbeat.on_beat = self.metrics.sync_state

    @classmethod
    def build(cls, settings: Settings, clock: Callable[[], float] = time.time) -> Gateway:
        """Everything that can fail on bad config fails here, before the server listens.
        `clock` dates receipts, counters and email events (tests pass their own)."""
        keys = settings.site.secret_keys or development_keys(settings.site.data_dir)
        declared = select_vendors(
            load_rules(
                settings.rules.folder,
                categories=settings.consent.categories,
                allow_insecure_upstreams=settings.site.allow_insecure_upstreams,
                home=settings.rules.home_countries,
            ),
            settings.rules.vendors,
        )
        # Necessary vendors are only disclosed in the banner: no /t route, nothing to delete.
        rules = MappingProxyType(
            {vendor: rule for vendor, rule in declared.items() if not rule.disclosure_only}
        )
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
        ledger = ReceiptLedger(writer, metrics)
        objections = ObjectionRegistry(
            store,
            categories=(*settings.consent.categories, settings.consent.email_category),
            refresh_seconds=settings.consent.objection_refresh_seconds,
            tombstone_days=settings.consent.consent_days,
            on_superseded=metrics.tally.superseded_token,
        )
        banner_config = banner_config_for(settings, declared)
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
            on_verdict=lambda kind, verdict: metrics.email_verdicts.labels(kind, verdict).inc(),
            clock=clock,
        )
        objections.on_change.append(email.consents.forget_all)
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
            delivery_monitor=DeliveryMonitor(hit_queue, appender, delivery, forwarding, cap=cap),
            metrics=metrics,
            counter=counter,
            email=email,
            objections=objections,
            retention=PeriodicPurge(store, settings.retention.purge_interval_seconds),
            heartbeat=InstanceHeartbeat(store.shared),
            rights=rights,
            store_health=StoreHealth(store, settings.store.timeout_seconds),
            scripts=FirstPartyScripts(
                lambda vendor, outcome: metrics.scripts.labels(vendor, outcome).inc(), clock
            ),
            forms=form_service(settings, keys, store, ledger, email.consents, counter, clock),
            banner_config=banner_config,
            shown_texts=ShownTexts(banner_config),
            archive_mover=(
                ArchiveMover(store, clock) if isinstance(store, ArchivedRedisStore) else None
            ),
            clock=clock,
        )

    async def start(self) -> None:
        await self.store.open()
        await self.writer.start(replay_now=True)  # in the background: a big spool takes a while
        await self.appender.start()
        if self.delivery is not None:
            await self.delivery.start()
        self.delivery_monitor.start()
        self.store_health.start()
        await self.counter.start()
        await self.email.start()
        self.forms.outbox.start()
        await self.objections.start()
        await self.retention.start()
        if self.archive_mover is not None:
            await self.archive_mover.start()
        await self.heartbeat.start()

    async def stop(self) -> None:
        await self.heartbeat.close()
        if self.archive_mover is not None:
            await self.archive_mover.close()
        await self.retention.close()
        await self.objections.close()
        # SIGTERM: stop taking hits, write the edge's buffer; what is undelivered stays queued.
        await self.delivery_monitor.stop()
        await self.store_health.stop()
        if self.delivery is not None:
            await self.delivery.stop(deadline_seconds=4.0)
        await self.appender.close(deadline_seconds=2.0)
        await self.email.stop()
        await self.forms.outbox.close()
        await self.counter.close()
        await self.writer.close()
        await self.store.close()
        await self.scripts.close()
        self.metrics.close()

    def instance_figures(self) -> dict[str, object]:
        """What this process publishes in its heartbeat and shows on `/readyz`."""
        return {
            "spool_depth": self.spool_depth(),
            "forwarder": self.delivery_totals(),
            "counts_lost": self.counter.lost,
            "email_events_dropped": self.email.recorder.dropped,
            "opt_in_mails": {
                "waiting": self.forms.outbox.waiting,
                "sent": self.forms.outbox.sent,
                "failed": self.forms.outbox.failed,
                "dropped": self.forms.outbox.dropped,
            },
        }

    def delivery_totals(self) -> dict[str, int]:
        """Delivery figures summed over vendors (`delivery_report` has them per vendor)."""
        return self.delivery_monitor.totals()

    def delivery_report(self) -> dict[str, dict[str, float]]:
        return self.delivery_monitor.report()

    def spool_depth(self) -> int:
        return self.spool.depth()

    def store_figures(self) -> dict[str, float]:
        return self.store_health.figures()

    def refusable_vendors(self) -> dict[str, str]:
        """Vendor id → category of every vendor a visitor may refuse (not `necessary` ones)."""
        return {rule.id: rule.category for rule in self.rules.values()}

    def refused_vendor_cookies(self, consent: Consent) -> list[str]:
        """The cookies of every vendor `consent` does not allow, for the banner to delete."""
        names = {
            name
            for rule in self.rules.values()
            if not consent.allows_vendor(rule.id, rule.category)
            for name in rule.cookies.patterns
        }
        return sorted(names)

    def vendor_cookies(self) -> list[str]:
        """Every cookie a vendor rule names, for the banner to delete on withdrawal."""
        return sorted({name for rule in self.rules.values() for name in rule.cookies.patterns})


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway
