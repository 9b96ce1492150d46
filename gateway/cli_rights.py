"""The command line's rights and retention commands: `export`, `erase`, `purge`.

consent-gateway export SUBJECT > subject.json     # everything held, as JSON
consent-gateway erase SUBJECT --yes              # delete it all; only a tombstone stays
consent-gateway purge                            # delete what outlived its retention

Data goes to stdout, progress and summaries to stderr, so the output can be piped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.cli_shared import refuse
from gateway.errors import ClientError, StoreUnavailable
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.rights import SubjectRights

T = TypeVar("T")
SettingsOf = Callable[[argparse.Namespace], Settings]


def add_rights_commands(commands: Any, settings_of: SettingsOf) -> None:
    """Add the commands to the `consent-gateway` subparsers; `settings_of` reads the settings."""
    export = commands.add_parser("export", help="print everything held about a subject (JSON)")
    export.add_argument("subject", help="a consent id or a recipient id")
    export.set_defaults(run=lambda arguments: _export(arguments, settings_of(arguments)))

    erase = commands.add_parser("erase", help="erase everything held about a subject")
    erase.add_argument("subject", help="a consent id or a recipient id")
    erase.add_argument("--yes", action="store_true", help="yes, erase it: this cannot be undone")
    erase.set_defaults(run=lambda arguments: _erase(arguments, settings_of(arguments)))

    purge = commands.add_parser("purge", help="delete what has outlived its retention period")
    purge.set_defaults(run=lambda arguments: _purge(settings_of(arguments)))


def _with_rights(settings: Settings, work: Callable[[SubjectRights], Awaitable[T]]) -> T:
    """Run `work(rights)` with only the store open: no queue, worker or email service."""
    from gateway.consent_records import subject_rights  # the store's modules load on use

    async def run() -> T:
        async with subject_rights(settings) as rights:
            return await work(rights)

    return asyncio.run(run())


def _export(arguments: argparse.Namespace, settings: Settings) -> int:
    try:
        document = _with_rights(settings, lambda rights: rights.export(arguments.subject))
    except ClientError as error:
        return refuse(error.detail)
    except StoreUnavailable as error:
        return refuse(f"the store is unavailable: {error}")
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def _erase(arguments: argparse.Namespace, settings: Settings) -> int:
    from gateway.inputs import checked_subject

    try:
        subject = checked_subject(arguments.subject)
    except ClientError as error:
        return refuse(error.detail)
    if not arguments.yes:
        return refuse(
            "erase deletes everything held about the subject, receipts included, and cannot be"
            f" undone; to go ahead: consent-gateway erase {subject} --yes"
        )
    try:
        erased = _with_rights(settings, lambda rights: rights.erase(subject))
    except StoreUnavailable as error:
        return refuse(f"the store is unavailable; nothing was erased: {error}")
    print(json.dumps(erased))
    print(f"erased: {_summary(erased)}; only the tombstone stays", file=sys.stderr)
    return 0


def _purge(settings: Settings) -> int:
    from gateway.store import open_store

    def progress(kind: str, removed: int) -> None:
        sys.stderr.write(f"\rpurging {kind.replace('_', ' ')}: {removed}…")
        sys.stderr.flush()

    async def run() -> dict[str, int]:
        store = open_store(settings)
        await store.open()
        try:
            return await store.retention.purge(time.time(), progress)
        finally:
            await store.close()

    try:
        removed = asyncio.run(run())
    except StoreUnavailable as error:
        return refuse(f"the store is unavailable: {error}")
    print(f"\rpurged: {_summary(removed)}", file=sys.stderr)
    return 0


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
