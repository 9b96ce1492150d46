"""A local append-only file that holds receipts while the store is unreachable.

Appends are fsync'd before the visitor gets an answer. Replay holds an exclusive `flock` on the
file while it writes the receipts to the store and then empties it, so several worker
processes can share one spool; store writes are idempotent, so a replay cut short by a crash
is simply done again.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from gateway.receipts.model import Receipt

log = logging.getLogger("gateway.spool")


class ReceiptSpool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def depth(self) -> int:
        """Receipts waiting in the spool (lines in the file)."""
        try:
            with self.path.open("rb") as file:
                return sum(1 for _ in file)
        except FileNotFoundError:
            return 0

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    async def append(self, receipts: Sequence[Receipt]) -> None:
        lines = "".join(receipt.to_json() + "\n" for receipt in receipts).encode()
        await asyncio.to_thread(self._append, lines)

    def _append(self, lines: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.write(descriptor, lines)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)  # closing releases the lock

    async def replay(
        self, write: Callable[[list[Receipt]], Awaitable[None]], chunk: int = 500
    ) -> int:
        """Write every spooled receipt with `write`, then empty the spool; returns how many.

        If `write` raises, the spool is left as it was and the error propagates.
        """
        descriptor = await asyncio.to_thread(self._open_locked)
        if descriptor is None:
            return 0
        try:
            receipts = await asyncio.to_thread(self._read, descriptor)
            for start in range(0, len(receipts), chunk):
                await write(receipts[start : start + chunk])
            await asyncio.to_thread(self._empty, descriptor)
            return len(receipts)
        finally:
            os.close(descriptor)

    def _open_locked(self) -> int | None:
        try:
            descriptor = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        return descriptor

    def _read(self, descriptor: int) -> list[Receipt]:
        receipts, torn = [], 0
        with os.fdopen(os.dup(descriptor), "rb") as file:
            file.seek(0)
            for line in file:
                try:
                    receipts.append(Receipt.from_json(line))
                except (ValueError, KeyError, TypeError):
                    torn += 1  # a write cut short by a crash: never acknowledged to anyone
        if torn:
            log.warning("spool: skipped %d unreadable line(s)", torn)
        return receipts

    def _empty(self, descriptor: int) -> None:
        os.ftruncate(descriptor, 0)
        os.fsync(descriptor)
