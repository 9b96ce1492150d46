"""The running gateway's parts, built once from the settings and reached through app state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from starlette.requests import Request

from gateway.banner.config import ShownTexts, banner_config_for
from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.consent.objections import ObjectionRegistry
from gateway.email.service import EmailService
from gateway.metrics import Metrics
from gateway.receipts.ledger import ReceiptLedger
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.retention import PeriodicPurge
from gateway.rules.loader import load_rules
from gateway.rules.model import Rule
from gateway.settings import Settings
from gateway.signing import development_keys
from gateway.store import Store, open_store
from gateway.tracking.counters import EventCounter
from gateway.tracking.forwarder import Forwarder


@dataclass(frozen=True, slots=True)
class Gateway:
    settings: Settings
    keys: tuple[str, ...]
    codec: ConsentCodec
    rules: Mapping[str, Rule]
    store: Store
    spool: ReceiptSpool
    writer: ReceiptWriter
    receipts: ReceiptLedger
    forwarder: Forwarder
    counter: EventCounter
    email: EmailService
    banner_config: Mapping[str, object]
    shown_texts: ShownTexts
    metrics: Metrics
    objections: ObjectionRegistry
    retention: PeriodicPurge

    def __post_init__(self) -> None:
        self.metrics.watch(self)  # queue and spool gauges are read from here when scraped

    @classmethod
    def build(cls, settings: Settings) -> Gateway:
        """Everything that can fail on bad config fails here, before the server listens."""
        keys = settings.secret_keys or development_keys(settings.data_dir)
        declared = load_rules(
            settings.rules,
            categories=settings.categories,
            allow_insecure_upstreams=settings.allow_insecure_upstreams,
        )
        # Necessary vendors are only disclosed in the banner: no /t route, nothing to delete.
        rules = MappingProxyType(
            {vendor: rule for vendor, rule in declared.items() if not rule.disclosure_only}
        )
        store = open_store(settings)
        spool = ReceiptSpool(settings.spool_path)
        metrics = Metrics()
        writer = ReceiptWriter(store, spool, settings.spool_replay_seconds, metrics=metrics)
        counter = EventCounter(store, metrics=metrics)
        ledger = ReceiptLedger(writer, counter, metrics)
        objections = ObjectionRegistry(
            store,
            categories=(*settings.categories, settings.email_category),
            refresh_seconds=settings.objection_refresh_seconds,
            tombstone_days=settings.consent_days,
        )
        banner_config = banner_config_for(settings, declared)
        return cls(
            settings=settings,
            keys=keys,
            codec=ConsentCodec(keys, settings.consent_days),
            rules=rules,
            store=store,
            spool=spool,
            writer=writer,
            receipts=ledger,
            forwarder=Forwarder(),
            metrics=metrics,
            counter=counter,
            email=EmailService.build(
                settings,
                keys,
                store,
                ledger,
                counter,
                objected=objections.objected,
                on_verdict=lambda kind, verdict: metrics.email_verdicts.labels(kind, verdict).inc(),
            ),
            objections=objections,
            retention=PeriodicPurge(store, settings.purge_interval_seconds),
            banner_config=banner_config,
            shown_texts=ShownTexts(banner_config),
        )

    async def start(self) -> None:
        await self.store.open()
        await self.writer.start()
        await self.writer.replay_once()
        await self.forwarder.start()
        await self.counter.start()
        await self.email.start()
        await self.objections.start()
        await self.retention.start()

    async def stop(self) -> None:
        await self.retention.close()
        await self.objections.close()
        await self.forwarder.close()
        await self.email.stop()
        await self.counter.close()
        await self.writer.close()
        await self.store.close()

    def forwarder_counts(self) -> dict[str, int]:
        forwarder = self.forwarder
        return {
            "queued": forwarder.queue.qsize(),
            "sent": forwarder.sent,
            "failed": forwarder.failed,
            "dropped": forwarder.dropped,
        }

    def spool_depth(self) -> int:
        return self.spool.depth()

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
