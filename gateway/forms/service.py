"""Form consent: record a submission, confirm a double opt-in, unsubscribe — each a receipt.

    submission   receipt `form`: the boxes as shown (label text, its SHA-256 and language,
                 ticked or not), granted = ticked purposes that need no confirmation, denied =
                 unticked ones; a ticked newsletter / email-tracking box is in neither until
                 the address's owner confirms (a mail with a `/f/` link is queued)
    confirmation receipt `form_confirmed`: granted = the purposes the link carries; email
                 tracking (if among them) is switched on at once
    unsubscribe  receipt `unsubscribe`: denied = newsletter and email tracking; email tracking
                 is switched off at once (opens and clicks stop being tracked)

The subject of a form with an address is the address's keyed hash (`recipient_id`), so a
mailer that signs links for the same address reaches the same person; a form without one
speaks for the visitor (their consent id, or a new random id).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gateway.consent.model import new_consent_id
from gateway.counting.counters import EventCounter
from gateway.email.identity import recipient_id
from gateway.email.recipients import RecipientConsents
from gateway.errors import ClientError, StoreUnavailable, TooManyRequests, Unprocessable
from gateway.forms.limits import OptInLimits
from gateway.forms.mail import NoMailer, Templates
from gateway.forms.outbox import MailOutbox
from gateway.forms.submission import NEWSLETTER, FormPurposes, FormSubmission
from gateway.forms.tokens import Confirmation, FormTokens
from gateway.model.counts import FormRefusal
from gateway.model.receipts import Receipt
from gateway.model.visitors import RequestFacts
from gateway.receipts.build import new_receipt
from gateway.receipts.ledger import RecordsReceipts
from gateway.receipts.shown import TextsShown, texts_shown
from gateway.settings import ConsentSection
from gateway.store.base import Store

ConfirmOutcome = Literal["confirmed", "replayed", "expired", "invalid", "erased"]


class StalePolicy(ClientError):
    status, error = 409, "stale_policy"


class OptInUnavailable(ClientError):
    status, error = 422, "opt_in_unavailable"


@dataclass(frozen=True, slots=True)
class Submitted:
    receipt_id: str | None  # None: a honeypot catch (answered as if recorded)
    subject_id: str | None
    granted: tuple[str, ...]
    denied: tuple[str, ...]
    awaiting_confirmation: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Confirmed:
    outcome: ConfirmOutcome
    language: str  # the mail's; "" when the link says nothing
    receipt_id: str | None = None
    purposes: tuple[str, ...] = ()


class FormService:
    def __init__(
        self,
        *,
        policy: ConsentSection,
        public_url: str,
        recipient_key: bytes,
        tokens: FormTokens,
        store: Store,
        receipts: RecordsReceipts,
        consents: RecipientConsents,
        counter: EventCounter,
        limits: OptInLimits,
        outbox: MailOutbox,
        templates: Templates,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy, self.public_url = policy, public_url.rstrip("/")
        self.recipient_key, self.tokens, self.store = recipient_key, tokens, store
        self.receipts, self.consents, self.counter = receipts, consents, counter
        self.limits, self.outbox, self.templates, self.clock = limits, outbox, templates, clock
        self.purposes = FormPurposes(policy.categories, policy.email_category)

    @property
    def can_confirm(self) -> bool:
        return not isinstance(self.outbox.mailer, NoMailer)

    def refused(self, reason: str) -> None:
        self.counter.add(FormRefusal(reason))

    async def submit(
        self,
        submission: FormSubmission,
        facts: RequestFacts,
        *,
        visitor_id: str | None,
        client: str,
    ) -> Submitted:
        """Record `submission` (and queue its confirmation mail). Raises `StalePolicy`,
        `OptInUnavailable` or `TooManyRequests`; nothing is recorded then."""
        if submission.honeypot_filled:
            self.refused("honeypot")  # a bot: answered as if recorded, nothing kept or sent
            return Submitted(None, None, (), (), ())
        if submission.policy_revision != self.policy.revision:
            self.refused("stale_policy")
            raise StalePolicy(
                f"the page shows policy revision {submission.policy_revision}, the current one"
                f" is {self.policy.revision}: reload the page"
            )
        pending = tuple(sorted(set(submission.ticked) & self.purposes.double_opt_in))
        if submission.address is not None:
            subject, kind = recipient_id(submission.address, self.recipient_key), "recipient"
        else:
            subject, kind = visitor_id or new_consent_id(), "visitor"
        now = self.clock()
        if pending:
            if not self.can_confirm:
                self.refused("no_mailer")
                raise OptInUnavailable(
                    f"{', '.join(pending)} needs a confirmation mail, and this gateway has no"
                    " GATEWAY_SMTP_URL or GATEWAY_OPT_IN_WEBHOOK"
                )
            await self._take_mail_limits(subject, client, now)
        granted = tuple(p for p in submission.ticked if p not in pending)
        receipt = new_receipt(
            self.policy,
            facts,
            subject_id=subject,
            subject_kind="recipient" if kind == "recipient" else "visitor",
            action="form",
            granted=granted,
            denied=submission.unticked,
            shown=texts_shown(
                submission.language, {label.purpose: label.text for label in submission.labels}
            ),
            page=submission.page,
            now=now,
            form_id=submission.form_id,
            labels=submission.labels,
        )
        await self.receipts.record(receipt)
        if pending:
            assert submission.address is not None
            self._queue_confirmation(submission, subject, pending, int(now))
        return Submitted(receipt.receipt_id, subject, receipt.granted, receipt.denied, pending)

    async def _take_mail_limits(self, subject: str, client: str, now: float) -> None:
        try:
            refused = await self.limits.take(subject, client, now)
        except StoreUnavailable:
            self.refused("store_unavailable")
            raise
        if refused is not None:
            limit, wait = refused
            self.refused(f"{limit}_limit")
            per = "this address today" if limit == "address" else "this network this hour"
            raise TooManyRequests(
                f"too many confirmation mails for {per}; try again in {wait} s", retry_after=wait
            )

    def _queue_confirmation(
        self, submission: FormSubmission, subject: str, pending: tuple[str, ...], now: int
    ) -> None:
        assert submission.address is not None
        confirmation = Confirmation(
            pending_id=secrets.token_urlsafe(12),
            subject=subject,
            purposes=pending,
            form_id=submission.form_id,
            language=submission.language,
            issued_at=now,
        )
        link = f"{self.public_url}/f/{self.tokens.sign_confirmation(confirmation)}"
        mail = self.templates.confirmation(
            to=submission.address,
            link=link,
            form_id=submission.form_id,
            purposes=pending,
            language=submission.language,
        )
        if not self.outbox.put(mail):
            self.refused("outbox_full")

    async def confirm(self, token: str, facts: RequestFacts) -> Confirmed:
        """Follow a confirmation link: grant its purposes once (a receipt), or say why not."""
        now = self.clock()
        confirmation = self.tokens.read_confirmation(token, now)
        if confirmation is None:
            expired = self.tokens.is_expired(token)
            self.refused("link_expired" if expired else "link_invalid")
            return Confirmed("expired" if expired else "invalid", "")
        language = confirmation.language
        spent = f"opt-in-spent|{confirmation.pending_id}"
        if await self.store.shared.mark(spent, now) is not None:
            self.refused("link_replayed")
            return Confirmed("replayed", language)
        await self.store.shared.set_mark(spent, confirmation.expires_at + 60.0)
        receipt = new_receipt(
            self.policy,
            facts,
            subject_id=confirmation.subject,
            subject_kind="recipient",
            action="form_confirmed",
            granted=confirmation.purposes,
            denied=(),
            shown=TextsShown(language, ""),
            page="/f",
            now=now,
            form_id=confirmation.form_id,
        )
        try:
            if self.policy.email_category in confirmation.purposes:
                await self.consents.follow(receipt, grant=True)
            else:
                await self.receipts.record(receipt)
        except Unprocessable:  # erased since the form was sent: it stays erased
            return Confirmed("erased", language)
        return Confirmed("confirmed", language, receipt.receipt_id, confirmation.purposes)

    async def unsubscribe(self, subject: str, facts: RequestFacts, page: str) -> Receipt:
        """Withdraw the newsletter and email tracking: a receipt, tracking off at once."""
        receipt = new_receipt(
            self.policy,
            facts,
            subject_id=subject,
            subject_kind="recipient",
            action="unsubscribe",
            granted=(),
            denied=(NEWSLETTER, self.policy.email_category),
            shown=TextsShown("", ""),
            page=page,
            now=self.clock(),
        )
        await self.consents.follow(receipt, grant=False)
        return receipt

    def unsubscribe_headers(self, subject: str) -> dict[str, str]:
        return self.tokens.unsubscribe_headers(self.public_url, subject)
