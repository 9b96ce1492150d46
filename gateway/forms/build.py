"""Building the form service from its sections (used by `Gateway.build`)."""

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
from gateway.settings import ConsentSection, FormsSection
from gateway.store.base import Store


def mailer_for(forms: FormsSection, *, allow_plain_smtp: bool) -> Mailer:
    """SMTP, else the webhook, else none (`allow_plain_smtp`: an SMTP server may go without
    TLS, as `allow_insecure_upstreams` allows in tests and development)."""
    if forms.smtp_url:
        return SmtpMailer(forms.smtp_url, forms.mail_from, allow_plain=allow_plain_smtp)
    if forms.opt_in_webhook:
        return WebhookMailer(forms.opt_in_webhook, VendorSender(timeout_seconds=10.0))
    return NoMailer()


def form_service(
    forms: FormsSection,
    policy: ConsentSection,
    keys: tuple[str, ...],
    store: Store,
    receipts: RecordsReceipts,
    consents: RecipientConsents,
    counter: EventCounter,
    *,
    public_url: str,
    allow_plain_smtp: bool,
    clock: Callable[[], float] = time.time,
) -> FormService:
    return FormService(
        policy=policy,
        public_url=public_url,
        recipient_key=recipient_key(keys),
        tokens=FormTokens(keys),
        store=store,
        receipts=receipts,
        consents=consents,
        counter=counter,
        limits=OptInLimits(
            store.shared, forms.opt_in_per_address_per_day, forms.opt_in_per_client_per_hour
        ),
        outbox=MailOutbox(mailer_for(forms, allow_plain_smtp=allow_plain_smtp)),
        templates=Templates(forms.opt_in_templates),
        clock=clock,
    )
