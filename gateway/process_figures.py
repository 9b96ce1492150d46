"""What this process shows of itself: on `/readyz`, in its heartbeat (`InstanceHeartbeat`),
on the dashboard and to a metrics scrape (`Metrics.watch` reads it as its `RuntimeState`).

Built from the parts it reads, once they exist, and handed to those that show it: no part
reaches back into the whole gateway for a figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from gateway.bodies.answers import OptInMails
from gateway.counting.counters import EventCounter
from gateway.delivery.monitor import DeliveryMonitor
from gateway.email.recorder import EmailRecorder
from gateway.forms.outbox import MailOutbox
from gateway.receipts.spool import ReceiptSpool
from gateway.store_health import StoreHealth


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    spool: ReceiptSpool
    delivery_monitor: DeliveryMonitor
    store_health: StoreHealth
    counter: EventCounter
    email_recorder: EmailRecorder
    outbox: MailOutbox

    def of_instance(self) -> dict[str, object]:
        """What this process publishes in its heartbeat and shows on `/readyz`."""
        return {
            "spool_depth": self.spool_depth(),
            "forwarder": self.delivery_totals(),
            "counts_lost": self.counter.lost,
            "email_events_dropped": self.email_recorder.dropped,
            "opt_in_mails": msgspec.structs.asdict(self.opt_in_mails()),
        }

    def opt_in_mails(self) -> OptInMails:
        outbox = self.outbox
        return OptInMails(outbox.waiting, outbox.sent, outbox.failed, outbox.dropped)

    def delivery_totals(self) -> dict[str, int]:
        """Delivery figures summed over vendors (`delivery_report` has them per vendor)."""
        return self.delivery_monitor.totals()

    def delivery_report(self) -> dict[str, dict[str, float]]:
        return self.delivery_monitor.report()

    def spool_depth(self) -> int:
        return self.spool.depth()

    def store_figures(self) -> dict[str, float]:
        return self.store_health.figures()
