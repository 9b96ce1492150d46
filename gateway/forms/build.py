"""Building the form service from the settings (used by `Gateway.build` and the CLI)."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.counting.counters import EventCounter
from gateway.delivery.sender import VendorSender
from gateway.email.identity import recipient_key
from gateway.email.recipients import RecipientConsents
from gateway.forms.limits import OptInLimits
from gateway.forms.mail import Mailer, NoMailer, SmtpMailer, Templates, WebhookMailer
from gateway.forms.outbox import MailOutbox
from gateway.forms.service import FormService
from gateway.forms.tokens import FormTokens
from gateway.receipts.ledger import RecordsReceipts
from gateway.settings import Settings
from gateway.store.base import Store


def mailer_for(settings: Settings) -> Mailer:
    if settings.forms.smtp_url:
        return SmtpMailer(
            settings.forms.smtp_url,
            settings.forms.mail_from,
            allow_plain=settings.site.allow_insecure_upstreams,
        )
    if settings.forms.opt_in_webhook:
        return WebhookMailer(settings.forms.opt_in_webhook, VendorSender(timeout_seconds=10.0))
    return NoMailer()


def form_service(
    settings: Settings,
    keys: tuple[str, ...],
    store: Store,
    receipts: RecordsReceipts,
    consents: RecipientConsents,
    counter: EventCounter,
    clock: Callable[[], float] = time.time,
) -> FormService:
    return FormService(
        policy=settings.consent,
        public_url=settings.site.public_url,
        recipient_key=recipient_key(keys),
        tokens=FormTokens(keys),
        store=store,
        receipts=receipts,
        consents=consents,
        counter=counter,
        limits=OptInLimits(
            store.shared,
            settings.forms.opt_in_per_address_per_day,
            settings.forms.opt_in_per_client_per_hour,
        ),
        outbox=MailOutbox(mailer_for(settings)),
        templates=Templates(settings.forms.opt_in_templates),
        clock=clock,
    )
