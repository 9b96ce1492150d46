"""What the store is configured by, and nothing more: its own `[store]` section (where, how
long to wait), `[retention]` (how long it keeps what it holds), `[archive]` (the PostgreSQL
archive, if any) and the consent cookie's lifetime (when a signed token has expired).

`open_store` narrows the gateway's settings to this; every backend and facet takes it.

    >>> from gateway.settings import from_keys
    >>> StoreSettings.of(from_keys(consent_days=30, receipt_retention_days=400)).consent_days
    30
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import ArchiveSection, RetentionSection, Settings, StoreSection


@dataclass(frozen=True, slots=True)
class StoreSettings:
    store: StoreSection
    retention: RetentionSection
    archive: ArchiveSection
    consent_days: int

    @classmethod
    def of(cls, settings: Settings) -> StoreSettings:
        return cls(
            settings.store, settings.retention, settings.archive, settings.consent.consent_days
        )
