"""A lane's request slots: how many of its hits may be in flight at once.

    async with lane.slots.reserve(most=64) as reserved:   # waits for one free slot at least
        for entry in await queue.take(..., reserved.count):
            spawn(deliver(entry, reserved.hand_over()))     # each runs `async with slot:`
    # leaving the block gives back the slots not handed over

A slot is given back exactly once, when the `async with` of whoever holds it ends.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Slots:
    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._freed = asyncio.Event()

    def reserve(self, most: int) -> Reservation:
        return Reservation(self, most)

    async def _take(self, most: int) -> int:
        while self.used >= self.size:
            self._freed.clear()
            await self._freed.wait()
        count = min(most, self.size - self.used)
        self.used += count
        return count

    def _give_back(self, count: int) -> None:
        self.used -= count
        self._freed.set()


class Slot:
    """One slot handed to one hit; given back when its `async with` ends."""

    def __init__(self, slots: Slots) -> None:
        self._slots = slots

    async def __aenter__(self) -> Slot:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._slots._give_back(1)


class Reservation:
    def __init__(self, slots: Slots, most: int) -> None:
        self._slots, self._most = slots, most
        self.count = 0  # reserved and not yet handed over

    async def __aenter__(self) -> Reservation:
        self.count = await self._slots._take(self._most)
        return self

    def hand_over(self) -> Slot:
        assert self.count > 0, "more hits than reserved slots"
        self.count -= 1
        return Slot(self._slots)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._slots._give_back(self.count)
        self.count = 0
