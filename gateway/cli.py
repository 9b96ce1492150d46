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
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gateway.audit.command import add_audit_command
from gateway.cli_rights import add_rights_commands
from gateway.errors import ClientError, ConfigError
from gateway.inputs import parse_moment
from gateway.logs import configure_logging
from gateway.receipts.export import write_receipts
from gateway.settings import CONFIG_VARIABLE, Settings, load_settings
from gateway.signing import generate_secret

EXIT_CONFIG = 2
EXIT_INPUT = 1
EXIT_UNREACHABLE = 3  # check-config: the settings are fine, the store does not answer


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
    receipts.add_argument("--since", type=_moment, help="ISO date or time (inclusive)")
    receipts.add_argument("--until", type=_moment, help="ISO date or time (exclusive)")
    receipts.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    receipts.set_defaults(run=_receipts)
    add_rights_commands(commands, _settings)
    add_audit_command(commands, _audit_settings)

    sign = commands.add_parser(
        "sign-link",
        help="print the click, open and preferences URLs and the List-Unsubscribe headers",
    )
    sign.add_argument("--campaign", required=True)
    sign.add_argument("--recipient", required=True, help="ESP id or email address (hashed)")
    sign.add_argument("--url", required=True, help="the click-through target")
    sign.add_argument("--index", type=int, default=1, help="the link's position in the email")
    sign.add_argument("--sent-at", type=_moment, help="send time (default: now)")
    sign.set_defaults(run=_sign_link, uses_store=False)

    subject_id = commands.add_parser(
        "subject-id", help="print the subject id of an email address (its keyed hash)"
    )
    subject_id.add_argument("address")
    subject_id.set_defaults(run=_subject_id)

    rewrite = commands.add_parser("rewrite-email", help="wrap an HTML email's links for tracking")
    rewrite.add_argument("email", type=Path, metavar="IN.html")
    rewrite.add_argument("--campaign", required=True)
    who = rewrite.add_mutually_exclusive_group(required=True)
    who.add_argument("--recipient", help="ESP id or email address (hashed)")
    who.add_argument("--recipients", type=Path, metavar="CSV", help="one email per CSV row")
    rewrite.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    rewrite.add_argument("--out-dir", type=Path, help="with --recipients: where files go")
    rewrite.add_argument("--sent-at", type=_moment, help="send time (default: now)")
    rewrite.set_defaults(run=_rewrite_email, uses_store=False)
    return parser


def _moment(text: str) -> float:
    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
    configure_logging(settings.site.log_level)
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
    from gateway.delivery.process import run_forwarder

    settings = _settings(arguments)
    configure_logging(settings.site.log_level)
    asyncio.run(run_forwarder(settings))
    return 0


def _check_config(arguments: argparse.Namespace) -> int:
    """Exit 0 when all is well, 2 for a config problem, 3 when only the store does not answer."""
    from gateway.banner.config import banner_config_for
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
    banner_config_for(settings, rules)  # banner text overrides, vendors per category
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


def _sign_link(arguments: argparse.Namespace) -> int:
    from gateway.email.links import EmailSigner

    signer = EmailSigner.from_settings(_settings(arguments))
    try:
        message = signer.message(
            campaign=arguments.campaign, recipient=arguments.recipient, sent_at=arguments.sent_at
        )
        click_url = message.click_url(arguments.url, arguments.index)
    except ClientError as error:
        print(f"consent-gateway: {error.detail}", file=sys.stderr)
        return EXIT_INPUT
    print(click_url, message.open_url, message.preferences_url, sep="\n")
    for name, value in _unsubscribe_headers(arguments)(message.subject).items():
        print(f"{name}: {value}")
    return 0


def _unsubscribe_headers(arguments: argparse.Namespace) -> Callable[[str], dict[str, str]]:
    """The RFC 8058 one-click unsubscribe headers of a newsletter, per subject."""
    from gateway.forms.tokens import FormTokens
    from gateway.signing import development_keys

    settings = _settings(arguments)
    tokens = FormTokens(settings.site.secret_keys or development_keys(settings.site.data_dir))
    return functools.partial(tokens.unsubscribe_headers, settings.site.public_url)


def _subject_id(arguments: argparse.Namespace) -> int:
    from gateway.email.identity import recipient_key, subject_for
    from gateway.signing import development_keys

    settings = _settings(arguments)
    key = recipient_key(settings.site.secret_keys or development_keys(settings.site.data_dir))
    if "@" not in arguments.address:
        print("consent-gateway: expected an email address", file=sys.stderr)
        return EXIT_INPUT
    try:
        print(subject_for(arguments.address, key))
    except ClientError as error:
        print(f"consent-gateway: {error.detail}", file=sys.stderr)
        return EXIT_INPUT
    return 0


def _rewrite_email(arguments: argparse.Namespace) -> int:
    from gateway.email.batch import read_recipients, rewrite_for_recipients
    from gateway.email.links import EmailSigner
    from gateway.email.rewrite import EmailTemplate

    signer = EmailSigner.from_settings(_settings(arguments))
    unsubscribe = _unsubscribe_headers(arguments)
    try:
        template = EmailTemplate.parse(arguments.email.read_bytes(), signer)
        for skipped in template.skipped:
            print(
                f"line {skipped.line}: left {skipped.href} as it is: {skipped.reason}",
                file=sys.stderr,
            )
        if arguments.recipients is not None:
            if arguments.out_dir is None:
                print("consent-gateway: --recipients needs --out-dir", file=sys.stderr)
                return EXIT_INPUT
            with arguments.recipients.open(newline="", encoding="utf-8-sig") as file:
                recipients = read_recipients(file)
            count = rewrite_for_recipients(
                template,
                signer,
                campaign=arguments.campaign,
                recipients=recipients,
                out_dir=arguments.out_dir,
                sent_at=arguments.sent_at,
                progress=sys.stderr,
                list_unsubscribe=lambda subject: unsubscribe(subject)["List-Unsubscribe"],
            )
            print(
                f"{count} email(s) in {arguments.out_dir}, {template.links} link(s) each",
                file=sys.stderr,
            )
            return 0
        message = signer.message(
            campaign=arguments.campaign, recipient=arguments.recipient, sent_at=arguments.sent_at
        )
        rewritten = template.render(message)
    except OSError as error:
        print(f"consent-gateway: {error.filename or ''}: {error.strerror}", file=sys.stderr)
        return EXIT_INPUT
    except ClientError as error:
        print(f"consent-gateway: {error.detail}", file=sys.stderr)
        return EXIT_INPUT
    if arguments.output is None:
        sys.stdout.buffer.write(rewritten)
        sys.stdout.flush()
    else:
        arguments.output.write_bytes(rewritten)
    for name, value in unsubscribe(message.subject).items():
        print(f"{name}: {value}", file=sys.stderr)
    print(f"{template.links} link(s) wrapped for subject {message.subject}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
