"""The `consent-gateway` command line.

consent-gateway serve --demo          # the gateway and its demo site on 127.0.0.1:8000
consent-gateway forward               # a delivery worker (with `serve --no-forwarder`)
consent-gateway check-config          # validate settings and tag rules, then exit
consent-gateway receipts --since 2026-01-01 --format csv > receipts.csv
consent-gateway export SUBJECT > subject.json; consent-gateway erase SUBJECT --yes
consent-gateway rewrite-email news.html --campaign spring-26 --recipient esp-42 -o out.html
consent-gateway audit https://www.example.com --pages 3   # needs consent-gateway[audit]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.audit.command import add_audit_command
from gateway.cli_email import add_email_commands
from gateway.cli_rights import add_rights_commands
from gateway.cli_shared import EXIT_CONFIG, EXIT_UNREACHABLE, moment
from gateway.errors import ConfigError
from gateway.logs import configure_logging
from gateway.receipts.export import write_receipts
from gateway.settings import CONFIG_VARIABLE, Settings, load_settings
from gateway.signing import generate_secret


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.run(arguments))
    except ConfigError as error:
        print(f"consent-gateway: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consent-gateway", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config", metavar="PATH", help=f"TOML settings file (or ${CONFIG_VARIABLE})"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="also serve the demo site at /demo")
    serve.add_argument(
        "--no-forwarder",
        action="store_true",
        help="only queue hits; deliver them with `consent-gateway forward` processes",
    )
    serve.set_defaults(run=_serve)

    forward = commands.add_parser("forward", help="deliver queued hits to vendors (a worker)")
    forward.set_defaults(run=_forward)

    check = commands.add_parser(
        "check-config", help="validate the settings, tag rules, writable paths and the store"
    )
    check.add_argument(
        "--skip-store", action="store_true", help="do not check that the store answers"
    )
    check.set_defaults(run=_check_config)
    rules = commands.add_parser("check-rules", help="validate the tag rules")
    rules.set_defaults(run=_check_config, skip_store=True, rules_only=True)

    secret = commands.add_parser("gen-secret", help="print a new random secret key")
    secret.set_defaults(run=lambda _: print(generate_secret()) or 0)

    receipts = commands.add_parser("receipts", help="stream receipts to stdout")
    receipts.add_argument("--since", type=moment, help="ISO date or time (inclusive)")
    receipts.add_argument("--until", type=moment, help="ISO date or time (exclusive)")
    receipts.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    receipts.set_defaults(run=_receipts)
    add_rights_commands(commands, _settings)
    add_audit_command(commands, _audit_settings)
    add_email_commands(commands, _settings)

    return parser


def _settings(arguments: argparse.Namespace, **overrides: Any) -> Settings:
    """The settings of a command that uses the data directory (key, store, spool)."""
    from gateway.data_dir import check_one_data_dir

    settings = load_settings(arguments.config, None, **overrides)
    check_one_data_dir(settings, uses_store=getattr(arguments, "uses_store", True))
    return settings


def _audit_settings(arguments: argparse.Namespace) -> Settings:
    return load_settings(arguments.config, None)  # the audit reads no data directory


def _serve(arguments: argparse.Namespace) -> int:
    import uvicorn

    overrides: dict[str, Any] = {"demo": True} if arguments.demo else {}
    if arguments.no_forwarder:
        overrides["forwarder"] = False
    settings = _settings(arguments, **overrides)
    if settings.site.demo and not settings.rules.vendors:
        from gateway.demo import DEMO_VENDORS

        settings = _settings(arguments, **overrides, vendors=DEMO_VENDORS)
        os.environ["GATEWAY_VENDORS"] = ",".join(DEMO_VENDORS)
    configure_logging(settings.site.log_level, settings.site.log_format)
    from gateway.preflight import check_writable_paths
    from gateway.rules.placeholders import placeholder_warnings
    from gateway.runtime import Gateway
    from gateway.startup import startup_notice

    # Fail here, with one line, before any worker starts (a store that is down is no reason
    # not to start: receipts spool until it answers).
    check_writable_paths(settings)
    gateway = Gateway.build(settings)  # an unknown vendor id stops here, with one line
    scripts = [f"/t/{r.id}{s.path}" for r in gateway.rules.values() for s in r.scripts]
    placeholders = placeholder_warnings(settings.rules.folder, gateway.rules.values())
    print(startup_notice(settings, settings.rules.vendors, scripts, placeholders), flush=True)
    # Workers rebuild the same settings from the environment.
    if arguments.config:
        os.environ[CONFIG_VARIABLE] = str(Path(arguments.config).resolve())
    if arguments.demo:
        os.environ["GATEWAY_DEMO"] = "true"
    if arguments.no_forwarder:
        os.environ["GATEWAY_FORWARDER"] = "false"
    if arguments.workers > 1:
        _count_metrics_across_workers(settings.site.data_dir / "prometheus")
    uvicorn.run(
        "gateway.app:app_from_environment",
        factory=True,
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        access_log=False,  # access logs would hold IP addresses: personal data
        log_config=None,
        proxy_headers=False,  # the gateway applies GATEWAY_TRUSTED_PROXIES itself
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    return 0


def _count_metrics_across_workers(directory: Path) -> None:
    """prometheus-client's multiprocess mode: every worker counts into files in `directory`
    (emptied first: counts of an earlier run must not come back), a scrape sums them all."""
    from gateway.metrics import MULTIPROCESS_VARIABLE

    directory = Path(os.environ.get(MULTIPROCESS_VARIABLE) or directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_VARIABLE] = str(directory.resolve())


def _forward(arguments: argparse.Namespace) -> int:
    from gateway.delivery.process import run_delivery_process

    settings = _settings(arguments)
    configure_logging(settings.site.log_level, settings.site.log_format)
    asyncio.run(run_delivery_process(settings))
    return 0


def _check_config(arguments: argparse.Namespace) -> int:
    """Exit 0 when all is well, 2 for a config problem, 3 when only the store does not answer."""
    from gateway.configured_banner import configured_banner
    from gateway.preflight import check_writable_paths, store_problem
    from gateway.rules.loader import load_rules
    from gateway.rules.placeholders import placeholder_warnings
    from gateway.rules.selection import select_vendors
    from gateway.startup import origin_warning, vendor_line

    settings = load_settings(arguments.config, None)  # reads only: no data-dir guard needed
    catalogue = load_rules(
        settings.rules.folder,
        categories=settings.consent.categories,
        allow_insecure_upstreams=settings.site.allow_insecure_upstreams,
        home=settings.rules.home_countries,
    )
    rules = select_vendors(catalogue, settings.rules.vendors)
    configured_banner(settings, rules)  # banner text overrides, vendors per category
    if not getattr(arguments, "rules_only", False):  # `check-rules` writes nothing
        check_writable_paths(settings)
    print(f"ok: settings valid; {len(catalogue)} tag rule(s) in {settings.rules.folder}")
    print(f"vendors: {vendor_line(list(rules))}")
    warning = origin_warning(settings)
    if warning is not None:
        print(f"warning: {warning}")
    for warning in placeholder_warnings(settings.rules.folder, rules.values()):
        print(f"warning: {warning}")
    if arguments.skip_store:
        return 0
    problem = store_problem(settings)
    if problem is not None:
        print(f"consent-gateway: store unreachable: {problem}", file=sys.stderr)
        return EXIT_UNREACHABLE
    print(f"ok: the store answers ({settings.store.url.partition('://')[0]})")
    return 0


def _receipts(arguments: argparse.Namespace) -> int:
    from gateway.store import open_store

    settings = _settings(arguments)

    async def run() -> int:
        store = open_store(settings)
        await store.open()
        try:
            stream = store.receipts.iter_receipts(arguments.since, arguments.until)
            count = await write_receipts(stream, arguments.format, sys.stdout, progress=sys.stderr)
        finally:
            await store.close()
        print(f"{count} receipt(s)", file=sys.stderr)
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
