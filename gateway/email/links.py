"""Signed URLs for one email: click-throughs, the open pixel, the preferences page, the honeypot.

The Python API (the CLI and `POST /api/links` use the same code):

    >>> from gateway.settings import from_keys
    >>> signed = sign_links(
    ...     from_keys(secret_keys=("k" * 32,), public_url="https://consent.example.com"),
    ...     campaign="spring-26", recipient="ada@example.com", urls=["https://example.com/offer"],
    ... )
    >>> signed.click_urls[0].startswith("https://consent.example.com/c/")
    True
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.email.identity import checked_campaign, recipient_key, subject_for
from gateway.email.targets import checked_target
from gateway.email.tokens import HONEYPOT_LINK, ClickToken, EmailTokens, OpenToken
from gateway.errors import Unprocessable
from gateway.model.link_limits import MAX_LINKS
from gateway.settings import Settings
from gateway.signing import development_keys


@dataclass(frozen=True, slots=True)
class SignedLinks:
    subject: str  # the recipient's subject id: what the store and the admin API know them by
    sent_at: int
    click_urls: tuple[str, ...]  # one per target, in order; link indexes 1, 2, …
    open_url: str
    preferences_url: str


class MessageLinks:
    """The URLs of one email to one recipient; each click URL is checked and signed on demand."""

    def __init__(self, signer: EmailSigner, campaign: str, subject: str, sent_at: int) -> None:
        self._signer, self.campaign, self.subject, self.sent_at = signer, campaign, subject, sent_at
        tokens, base = signer.tokens, signer.base
        self.open_url = f"{base}/o/{tokens.sign_open(OpenToken(campaign, subject, sent_at))}"
        self.preferences_url = f"{base}/p/{tokens.sign_preferences(subject)}"

    def click_url(self, target: str, link: int) -> str:
        """The click URL for `target` at position `link` (from 1); `Unprocessable` if unsafe."""
        if link < 1:
            raise Unprocessable("link positions start at 1")
        return self.checked_click_url(checked_target(target, self._signer.allowed_hosts), link)

    def honeypot_url(self) -> str:
        """A click URL no person sees; following it marks this message's clicks as machine."""
        return self.checked_click_url(self.preferences_url, HONEYPOT_LINK)

    def checked_click_url(self, target: str, link: int) -> str:
        """The click URL for a target that already passed `checked_target` (batch rewriting)."""
        click = ClickToken(self.campaign, self.subject, link, target, self.sent_at)
        return f"{self._signer.base}/c/{self._signer.tokens.sign_click(click)}"


class EmailSigner:
    """Signs email links for one gateway: its keys, public URL and target host allowlist."""

    def __init__(
        self,
        keys: tuple[str, ...],
        public_url: str,
        allowed_hosts: Sequence[str] = (),
        tokens: EmailTokens | None = None,
    ) -> None:
        self.tokens = tokens or EmailTokens(keys)
        self.base = public_url.rstrip("/")
        self.allowed_hosts = tuple(host.strip(".").lower() for host in allowed_hosts)
        self.recipient_key = recipient_key(keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSigner:
        keys = settings.site.secret_keys or development_keys(settings.site.data_dir)
        return cls(keys, settings.site.public_url, settings.email.target_hosts)

    def message(
        self, *, campaign: object, recipient: object, sent_at: float | None = None
    ) -> MessageLinks:
        """Links for one email; `recipient` is an ESP id or an address (hashed, never kept)."""
        moment = int(time.time() if sent_at is None else sent_at)
        if moment < 0:
            raise Unprocessable('"sent_at" must be a time after 1970')
        subject = subject_for(recipient, self.recipient_key)
        return MessageLinks(self, checked_campaign(campaign), subject, moment)

    def sign(
        self,
        *,
        campaign: object,
        recipient: object,
        urls: Sequence[str],
        sent_at: float | None = None,
    ) -> SignedLinks:
        if len(urls) > MAX_LINKS:
            raise Unprocessable(f"at most {MAX_LINKS} links per request")
        message = self.message(campaign=campaign, recipient=recipient, sent_at=sent_at)
        clicks = tuple(message.click_url(url, link) for link, url in enumerate(urls, start=1))
        return SignedLinks(
            message.subject, message.sent_at, clicks, message.open_url, message.preferences_url
        )


def sign_links(
    settings: Settings,
    *,
    campaign: str,
    recipient: str,
    urls: Sequence[str],
    sent_at: float | None = None,
) -> SignedLinks:
    """Click, open and preferences URLs for one email to one recipient (absolute, on
    `settings.site.public_url`). Raises `gateway.errors.Unprocessable` for an unsafe target."""
    signer = EmailSigner.from_settings(settings)
    return signer.sign(campaign=campaign, recipient=recipient, urls=urls, sent_at=sent_at)
