"""The command line's email commands: `sign-link`, `subject-id`, `rewrite-email`.

consent-gateway sign-link --campaign spring-26 --recipient esp-42 --url https://shop.example/
consent-gateway subject-id someone@example.com
consent-gateway rewrite-email news.html --campaign spring-26 --recipient esp-42 -o out.html
consent-gateway rewrite-email news.html --campaign spring-26 --recipients list.csv --out-dir out

None of them opens the store: they sign with the secret keys only.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.cli_shared import moment, refuse
from gateway.errors import ClientError
from gateway.settings import Settings

SettingsOf = Callable[[argparse.Namespace], Settings]


def add_email_commands(commands: Any, settings_of: SettingsOf) -> None:
    """Add the commands to the `consent-gateway` subparsers; `settings_of` reads the settings."""
    sign = commands.add_parser(
        "sign-link",
        help="print the click, open and preferences URLs and the List-Unsubscribe headers",
    )
    sign.add_argument("--campaign", required=True)
    sign.add_argument("--recipient", required=True, help="ESP id or email address (hashed)")
    sign.add_argument("--url", required=True, help="the click-through target")
    sign.add_argument("--index", type=int, default=1, help="the link's position in the email")
    sign.add_argument("--sent-at", type=moment, help="send time (default: now)")
    sign.set_defaults(run=lambda arguments: _sign_link(arguments, settings_of), uses_store=False)

    subject_id = commands.add_parser(
        "subject-id", help="print the subject id of an email address (its keyed hash)"
    )
    subject_id.add_argument("address")
    subject_id.set_defaults(run=lambda arguments: _subject_id(arguments, settings_of))

    rewrite = commands.add_parser("rewrite-email", help="wrap an HTML email's links for tracking")
    rewrite.add_argument("email", type=Path, metavar="IN.html")
    rewrite.add_argument("--campaign", required=True)
    who = rewrite.add_mutually_exclusive_group(required=True)
    who.add_argument("--recipient", help="ESP id or email address (hashed)")
    who.add_argument("--recipients", type=Path, metavar="CSV", help="one email per CSV row")
    rewrite.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    rewrite.add_argument("--out-dir", type=Path, help="with --recipients: where files go")
    rewrite.add_argument("--sent-at", type=moment, help="send time (default: now)")
    rewrite.set_defaults(
        run=lambda arguments: _rewrite_email(arguments, settings_of), uses_store=False
    )


def _sign_link(arguments: argparse.Namespace, settings_of: SettingsOf) -> int:
    from gateway.email.links import EmailSigner

    settings = settings_of(arguments)
    signer = EmailSigner.from_settings(settings)
    try:
        message = signer.message(
            campaign=arguments.campaign, recipient=arguments.recipient, sent_at=arguments.sent_at
        )
        click_url = message.click_url(arguments.url, arguments.index)
    except ClientError as error:
        return refuse(error.detail)
    print(click_url, message.open_url, message.preferences_url, sep="\n")
    for name, value in _unsubscribe_headers(settings)(message.subject).items():
        print(f"{name}: {value}")
    return 0


def _unsubscribe_headers(settings: Settings) -> Callable[[str], dict[str, str]]:
    """The RFC 8058 one-click unsubscribe headers of a newsletter, per subject."""
    from gateway.forms.tokens import FormTokens
    from gateway.signing import development_keys

    tokens = FormTokens(settings.site.secret_keys or development_keys(settings.site.data_dir))
    return functools.partial(tokens.unsubscribe_headers, settings.site.public_url)


def _subject_id(arguments: argparse.Namespace, settings_of: SettingsOf) -> int:
    from gateway.email.identity import recipient_key, subject_for
    from gateway.signing import development_keys

    settings = settings_of(arguments)
    key = recipient_key(settings.site.secret_keys or development_keys(settings.site.data_dir))
    if "@" not in arguments.address:
        return refuse("expected an email address")
    try:
        print(subject_for(arguments.address, key))
    except ClientError as error:
        return refuse(error.detail)
    return 0


def _rewrite_email(arguments: argparse.Namespace, settings_of: SettingsOf) -> int:
    from gateway.email.batch import read_recipients, rewrite_for_recipients
    from gateway.email.links import EmailSigner
    from gateway.email.rewrite import EmailTemplate

    settings = settings_of(arguments)
    signer = EmailSigner.from_settings(settings)
    unsubscribe = _unsubscribe_headers(settings)
    try:
        template = EmailTemplate.parse(arguments.email.read_bytes(), signer)
        for skipped in template.skipped:
            print(
                f"line {skipped.line}: left {skipped.href} as it is: {skipped.reason}",
                file=sys.stderr,
            )
        if arguments.recipients is not None:
            if arguments.out_dir is None:
                return refuse("--recipients needs --out-dir")
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
        return refuse(f"{error.filename or ''}: {error.strerror}")
    except ClientError as error:
        return refuse(error.detail)
    if arguments.output is None:
        sys.stdout.buffer.write(rewritten)
        sys.stdout.flush()
    else:
        arguments.output.write_bytes(rewritten)
    for name, value in unsubscribe(message.subject).items():
        print(f"{name}: {value}", file=sys.stderr)
    print(f"{template.links} link(s) wrapped for subject {message.subject}", file=sys.stderr)
    return 0
