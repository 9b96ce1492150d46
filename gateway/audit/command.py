"""`consent-gateway audit URL`: crawl, judge, report; exit 1 on any violation.

consent-gateway audit https://www.example.com --pages 3 --out audit/
consent-gateway audit https://www.example.com --state none --state reject --rules tag_rules/
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import ConfigError
from gateway.settings import Settings

EXIT_VIOLATIONS = 1


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
    audit.add_argument("--browser", metavar="PATH",
                       help="Chromium to run (or $CONSENT_AUDIT_BROWSER; default: Debian's)")  # fmt: skip
    audit.add_argument("--browser-arg", action="append", default=[], metavar="ARG",
                       help="extra Chromium switch, e.g. --browser-arg=--proxy-server=…")  # fmt: skip
    audit.set_defaults(run=lambda arguments: run_audit(arguments, settings(arguments)))


def run_audit(arguments: argparse.Namespace, settings: Settings) -> int:
    from gateway.audit.browser import find_chromium
    from gateway.audit.config import load_audit_config
    from gateway.audit.crawl import CrawlOptions, crawl
    from gateway.audit.judge import counts, judge
    from gateway.audit.reports import write_reports
    from gateway.audit.reports.terminal import ProgressBar, summary
    from gateway.audit.states import consent_state, consent_states

    parts = urlsplit(arguments.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("audit", "URL", f"expected an http(s) URL, got {arguments.url!r}")
    config = load_audit_config(
        arguments.rules or settings.rules,
        settings.categories,
        arguments.declare_cookie,
        home=settings.home_countries,
    )
    states = [consent_state(name, config.categories) for name in dict.fromkeys(arguments.state)]
    states = states or consent_states(config.categories)
    options = CrawlOptions(
        url=arguments.url,
        states=states,
        pages=arguments.pages,
        executable=find_chromium(arguments.browser),
        browser_args=tuple(arguments.browser_arg),
    )
    bar = ProgressBar(len(states) * arguments.pages, sys.stderr)
    try:
        audit = asyncio.run(crawl(options, bar.step, bar.resize))
    finally:
        bar.close()
    config = config.with_banner(audit.banner)
    items = judge(config, audit)
    written = write_reports(arguments.out, audit, config, items)
    sys.stderr.write(summary(audit, items, written))
    return EXIT_VIOLATIONS if counts(items)["violation"] else 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return value
