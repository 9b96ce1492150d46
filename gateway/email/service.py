"""The email part of a running gateway: token signing and reading, recipient consent, events."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.counting.counters import EventCounter
from gateway.email.links import EmailSigner
from gateway.email.recipients import RecipientConsentCache, RecipientConsents
from gateway.email.recorder import EmailRecorder
from gateway.email.tokens import EmailTokens
from gateway.model.email_events import EventKind, Verdict
from gateway.receipts.ledger import RecordsReceipts
from gateway.settings import ConsentSection, EmailSection
from gateway.store.base import Store


@dataclass(frozen=True, slots=True)
class EmailService:
    tokens: EmailTokens
    signer: EmailSigner
    consents: RecipientConsents
    recorder: EmailRecorder

    @classmethod
    def build(
        cls,
        email: EmailSection,
        policy: ConsentSection,
        keys: tuple[str, ...],
        public_url: str,
        store: Store,
        receipts: RecordsReceipts,
        counter: EventCounter,
        objected: Callable[[str], frozenset[str]] = lambda subject: frozenset(),
        consents_cache: RecipientConsentCache | None = None,
        on_verdict: Callable[[EventKind, Verdict, int], None] = lambda kind, verdict, n: None,
        on_drop: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> EmailService:
        tokens = EmailTokens(keys)
        consents = RecipientConsents(
            store, receipts, policy, email, clock=clock, objected=objected, cache=consents_cache
        )
        return cls(
            tokens=tokens,
            signer=EmailSigner(keys, public_url, email.target_hosts, tokens),
            consents=consents,
            recorder=EmailRecorder(
                store,
                counter,
                consents,
                aggregates_without_consent=email.aggregates,
                min_click_seconds=email.min_click_seconds,
                on_verdict=on_verdict,
                on_drop=on_drop,
                clock=clock,
            ),
        )

    async def start(self) -> None:
        await self.recorder.start()

    async def stop(self) -> None:
        """Settle and write what is in memory (before the counter's last flush)."""
        await self.recorder.close()
