"""Checks of the built settings that one parser cannot make alone: declared ranges, URLs,
digests, and keys that depend on each other. The first problem raises `ConfigError` naming where
the key was written (file or variable) and the key as written there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

from gateway.consent.model import NECESSARY
from gateway.errors import ConfigError
from gateway.rules.transfers import home_region
from gateway.store_url import store_url_problem, url_parts

if TYPE_CHECKING:
    from gateway.settings.keys import Key
    from gateway.settings.sections import ArchiveSection, FormsSection, Settings

Written = Mapping[str, tuple[str, str]]  # flat name → (source, key as written)


class _Failer:
    def __init__(self, written: Written) -> None:
        self.written = written

    def __call__(self, flat: str, problem: str) -> NoReturn:
        source, name = self.written.get(flat, ("settings", flat))
        raise ConfigError(source, name, problem)


def check(settings: Settings, keys: Mapping[str, Key], written: Written) -> None:
    fail = _Failer(written)
    for flat, declared in keys.items():
        section = getattr(settings, declared.section)
        problem = declared.problem(getattr(section, declared.name))
        if problem:
            fail(flat, problem)
    site, consent = settings.site, settings.consent
    if site.env == "production" and not site.secret_keys:
        fail("secret_keys", "GATEWAY_SECRET_KEYS is required when GATEWAY_ENV=production")
    if any(len(secret) < 32 for secret in site.secret_keys):
        fail(
            "secret_keys",
            "each key needs at least 32 characters (use `consent-gateway gen-secret`)",
        )
    try:
        home_region(settings.rules.home_region)
    except ValueError as error:
        fail("home_region", str(error))
    if NECESSARY not in consent.categories:
        fail("categories", f"must include {NECESSARY!r}")
    if len(set(consent.categories)) != len(consent.categories):
        fail("categories", "has duplicates")
    parts = url_parts(site.public_url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        fail("public_url", f"expected an http(s) URL, got {site.public_url!r}")
    for url in (consent.url, *dict(consent.urls).values()):
        if url and url_parts(url) is None:
            fail("policy_url", f"expected a URL, got {url!r}")
    for origin in consent.allowed_origins:
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
    for flat, digests in (
        ("admin_token_hashes", settings.admin.token_hashes),
        ("metrics_token_hashes", settings.admin.metrics_token_hashes),
    ):
        for digest in digests:
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
                fail(flat, "expected hex SHA-256 digests (64 characters)")
    store_problem = store_url_problem(settings.store.url)
    if store_problem:
        fail("store", store_problem)
    _check_archive(settings.archive, settings.store.url, fail)
    purge = settings.retention.purge_interval_seconds
    if not (purge == 0 or 60 <= purge <= 86400):
        fail("purge_interval_seconds", "expected 0 (off) or 60 to 86400 seconds")
    _check_opt_in(settings.forms, site.allow_insecure_upstreams, fail)


def _check_archive(archive: ArchiveSection, store_url: str, fail: _Failer) -> None:
    if not archive.url:
        return
    parts = url_parts(archive.url)
    if parts is None or parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        fail("archive", "expected postgresql://user:password@host:port/database")
    if not store_url.startswith(("redis://", "rediss://", "redis+")):
        fail("archive", "an archive goes beside a Redis store (GATEWAY_STORE=redis://…)")


def _check_opt_in(forms: FormsSection, insecure: bool, fail: _Failer) -> None:
    smtp = url_parts(forms.smtp_url) if forms.smtp_url else None
    if forms.smtp_url and (
        smtp is None or smtp.scheme not in ("smtp", "smtps") or not smtp.hostname
    ):
        fail("smtp_url", "expected smtp://user:password@host:587 (STARTTLS) or smtps://…:465")
    if forms.smtp_url and "@" not in forms.mail_from:
        fail(
            "mail_from", "expected the sender address of confirmation mails (with GATEWAY_SMTP_URL)"
        )
    if forms.smtp_url and forms.opt_in_webhook:
        fail("opt_in_webhook", "set GATEWAY_SMTP_URL or GATEWAY_OPT_IN_WEBHOOK, not both")
    hook = url_parts(forms.opt_in_webhook) if forms.opt_in_webhook else None
    schemes = ("https", "http") if insecure else ("https",)
    if forms.opt_in_webhook and (hook is None or hook.scheme not in schemes or not hook.hostname):
        fail("opt_in_webhook", "expected an https:// URL of the site's mailer")
    if forms.opt_in_templates is not None and not forms.opt_in_templates.is_dir():
        fail("opt_in_templates", f"expected a folder of templates, got {forms.opt_in_templates}")
