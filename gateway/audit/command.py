"""`consent-gateway audit URL`: crawl, judge, report; exit 1 on any violation.

consent-gateway audit https://www.example.com --pages 3 --out audit/
consent-gateway audit https://www.example.com --state none --state reject --rules tag_rules/
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import ConfigError
from gateway.settings import Settings

EXIT_VIOLATIONS = 1
EXIT_INCOMPLETE = 2  # as for bad input: the audit could not see what it was asked to judge


def add_audit_command(commands: Any, settings: Callable[[argparse.Namespace], Settings]) -> None:
    audit = commands.add_parser(
        "audit",
        help="judge a site against its consent rules in headless Chromium",
        description="Visit URL once per consent state, choosing through the site's banner, and"
        " report every vendor request or cookie its consent does not cover.",
    )
    audit.add_argument("url", metavar="URL", help="the first page (http or https)")
    audit.add_argument("--pages", type=_positive, default=5, help="pages per state (default 5)")
    audit.add_argument(
        "--state", action="append", default=[], metavar="STATE",
        help="none, reject, a category name, accept or accept-gpc; repeat (default: all)",
    )  # fmt: skip
    audit.add_argument("--out", type=Path, default=Path("consent-audit"), metavar="DIR",
                       help="where the reports go (default ./consent-audit)")  # fmt: skip
    audit.add_argument("--rules", type=Path, metavar="DIR",
                       help="tag rules to judge against (default: the settings' rules folder)")  # fmt: skip
    audit.add_argument(
        "--declare-cookie", action="append", default=[], metavar="NAME",
        help="a strictly necessary cookie of the site itself (one '*' allowed); repeat",
    )  # fmt: skip
    audit.add_argument(
        "--declare-storage", action="append", default=[], metavar="KEY",
        help="a localStorage/sessionStorage key of the site itself (one '*' allowed); repeat",
    )  # fmt: skip
    audit.add_argument("--cookie-database", type=Path, metavar="CSV",
                       help="Open Cookie Database CSV (default: the small one shipped)")  # fmt: skip
    audit.add_argument("--suggest-rules", type=Path, metavar="DIR",
                       help="write a draft tag rule per undeclared platform found")  # fmt: skip
    audit.add_argument("--show-values", action="store_true",
                       help="include cookie and storage values in the reports (secrets!)")  # fmt: skip
    audit.add_argument("--browser", metavar="PATH",
                       help="Chromium to run (or $CONSENT_AUDIT_BROWSER; default: Debian's)")  # fmt: skip
    audit.add_argument("--browser-arg", action="append", default=[], metavar="ARG",
                       help="extra Chromium switch, e.g. --browser-arg=--proxy-server=…")  # fmt: skip
    audit.set_defaults(run=lambda arguments: run_audit(arguments, settings(arguments)))

    database = commands.add_parser(
        "cookie-database",
        help="refresh the Open Cookie Database the audit classifies cookies with",
        description="Download the Open Cookie Database CSV (needs internet) for"
        " `audit --cookie-database`.",
    )
    actions = database.add_subparsers(required=True, metavar="ACTION")
    refresh = actions.add_parser("refresh", help="download it, check it parses, replace TO")
    refresh.add_argument("--to", type=Path, required=True, metavar="CSV", help="where to keep it")
    refresh.add_argument("--url", metavar="URL", help="another copy of it (default: GitHub)")
    refresh.set_defaults(run=run_refresh)


def run_refresh(arguments: argparse.Namespace) -> int:
    from gateway.audit.cookie_database import OPEN_COOKIE_DATABASE_URL, refresh_database

    url = arguments.url or OPEN_COOKIE_DATABASE_URL
    database = refresh_database(arguments.to, url)
    print(f"{arguments.to}: {len(database)} entries from {url}")
    return 0


def run_audit(arguments: argparse.Namespace, settings: Settings) -> int:
    """Check every input, then crawl, judge and report; the exit code a CI job acts on.

    0: every page of every state loaded and nothing broke a rule; 1: violations; 2: bad input
    (before any browser starts) or a page that could not be loaded (after the reports).
    """
    from gateway.audit.browser import find_chromium
    from gateway.audit.config import load_audit_config
    from gateway.audit.cookie_database import load_database
    from gateway.audit.crawl import CrawlOptions, crawl
    from gateway.audit.judge import counts, incomplete, judge
    from gateway.audit.knowledge import undeclared
    from gateway.audit.reports import ReportExtras, write_reports
    from gateway.audit.reports.terminal import ProgressBar, summary
    from gateway.audit.scrub import safe_text, scrubbed
    from gateway.audit.states import consent_state, consent_states
    from gateway.audit.suggest import suggest_rules, write_suggestions

    url, credentials = start_url(arguments.url)
    config = load_audit_config(
        arguments.rules or settings.rules.folder,
        settings.consent.categories,
        arguments.declare_cookie,
        arguments.declare_storage,
        settings.rules.vendors,  # the site's chosen vendors; none chosen: every rule in the folder
        home=settings.rules.home_countries,
    )
    states = [consent_state(name, config.categories) for name in dict.fromkeys(arguments.state)]
    states = states or consent_states(config.categories)
    database = load_database(arguments.cookie_database)
    executable = find_chromium(arguments.browser)
    writable_directory(arguments.out, "--out")
    if arguments.suggest_rules:
        writable_directory(arguments.suggest_rules, "--suggest-rules")
    options = CrawlOptions(
        url=url,
        states=states,
        pages=arguments.pages,
        executable=executable,
        browser_args=tuple(arguments.browser_arg),
        credentials=credentials,
        show_values=arguments.show_values,
    )
    bar = ProgressBar(len(states) * arguments.pages, sys.stderr)
    try:
        audit = asyncio.run(crawl(options, bar.step, bar.resize))
    except ConfigError:
        raise
    except Exception as error:  # the browser itself failed: say so in one line, never a trace
        raise ConfigError("audit", "browser", f"the crawl stopped: {_one_line(error)}") from None
    finally:
        bar.close()
    config = config.with_banner(audit.banner)
    items = judge(config, audit, database)
    known = undeclared(items, database)
    drafts = suggest_rules(config, audit, database, settings.consent.categories)
    extras = ReportExtras(safe_text(database.source), known, drafts)
    try:
        written = write_reports(arguments.out, audit, config, items, extras)
        if arguments.suggest_rules:
            written.update(write_suggestions(arguments.suggest_rules, scrubbed(drafts)))
    except OSError as error:
        raise ConfigError("--out", str(arguments.out), f"cannot write: {error.strerror}") from None
    sys.stderr.write(summary(audit, items, written))
    unloaded = incomplete(items)
    if unloaded:
        pages = "; ".join(f"{i.page} ({i.message.partition(': ')[2]})" for i in unloaded)
        print(safe_text(f"consent-gateway: audit incomplete, not loaded: {pages}"), file=sys.stderr)
        return EXIT_INCOMPLETE
    return EXIT_VIOLATIONS if counts(items)["violation"] else 0


def start_url(text: str) -> tuple[str, tuple[str, str] | None]:
    """The URL to crawl (credentials taken out of it) and those credentials; else `ConfigError`.

    >>> start_url("https://ann:pw@staging.example/")
    ('https://staging.example/', ('ann', 'pw'))
    """
    from gateway.audit.scrub import safe_text, without_credentials

    shown = safe_text(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError as error:
        raise ConfigError("audit", "URL", f"{error}: {shown!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("audit", "URL", f"expected an http(s) URL, got {shown!r}")
    if any(ord(c) < 0x21 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise ConfigError(
            "audit",
            "URL",
            f"expected no spaces, control characters or undecodable bytes: {shown!r}",
        )
    return without_credentials(text)


def writable_directory(path: Path, option: str) -> None:
    """Make sure the reports can be written there before crawling; else `ConfigError`."""
    if path.exists() and not path.is_dir():
        raise ConfigError(option, str(path), "expected a directory, found a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ConfigError(option, str(path), f"cannot write there: {error.strerror}") from None


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return value
