"""Settings: read once, at start, from an optional TOML file overridden by `GATEWAY_*` variables.

    >>> settings = load_settings(environ={"GATEWAY_POLICY_REVISION": "3"})
    >>> settings.policy_revision
    3

Every problem (unknown key, wrong type, missing production secret) raises `ConfigError` whose
text is the one line shown to the operator, naming the file or variable and what was expected.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from gateway.consent.model import DEFAULT_CATEGORIES, EMAIL_TRACKING, NECESSARY
from gateway.errors import ConfigError
from gateway.logs import LOG_FORMATS
from gateway.rules.transfers import DEFAULT_HOME_REGION, home_region
from gateway.settings_parts import ConsentPolicy, EmailPart, NetworkPart
from gateway.settings_site import PolicyUrls, anchor_paths, policy_urls, split_policy_urls
from gateway.store_url import store_url_problem, url_parts

ENV_PREFIX = "GATEWAY_"
CONFIG_VARIABLE = "GATEWAY_CONFIG"
MAX_CONSENT_DAYS = 395
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Settings:
    """The gateway's whole configuration. Build it with `load_settings`; tests may build it directly."""

    env: Literal["development", "production"] = "development"
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    store: str = "sqlite:///var/gateway.sqlite3"
    rules: Path = Path("tag_rules")
    data_dir: Path = Path("var")
    policy_revision: int = 1
    policy_url: str = ""
    policy_urls: PolicyUrls = ()  # language → URL, from a `[policy_url]` table
    vendors: tuple[str, ...] = ()  # rule ids this site uses; none: necessary cookies only
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    email_category: str = EMAIL_TRACKING
    email_target_hosts: tuple[str, ...] = ()
    email_aggregates: bool = True
    email_consent_cache_seconds: float = 5.0
    email_min_click_seconds: float = 10.0
    allowed_origins: tuple[str, ...] = ()
    cookie_domain: str | None = None
    consent_days: int = 180
    trusted_proxies: tuple[Network, ...] = ()
    geo_header: str | None = None
    opt_out_regions: tuple[str, ...] = ()
    # Where the operator's data protection law applies: "EEA", "EU" or ISO countries ("RU"),
    # comma-separated. A vendor processing data elsewhere must name a transfer safeguard.
    home_region: str = DEFAULT_HOME_REGION
    admin_token_hashes: tuple[str, ...] = field(default=(), repr=False)
    metrics_token_hashes: tuple[str, ...] = field(default=(), repr=False)
    admin_session_minutes: int = 480
    allow_insecure_upstreams: bool = False
    public_url: str = "http://127.0.0.1:8000"
    receipt_retention_days: int = 5 * 365
    event_retention_days: int = 395
    purge_interval_seconds: float = 3600.0  # 0: no in-process purge (run `consent-gateway purge`)
    objection_refresh_seconds: float = 5.0
    spool_replay_seconds: float = 5.0
    store_timeout_seconds: float = 2.0
    demo: bool = False
    # Hit delivery (issue 16): `serve` runs a delivery worker unless `forwarder` is false.
    forwarder: bool = True
    delivery_concurrency: int = 256  # requests in flight per vendor per worker process
    delivery_lease_seconds: float = 30.0  # a dead worker's hits are taken over after this
    delivery_timeout_seconds: float = 5.0
    delivery_max_age_seconds: float = 86400.0  # older hits are dead-lettered
    delivery_queue_cap: int = 100_000  # hits per vendor queue; the newest are refused beyond
    delivery_queue_cap_bytes: int = 256 * 1024 * 1024  # the same cap, in bytes per vendor
    delivery_anonymous_share: float = 0.8  # of the cap anonymous pings may fill; the rest waits
    # for consented hits
    delivery_client_share: float = 0.05  # of the cap one client network may hold, once half full
    hit_max_bytes: int = 16384  # one shaped hit (URL, body, headers); over it a request is a 413
    hit_request_max_bytes: int = 262144  # all the hits of one request together; over it a 413
    delivery_shards: int = 1  # Redis streams per vendor
    # Banner text overrides per language: ((language, ((key, text), ...)), ...) — kept as tuples
    # so the settings stay hashable; read it as `banner_text_overrides`.
    banner_texts: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # After a withdrawal or a narrower choice the banner reloads the page, so that scripts
    # which already ran under the broader consent stop.
    banner_reload: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "text"] = "auto"  # text on a terminal, JSON elsewhere
    # Form consent (issue 26): the double opt-in mail goes over SMTP or to the site's mailer.
    smtp_url: str = field(default="", repr=False)  # may hold a password
    mail_from: str = ""
    opt_in_webhook: str = field(default="", repr=False)
    opt_in_templates: Path | None = None
    opt_in_per_address_per_day: int = 3
    opt_in_per_client_per_hour: int = 20

    @property
    def home_countries(self) -> frozenset[str]:
        """The countries of `home_region` (checked at load, so this cannot fail)."""
        return home_region(self.home_region)

    @property
    def policy(self) -> ConsentPolicy:
        return ConsentPolicy(
            revision=self.policy_revision,
            url=self.policy_url,
            categories=self.categories,
            email_category=self.email_category,
            consent_days=self.consent_days,
        )

    @property
    def email(self) -> EmailPart:
        return EmailPart(
            category=self.email_category,
            public_url=self.public_url,
            target_hosts=self.email_target_hosts,
            aggregates=self.email_aggregates,
            consent_cache_seconds=self.email_consent_cache_seconds,
            min_click_seconds=self.email_min_click_seconds,
        )

    @property
    def network(self) -> NetworkPart:
        return NetworkPart(
            trusted_proxies=self.trusted_proxies,
            geo_header=self.geo_header,
            opt_out_regions=self.opt_out_regions,
        )

    @property
    def banner_text_overrides(self) -> dict[str, dict[str, str]]:
        return {language: dict(texts) for language, texts in self.banner_texts}

    def policy_url_for(self, language: str) -> str:
        """The privacy policy in `language`, else the fallback `policy_url`."""
        return dict(self.policy_urls).get(language) or self.policy_url

    @property
    def spool_path(self) -> Path:
        return self.data_dir / "receipts.spool"

    @property
    def cookie_secure(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"


# ---------------------------------------------------------------- parsing of one value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise TypeError(f"expected an integer, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise TypeError(f"expected a number, got {value!r}") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    else:
        number = float(value)
    if not math.isfinite(number):
        raise TypeError(f"expected a finite number, got {value!r}")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise TypeError(f"expected true or false, got {value!r}")


def _text_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise TypeError(f"expected a list of strings, got {value!r}")


def _optional_text(value: Any) -> str | None:
    return _text(value).strip() or None


def _networks(value: Any) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in _text_list(value))
    except ValueError as error:
        raise TypeError(f"expected IP addresses or CIDR networks: {error}") from None


def _text_tables(value: Any) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """`{"en": {"title": "…"}}` from a TOML table, or the same as JSON text in the environment."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nesting thousands deep
            raise TypeError("expected a JSON object of languages to texts") from None
    if not isinstance(value, dict) or not all(
        isinstance(texts, dict) and all(isinstance(t, str) for t in texts.values())
        for texts in value.values()
    ):
        raise TypeError("expected a table per language of text keys to strings")
    return tuple(
        (language, tuple(sorted(texts.items()))) for language, texts in sorted(value.items())
    )


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "env": lambda v: _choice_of(v, ("development", "production")),
    "secret_keys": _text_list,
    "store": _text,
    "rules": lambda v: Path(_text(v)),
    "data_dir": lambda v: Path(_text(v)),
    "policy_revision": _integer,
    "policy_url": policy_urls,
    "vendors": _text_list,
    "categories": _text_list,
    "email_category": _text,
    "email_target_hosts": lambda v: tuple(host.lower() for host in _text_list(v)),
    "email_aggregates": _boolean,
    "email_consent_cache_seconds": _number,
    "email_min_click_seconds": _number,
    "allowed_origins": _text_list,
    "cookie_domain": _optional_text,
    "consent_days": _integer,
    "trusted_proxies": _networks,
    "geo_header": _optional_text,
    "opt_out_regions": lambda v: tuple(region.upper() for region in _text_list(v)),
    "home_region": _text,
    "admin_token_hashes": _text_list,
    "metrics_token_hashes": _text_list,
    "admin_session_minutes": _integer,
    "allow_insecure_upstreams": _boolean,
    "public_url": _text,
    "receipt_retention_days": _integer,
    "event_retention_days": _integer,
    "purge_interval_seconds": _number,
    "objection_refresh_seconds": _number,
    "spool_replay_seconds": _number,
    "store_timeout_seconds": _number,
    "demo": _boolean,
    "forwarder": _boolean,
    "delivery_concurrency": _integer,
    "delivery_lease_seconds": _number,
    "delivery_timeout_seconds": _number,
    "delivery_max_age_seconds": _number,
    "delivery_queue_cap": _integer,
    "delivery_queue_cap_bytes": _integer,
    "delivery_anonymous_share": _number,
    "delivery_client_share": _number,
    "hit_max_bytes": _integer,
    "hit_request_max_bytes": _integer,
    "delivery_shards": _integer,
    "banner_texts": _text_tables,
    "banner_reload": _boolean,
    "log_level": lambda v: _choice_of(v, ("debug", "info", "warning", "error")),
    "log_format": lambda v: _choice_of(v, LOG_FORMATS),
    "smtp_url": _text,
    "mail_from": _text,
    "opt_in_webhook": _text,
    "opt_in_templates": lambda v: Path(_text(v)) if _text(v).strip() else None,
    "opt_in_per_address_per_day": _integer,
    "opt_in_per_client_per_hour": _integer,
}


def _choice_of(value: Any, options: tuple[str, ...]) -> str:
    text = _text(value).strip().lower()
    if text not in options:
        raise TypeError(f"expected one of {', '.join(options)}, got {value!r}")
    return text


# ---------------------------------------------------------------- the whole object


def load_settings(
    config_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from a TOML file (or `GATEWAY_CONFIG`), then `GATEWAY_*` variables,
    then keyword `overrides` (already typed; used by the CLI for flags like `--demo`)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}  # where each value came from, for the one-line error
    path = config_path or environ.get(CONFIG_VARIABLE)
    if path:
        values.update(_read_file(Path(path)))
        origins.update(dict.fromkeys(values, str(path)))
        values["_from_file"] = tuple(values)
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_VARIABLE:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in _PARSERS:
            raise ConfigError("environment", name, "unknown setting")
        values[key] = _parse(f"environment {name}", key, raw)
        origins[key] = f"environment {name}"
    values.update(overrides)
    split_policy_urls(values)
    anchor_paths(values, Path(path) if path else None)
    settings = Settings(**values)
    _check(settings, origins)
    return settings


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "no such file") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "(file)", "is a directory, expected a TOML file") from None
    except OSError as error:
        raise ConfigError(str(path), "(file)", f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "(syntax)", "expected UTF-8 text") from None
    except RecursionError:
        raise ConfigError(str(path), "(syntax)", "nested too deeply") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), "(syntax)", f"not valid TOML: {error}") from None
    values = {}
    for key, raw in document.items():
        if key not in _PARSERS:
            raise ConfigError(str(path), key, f"unknown setting (known: {', '.join(_PARSERS)})")
        values[key] = _parse(str(path), key, raw)
    return values


def _parse(source: str, key: str, raw: Any) -> Any:
    try:
        return _PARSERS[key](raw)
    except TypeError as error:
        raise ConfigError(source, key, str(error)) from None


def _check(settings: Settings, origins: Mapping[str, str]) -> None:
    def fail(key: str, problem: str) -> None:
        raise ConfigError(origins.get(key, "settings"), key, problem)

    if settings.env == "production" and not settings.secret_keys:
        fail("secret_keys", "GATEWAY_SECRET_KEYS is required when GATEWAY_ENV=production")
    if any(len(key) < 32 for key in settings.secret_keys):
        fail(
            "secret_keys",
            "each key needs at least 32 characters (use `consent-gateway gen-secret`)",
        )
    try:
        home_region(settings.home_region)
    except ValueError as error:
        fail("home_region", str(error))
    if settings.policy_revision < 1:
        fail("policy_revision", f"expected an integer ≥ 1, got {settings.policy_revision}")
    if not 1 <= settings.consent_days <= MAX_CONSENT_DAYS:
        fail("consent_days", f"expected 1 to {MAX_CONSENT_DAYS} days, got {settings.consent_days}")
    if NECESSARY not in settings.categories:
        fail("categories", f"must include {NECESSARY!r}")
    if len(set(settings.categories)) != len(settings.categories):
        fail("categories", "has duplicates")
    parts = url_parts(settings.public_url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        fail("public_url", f"expected an http(s) URL, got {settings.public_url!r}")
    for url in (settings.policy_url, *dict(settings.policy_urls).values()):
        if url and url_parts(url) is None:
            fail("policy_url", f"expected a URL, got {url!r}")
    for origin in settings.allowed_origins:
        parts = url_parts(origin)
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path not in ("", "/")
        ):
            fail(
                "allowed_origins", f"expected origins like https://www.example.com, got {origin!r}"
            )
    for hashes_key in ("admin_token_hashes", "metrics_token_hashes"):
        for digest in getattr(settings, hashes_key):
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
                fail(hashes_key, "expected hex SHA-256 digests (64 characters)")
    if not 5 <= settings.admin_session_minutes <= 24 * 60:
        fail("admin_session_minutes", "expected 5 to 1440 minutes")
    store_problem = store_url_problem(settings.store)
    if store_problem:
        fail("store", store_problem)
    for seconds_key in ("email_consent_cache_seconds", "email_min_click_seconds"):
        if not 0 <= getattr(settings, seconds_key) <= 3600:
            fail(seconds_key, "expected 0 to 3600 seconds")
    for days_key in ("receipt_retention_days", "event_retention_days"):
        if not 1 <= getattr(settings, days_key) <= 36500:  # beyond, store expiries overflow
            fail(days_key, "expected 1 to 36500 days")
    if not (settings.purge_interval_seconds == 0 or 60 <= settings.purge_interval_seconds <= 86400):
        fail("purge_interval_seconds", "expected 0 (off) or 60 to 86400 seconds")
    if not 0.1 <= settings.objection_refresh_seconds <= 300:
        fail("objection_refresh_seconds", "expected 0.1 to 300 seconds")
    # A loop every 0 (or -5) seconds spins a core: each interval has a floor.
    if not 0.1 <= settings.spool_replay_seconds <= 3600:
        fail("spool_replay_seconds", "expected 0.1 to 3600 seconds")
    if not 0.05 <= settings.store_timeout_seconds <= 60:
        fail("store_timeout_seconds", "expected 0.05 to 60 seconds")
    for key, low, high in _DELIVERY_RANGES:
        if not low <= getattr(settings, key) <= high:
            fail(key, f"expected {low:g} to {high:g}")
    _check_opt_in(settings, fail)


def _check_opt_in(settings: Settings, fail: Callable[[str, str], None]) -> None:
    smtp = url_parts(settings.smtp_url) if settings.smtp_url else None
    if settings.smtp_url and (
        smtp is None or smtp.scheme not in ("smtp", "smtps") or not smtp.hostname
    ):
        fail("smtp_url", "expected smtp://user:password@host:587 (STARTTLS) or smtps://…:465")
    if settings.smtp_url and "@" not in settings.mail_from:
        fail(
            "mail_from", "expected the sender address of confirmation mails (with GATEWAY_SMTP_URL)"
        )
    if settings.smtp_url and settings.opt_in_webhook:
        fail("opt_in_webhook", "set GATEWAY_SMTP_URL or GATEWAY_OPT_IN_WEBHOOK, not both")
    hook = url_parts(settings.opt_in_webhook) if settings.opt_in_webhook else None
    schemes = ("https", "http") if settings.allow_insecure_upstreams else ("https",)
    if settings.opt_in_webhook and (
        hook is None or hook.scheme not in schemes or not hook.hostname
    ):
        fail("opt_in_webhook", "expected an https:// URL of the site's mailer")
    if settings.opt_in_templates is not None and not settings.opt_in_templates.is_dir():
        fail("opt_in_templates", f"expected a folder of templates, got {settings.opt_in_templates}")
    for key in ("opt_in_per_address_per_day", "opt_in_per_client_per_hour"):
        if not 1 <= getattr(settings, key) <= 1000:
            fail(key, "expected 1 to 1000 mails")


_DELIVERY_RANGES = (
    ("delivery_concurrency", 1, 4096),
    ("delivery_lease_seconds", 1, 3600),
    ("delivery_timeout_seconds", 0.1, 120),
    ("delivery_max_age_seconds", 1, 30 * 86400),
    ("delivery_queue_cap", 1, 100_000_000),
    ("delivery_queue_cap_bytes", 1024 * 1024, 64 * 1024**3),
    ("delivery_anonymous_share", 0, 1),
    ("delivery_client_share", 0.0001, 1),
    ("hit_max_bytes", 1024, 1024 * 1024),
    ("hit_request_max_bytes", 1024, 64 * 1024 * 1024),
    ("delivery_shards", 1, 64),
)
