"""A local append-only file that holds receipts while the store is unreachable.

Appends are fsync'd before the visitor gets an answer. Several worker processes share one
spool: an exclusive `flock` on the file guards each append and each step of a replay, but is
never held while the store is written, so a new receipt waits on a replay for at most the time
it takes to read one batch from disk.

Beside the spool, a small state file holds four numbers: a generation (bumped whenever the
spool is emptied or compacted), the replay offset (bytes already written to the store), and
how many receipts were appended and replayed — so `depth()` reads 32 bytes, whatever the size
of the spool. Replay reads and writes one batch at a time (constant memory), moves the offset
after each batch and empties the file once it has caught up; one process replays at a time (a
second lock file), the others skip. Store writes are idempotent, so a replay cut short by a
crash is simply done again from the last offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import struct
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.model.receipts import Receipt

log = logging.getLogger("gateway.spool")

_STATE = struct.Struct("<4Q")  # generation, offset, appended, replayed


@dataclass(slots=True)
class _State:
    generation: int = 0
    offset: int = 0
    appended: int = 0
    replayed: int = 0


class ReceiptSpool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.state_path = path.with_name(path.name + ".state")
        self.replay_lock_path = path.with_name(path.name + ".replay")

    def depth(self) -> int:
        """Receipts waiting in the spool (O(1): read from the state file)."""
        if not self.has_pending():
            return 0
        state = self._read_state_unlocked()
        if state is None:  # a spool from before the state file: counted once, under the lock
            with self._locked() as descriptor:
                state = _State() if descriptor is None else self._state(descriptor)
        return max(state.appended - state.replayed, 0)

    def has_pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    # ------------------------------------------------------------ appending

    async def append(self, receipts: Sequence[Receipt]) -> None:
        lines = "".join(receipt.to_json() + "\n" for receipt in receipts).encode()
        await asyncio.to_thread(self._append, lines, len(receipts))

    def _append(self, lines: bytes, count: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked(create=True) as descriptor:
            assert descriptor is not None
            state = self._state(descriptor)
            size = os.fstat(descriptor).st_size
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                lines = b"\n" + lines  # after a torn line: keep the next receipt whole
            os.write(descriptor, lines)
            os.fsync(descriptor)
            state.appended += count
            self._write_state(state)

    # ------------------------------------------------------------ replaying

    async def replay(
        self, write: Callable[[list[Receipt]], Awaitable[object]], batch: int = 500
    ) -> int:
        """Write every spooled receipt with `write`, `batch` at a time, and empty the spool;
        returns how many were written (0 if another process is replaying).

        If `write` raises, the error propagates and the batch stays spooled.
        """
        replay_lock = await asyncio.to_thread(self._try_replay_lock)
        if replay_lock is None:
            return 0
        total = 0
        try:
            while True:
                taken = await asyncio.to_thread(self._read_batch, batch)
                if taken is None:
                    return total
                generation, end, receipts, lines = taken
                if receipts:
                    await write(receipts)
                    total += len(receipts)
                await asyncio.to_thread(self._advance, generation, end, lines)
        finally:
            os.close(replay_lock)

    def _try_replay_lock(self) -> int | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.replay_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return descriptor

    def _read_batch(self, batch: int) -> tuple[int, int, list[Receipt], int] | None:
        """The next batch after the offset (generation, end offset, receipts, lines consumed),
        or None once the spool is empty (it is emptied here). Only the reading is done under
        the lock; the parsing after it."""
        with self._locked() as descriptor:
            if descriptor is None:
                return None
            state = self._state(descriptor)
            lines: list[bytes] = []
            with os.fdopen(os.dup(descriptor), "rb") as file:
                file.seek(state.offset)
                while len(lines) < batch and (line := file.readline()):
                    lines.append(line)
                end = file.tell()
            if not lines:
                # Caught up: empty the file (appends wait on this lock, so none is lost).
                os.ftruncate(descriptor, 0)
                os.fsync(descriptor)
                self._write_state(_State(generation=state.generation + 1))
                return None
        receipts, torn = [], 0
        for line in lines:
            try:
                receipts.append(Receipt.from_json(line))
            except (ValueError, KeyError, TypeError):
                torn += 1  # a write cut short by a crash: never acknowledged to anyone
        if torn:
            log.warning("spool: skipped %d unreadable line(s)", torn)
        return state.generation, end, receipts, len(lines)

    def _advance(self, generation: int, end: int, lines: int) -> None:
        with self._locked() as descriptor:
            if descriptor is None:
                return
            state = self._state(descriptor)
            if state.generation != generation:
                return  # compacted meanwhile: what is left is replayed (again, harmlessly)
            state.offset, state.replayed = end, state.replayed + lines
            self._write_state(state)

    # ------------------------------------------------------------ erasure

    async def forget_subject(self, subject_id: str) -> int:
        """Remove a subject's receipts from the spool (an erasure); returns how many."""
        return await asyncio.to_thread(self._forget_subject, subject_id)

    def _forget_subject(self, subject_id: str) -> int:
        # Receipt JSON is canonical (`Receipt.to_json`), so this is exactly the subject's field.
        needle = f'"subject_id":{json.dumps(subject_id, ensure_ascii=False)}'.encode()
        with self._locked() as descriptor:
            if descriptor is None:
                return 0
            state = self._state(descriptor)
            removed = kept = 0
            # In place: what is kept is written at or before where it was read.
            with os.fdopen(os.dup(descriptor), "r+b") as file:
                read_at, write_at = state.offset, 0
                while True:
                    file.seek(read_at)
                    line = file.readline()
                    if not line:
                        break
                    read_at = file.tell()
                    if needle in line:
                        removed += 1
                        continue
                    file.seek(write_at)
                    file.write(line)
                    write_at += len(line)
                    kept += 1
                file.truncate(write_at)
                file.flush()
                os.fsync(file.fileno())
            self._write_state(_State(state.generation + 1, 0, kept, 0))
            return removed

    # ------------------------------------------------------------ the lock and the state

    @contextlib.contextmanager
    def _locked(self, create: bool = False) -> Iterator[int | None]:
        flags = os.O_RDWR | (os.O_APPEND | os.O_CREAT if create else 0)
        try:
            descriptor = os.open(self.path, flags, 0o600)
        except FileNotFoundError:
            yield None
            return
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield descriptor
        finally:
            os.close(descriptor)  # closing releases the lock

    def _state(self, descriptor: int) -> _State:
        """The state, under the lock; a spool without one (older, or its state file lost) is
        counted once."""
        state = self._read_state_unlocked()
        if state is not None:
            return state
        with os.fdopen(os.dup(descriptor), "rb") as file:
            file.seek(0)
            lines = sum(1 for _ in file)
        return _State(appended=lines)

    def _read_state_unlocked(self) -> _State | None:
        try:
            with self.state_path.open("rb") as file:
                raw = file.read(_STATE.size)
        except FileNotFoundError:
            return None
        if len(raw) != _STATE.size:
            return None
        return _State(*_STATE.unpack(raw))

    def _write_state(self, state: _State) -> None:
        raw = _STATE.pack(state.generation, state.offset, state.appended, state.replayed)
        descriptor = os.open(self.state_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(descriptor, raw, 0)  # 32 bytes in one write: never read half-written
        finally:
            os.close(descriptor)
