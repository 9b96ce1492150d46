"""The sections of the settings, one per TOML table, each key declared once (`key(...)`: default,
parser, range, flat name). A component is handed its section, never the whole `Settings`: a
section holds no secret it does not use, and nothing built from one can reach the rest.

    >>> ConsentSection(revision=3).revision
    3
    >>> SiteSection(public_url="https://consent.example.com/x").public_origin
    'https://consent.example.com'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gateway.consent.model import DEFAULT_CATEGORIES, EMAIL_TRACKING
from gateway.logs import LOG_FORMATS
from gateway.rules.transfers import DEFAULT_HOME_REGION, home_region
from gateway.settings import values as v
from gateway.settings.keys import key
from gateway.store_url import url_parts

MAX_CONSENT_DAYS = 395


@dataclass(frozen=True, slots=True)
class SiteSection:
    """The gateway itself: where it runs, its keys and its data folder."""

    env: Literal["development", "production"] = key(
        "development", v.choice("development", "production")
    )
    secret_keys: tuple[str, ...] = key((), v.text_list, secret=True)
    public_url: str = key("http://127.0.0.1:8000", v.text)
    data_dir: Path = key(Path("var"), v.path)
    log_level: Literal["debug", "info", "warning", "error"] = key(
        "info", v.choice("debug", "info", "warning", "error")
    )
    log_format: Literal["auto", "json", "text"] = key("auto", v.choice(*LOG_FORMATS))
    demo: bool = key(False, v.boolean)
    allow_insecure_upstreams: bool = key(False, v.boolean)
    # Worked out once from `public_url`, not on every request.
    public_origin: str = field(init=False, repr=False, compare=False)
    cookie_secure: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = url_parts(self.public_url)  # None: refused by the checks on load
        origin = f"{parts.scheme}://{parts.netloc}" if parts else ""
        object.__setattr__(self, "public_origin", origin)
        object.__setattr__(self, "cookie_secure", parts is not None and parts.scheme == "https")

    @property
    def spool_path(self) -> Path:
        return self.data_dir / "receipts.spool"


@dataclass(frozen=True, slots=True)
class RulesSection:
    """Which vendor rules the site uses, and where its data protection law applies."""

    folder: Path = key(Path("tag_rules"), v.path, flat="rules")
    vendors: tuple[str, ...] = key((), v.text_list)  # none: necessary cookies only
    # "EEA", "EU" or ISO countries ("RU"), comma-separated: a vendor processing data
    # elsewhere must name a transfer safeguard.
    home_region: str = key(DEFAULT_HOME_REGION, v.text)

    @property
    def home_countries(self) -> frozenset[str]:
        """The countries of `home_region` (checked at load; `home_region` caches)."""
        return home_region(self.home_region)


@dataclass(frozen=True, slots=True)
class StoreSection:
    """Where consent, receipts and counts live."""

    url: str = key("sqlite:///var/gateway.sqlite3", v.text, flat="store")
    timeout_seconds: float = key(2.0, v.number, flat="store_timeout_seconds", low=0.05, high=60)
    # A loop every 0 (or -5) seconds spins a core: each interval has a floor.
    spool_replay_seconds: float = key(5.0, v.number, low=0.1, high=3600)


@dataclass(frozen=True, slots=True)
class ConsentSection:
    """What a receipt cites and what may be chosen or objected to: the consent policy."""

    revision: int = key(1, v.integer, flat="policy_revision", low=1)
    url: str = key("", v.policy_urls, flat="policy_url")  # the fallback of `urls`
    urls: v.PolicyUrls = ()  # language → URL, from a `[policy_url]` table (not a key itself)
    categories: tuple[str, ...] = key(DEFAULT_CATEGORIES, v.text_list)
    email_category: str = key(EMAIL_TRACKING, v.text)
    consent_days: int = key(180, v.integer, low=1, high=MAX_CONSENT_DAYS)
    cookie_domain: str | None = key(None, v.optional_text)
    allowed_origins: tuple[str, ...] = key((), v.text_list)
    objection_refresh_seconds: float = key(5.0, v.number, low=0.1, high=300)

    def url_for(self, language: str) -> str:
        """The privacy policy in `language`, else the fallback `url`."""
        return dict(self.urls).get(language) or self.url


@dataclass(frozen=True, slots=True)
class BannerSection:
    """The banner's texts and manners."""

    # ((language, ((key, text), ...)), ...): tuples keep the settings hashable.
    texts: v.TextTables = key((), v.text_tables, flat="banner_texts")
    # After a withdrawal or a narrower choice the banner reloads the page, so that scripts
    # which already ran under the broader consent stop.
    reload: bool = key(True, v.boolean, flat="banner_reload")

    @property
    def text_overrides(self) -> dict[str, dict[str, str]]:
        return {language: dict(texts) for language, texts in self.texts}


@dataclass(frozen=True, slots=True)
class TrackingSection:
    """Hits at the edge (`/t`): how big one may be."""

    hit_max_bytes: int = key(16384, v.integer, low=1024, high=1024 * 1024)  # one queue entry
    hit_request_max_bytes: int = key(262144, v.integer, low=1024, high=64 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class DeliverySection:
    """Hit delivery: `serve` runs a delivery worker unless `forwarder` is false."""

    forwarder: bool = key(True, v.boolean)
    concurrency: int = key(256, v.integer, flat="delivery_concurrency", low=1, high=4096)
    lease_seconds: float = key(30.0, v.number, flat="delivery_lease_seconds", low=1, high=3600)
    timeout_seconds: float = key(5.0, v.number, flat="delivery_timeout_seconds", low=0.1, high=120)
    max_age_seconds: float = key(  # older hits are dead-lettered
        86400.0, v.number, flat="delivery_max_age_seconds", low=1, high=30 * 86400
    )
    queue_cap: int = key(100_000, v.integer, flat="delivery_queue_cap", low=1, high=100_000_000)
    queue_cap_bytes: int = key(
        256 * 1024 * 1024,
        v.integer,
        flat="delivery_queue_cap_bytes",
        low=1024**2,
        high=64 * 1024**3,
    )
    # Of the cap anonymous pings may fill; the rest waits for consented hits.
    anonymous_share: float = key(0.8, v.number, flat="delivery_anonymous_share", low=0, high=1)
    # Of the cap one client network may hold, once half full.
    client_share: float = key(0.05, v.number, flat="delivery_client_share", low=0.0001, high=1)
    shards: int = key(1, v.integer, flat="delivery_shards", low=1, high=64)  # streams per vendor


@dataclass(frozen=True, slots=True)
class EmailSection:
    """Email links, opens and clicks, and recipients' consent."""

    target_hosts: tuple[str, ...] = key((), v.lower_list, flat="email_target_hosts")
    # Count opens and clicks per campaign without consent (anonymous).
    aggregates: bool = key(True, v.boolean, flat="email_aggregates")
    consent_cache_seconds: float = key(
        5.0, v.number, flat="email_consent_cache_seconds", low=0, high=3600
    )
    min_click_seconds: float = key(10.0, v.number, flat="email_min_click_seconds", low=0, high=3600)


@dataclass(frozen=True, slots=True)
class FormsSection:
    """Form consent: the double opt-in mail goes over SMTP or to the site's mailer."""

    smtp_url: str = key("", v.text, secret=True)  # may hold a password
    mail_from: str = key("", v.text)
    opt_in_webhook: str = key("", v.text, secret=True)
    opt_in_templates: Path | None = key(None, v.optional_path)
    opt_in_per_address_per_day: int = key(3, v.integer, low=1, high=1000)
    opt_in_per_client_per_hour: int = key(20, v.integer, low=1, high=1000)


@dataclass(frozen=True, slots=True)
class AdminSection:
    """Who may read the admin API, the dashboard and `/metrics`."""

    token_hashes: tuple[str, ...] = key((), v.text_list, flat="admin_token_hashes", secret=True)
    metrics_token_hashes: tuple[str, ...] = key((), v.text_list, secret=True)
    session_minutes: int = key(480, v.integer, flat="admin_session_minutes", low=5, high=24 * 60)


@dataclass(frozen=True, slots=True)
class NetworkSection:
    """What the gateway may read from a request's network facts."""

    trusted_proxies: tuple[v.Network, ...] = key((), v.networks)
    geo_header: str | None = key(None, v.optional_text)
    opt_out_regions: tuple[str, ...] = key((), v.upper_list)


@dataclass(frozen=True, slots=True)
class RetentionSection:
    """How long receipts and events are kept, and how often the gateway purges."""

    # Beyond 36500 days, store expiries overflow.
    receipt_days: int = key(5 * 365, v.integer, flat="receipt_retention_days", low=1, high=36500)
    event_days: int = key(395, v.integer, flat="event_retention_days", low=1, high=36500)
    purge_interval_seconds: float = key(3600.0, v.number)  # 0: no in-process purge


@dataclass(frozen=True, slots=True)
class ArchiveSection:
    """The PostgreSQL archive beside a Redis store: receipts and email events older than
    `hot_days` move there (`gateway.store.archive`). No URL: no archive."""

    url: str = key("", v.text, flat="archive", secret=True)  # may hold a password
    hot_days: int = key(7, v.integer, low=1, high=3650)


@dataclass(frozen=True, slots=True)
class Settings:
    """The gateway's whole configuration, a frozen set of sections built once: load it with
    `load_settings`; tests build it with `from_keys(**flat_keys)` or from sections."""

    site: SiteSection = field(default_factory=SiteSection)
    rules: RulesSection = field(default_factory=RulesSection)
    store: StoreSection = field(default_factory=StoreSection)
    consent: ConsentSection = field(default_factory=ConsentSection)
    banner: BannerSection = field(default_factory=BannerSection)
    tracking: TrackingSection = field(default_factory=TrackingSection)
    delivery: DeliverySection = field(default_factory=DeliverySection)
    email: EmailSection = field(default_factory=EmailSection)
    forms: FormsSection = field(default_factory=FormsSection)
    admin: AdminSection = field(default_factory=AdminSection)
    network: NetworkSection = field(default_factory=NetworkSection)
    retention: RetentionSection = field(default_factory=RetentionSection)
    archive: ArchiveSection = field(default_factory=ArchiveSection)
