"""The email part of a running gateway: token signing and reading, recipient consent, events."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.email.links import EmailSigner
from gateway.email.recipients import Collection, RecipientConsents
from gateway.email.recorder import EmailRecorder
from gateway.email.tokens import EmailTokens
from gateway.receipts.ledger import RecordsReceipts
from gateway.settings import Settings
from gateway.store.base import Store
from gateway.tracking.counters import EventCounter


@dataclass(frozen=True, slots=True)
class EmailService:
    tokens: EmailTokens
    signer: EmailSigner
    consents: RecipientConsents
    recorder: EmailRecorder

    @classmethod
    def build(
        cls,
        settings: Settings,
        keys: tuple[str, ...],
        store: Store,
        receipts: RecordsReceipts,
        counter: EventCounter,
    ) -> EmailService:
        tokens = EmailTokens(keys)
        consents = RecipientConsents(store, receipts, settings)
        return cls(
            tokens=tokens,
            signer=EmailSigner(keys, settings.public_url, settings.email_target_hosts, tokens),
            consents=consents,
            recorder=EmailRecorder(
                store,
                counter,
                consents,
                aggregates_without_consent=settings.email_aggregates,
                min_click_seconds=settings.email_min_click_seconds,
            ),
        )

    async def start(self) -> None:
        await self.recorder.start()

    async def stop(self) -> None:
        """Settle and write what is in memory (before the counter's last flush)."""
        await self.recorder.close()

    async def erase(self, subject: str, collection: Collection) -> int:
        """Erase a recipient everywhere this process holds them: store and memory."""
        self.recorder.forget_subject(subject)
        deleted = await self.consents.erase(subject, collection=collection)
        self.recorder.forget_subject(subject)
        return deleted
