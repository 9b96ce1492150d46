"""Rewriting one email for every recipient in a CSV file, with progress on stderr.

The CSV needs a header with one of the columns `recipient`, `email`, `subject` or `id` (an ESP
id or an address; addresses are hashed). Each recipient's email is written to
`OUT_DIR/<subject>.html`, and `OUT_DIR/index.csv` maps input rows to files — without addresses
— with each email's `List-Unsubscribe` header value when the caller gives one (RFC 8058).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from gateway.csv_cells import csv_row
from gateway.email.links import EmailSigner
from gateway.email.rewrite import EmailTemplate
from gateway.errors import Unprocessable

RECIPIENT_COLUMNS = ("recipient", "email", "subject", "id")
BAR_WIDTH = 30


def read_recipients(file: TextIO) -> list[str]:
    reader = csv.DictReader(file)
    columns = [name.strip().lower() for name in reader.fieldnames or ()]
    column = next((name for name in RECIPIENT_COLUMNS if name in columns), None)
    if column is None:
        raise Unprocessable(f"the CSV needs a column named one of: {', '.join(RECIPIENT_COLUMNS)}")
    original = (reader.fieldnames or ())[columns.index(column)]
    return [row[original].strip() for row in reader if (row.get(original) or "").strip()]


def rewrite_for_recipients(
    template: EmailTemplate,
    signer: EmailSigner,
    *,
    campaign: str,
    recipients: Iterable[str],
    out_dir: Path,
    sent_at: float | None,
    progress: TextIO,
    list_unsubscribe: Callable[[str], str] | None = None,
) -> int:
    """Write one rewritten email per recipient; returns how many were written."""
    everyone = list(recipients)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "index.csv").open("w", newline="", encoding="utf-8") as index_file:
        head = ["row", "subject", "file"] + (["list_unsubscribe"] if list_unsubscribe else [])
        index_file.write(csv_row(head))
        for row, recipient in enumerate(everyone, start=1):
            try:
                message = signer.message(campaign=campaign, recipient=recipient, sent_at=sent_at)
            except Unprocessable as error:
                raise Unprocessable(f"row {row}: {error.detail}") from None
            name = f"{message.subject}.html"
            (out_dir / name).write_bytes(template.render(message))
            unsubscribe = [list_unsubscribe(message.subject)] if list_unsubscribe else []
            index_file.write(csv_row([row, message.subject, name, *unsubscribe], verbatim={1}))
            _show(progress, row, len(everyone))
    if everyone:
        progress.write("\n")
    return len(everyone)


def _show(progress: TextIO, done: int, total: int) -> None:
    step = max(total // 100, 1)
    if done % step and done != total:
        return
    filled = BAR_WIDTH * done // total
    progress.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} emails")
    progress.flush()
