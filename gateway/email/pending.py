"""Opens and clicks waiting to settle, in fixed-layout windows (for `gateway.email.recorder`).

The recorder opens one window per flush period. An event is two machine numbers appended to
the window's arrays: its time, and a packed reference — which message (an index into the
window's table of distinct messages: campaign, subject, send time), which link, open or
click, and its first verdict. However often a message is opened or clicked in a window, it is
kept there once. So an event costs 16 bytes and no object of its own, and a window's memory is
fixed by how many events it holds, which the recorder caps (`max_pending`).

    >>> window = EventWindow(100.0)
    >>> window.add(("spring", "esp-1", 50), 100.5, 2, CLICK | MACHINE)
    >>> window.add(("spring", "esp-1", 50), 100.7, 0, HUMAN)
    >>> [(message[1], at, link, KINDS[code >> 2], VERDICTS[code & 3])
    ...  for message, at, link, code in window.events()]
    [('esp-1', 100.5, 2, 'click', 'machine'), ('esp-1', 100.7, 0, 'open', 'human')]
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, get_args

from gateway.email.verdicts import MessageKey, first_verdict
from gateway.model.email_events import EventKind, Verdict
from gateway.model.visitors import AgentRole

KINDS: Final[tuple[EventKind, EventKind]] = ("open", "click")
VERDICTS: Final[tuple[Verdict, Verdict, Verdict]] = ("human", "proxied", "machine")
OPEN, CLICK = 0, 4  # the kind bit of an event's code
HUMAN, PROXIED, MACHINE = 0, 1, 2  # its verdict, in the two low bits
CODES: Final[dict[Verdict, int]] = {"human": HUMAN, "proxied": PROXIED, "machine": MACHINE}
SAME_MESSAGES: Final = 100_000  # distinct messages whose one copy the windows share
MAX_LINK: Final = 2**31 - 1  # a link number fits in the reference's top bits
_INDEX_MASK, _LINK_SHIFT = 2**29 - 1, 32  # a window's message index; where the link starts


@dataclass(frozen=True, slots=True)
class FirstCodes:
    """An event's code (kind and first verdict) by who is asking, read from `first_verdict`
    for every role once, so the request path only looks it up."""

    open: dict[AgentRole, int]
    click: dict[AgentRole, int]
    early_click: dict[AgentRole, int]  # within `min_click_seconds` of sending

    @classmethod
    def build(cls) -> FirstCodes:
        def codes(kind: EventKind, early: bool) -> dict[AgentRole, int]:
            # `early`: sent 0 s before, with a 1 s minimum; else sent 1 s before, none
            after, least = (0.0, 1.0) if early else (1.0, 0.0)
            return {
                role: (CLICK if kind == "click" else OPEN)
                | CODES[
                    first_verdict(kind, role, seconds_after_send=after, min_click_seconds=least)
                ]
                for role in get_args(AgentRole)
            }

        return cls(codes("open", False), codes("click", False), codes("click", True))


FIRST_CODES: Final = FirstCodes.build()


class EventWindow:
    """The events of one flush period, as arrays: `times[i]` and `refs[i]` for event `i`."""

    __slots__ = ("_clicks", "closed_at", "keys", "messages", "opened_at", "refs", "same", "times")

    def __init__(self, opened_at: float, same: dict[MessageKey, MessageKey] | None = None) -> None:
        self.opened_at = opened_at
        self.same = {} if same is None else same  # see `add`
        self.closed_at = opened_at
        self.messages: dict[MessageKey, int] = {}
        self.keys: list[MessageKey | None] = []  # None: forgotten (the subject was erased)
        self.times = array("d")
        self.refs = array("q")
        self._clicks: _ClickIndex | None = None

    def add(self, message: MessageKey, at: float, link: int, code: int) -> None:
        """Append one event (`code`: OPEN or CLICK | its first verdict)."""
        index = self.messages.get(message)
        if index is None:
            # Each request reads its own copy of the message's strings from its token: the
            # windows keep one copy between them (`same`, shared by the recorder's windows and
            # emptied when it outgrows `SAME_MESSAGES`), not one each.
            same = self.same
            message = same.setdefault(message, message)
            if len(same) > SAME_MESSAGES:
                same.clear()
            index = self.messages[message] = len(self.keys)
            self.keys.append(message)
        self.times.append(at)
        self.refs.append(min(link, MAX_LINK) << _LINK_SHIFT | index << 3 | code)

    def __len__(self) -> int:
        return len(self.times)

    def close(self, at: float) -> None:
        self.closed_at = at

    def events(self) -> Iterator[tuple[MessageKey, float, int, int]]:
        """(message, time, link, code) of every event whose subject was not forgotten."""
        keys = self.keys
        for at, ref in zip(self.times, self.refs, strict=True):
            message = keys[(ref >> 3) & _INDEX_MASK]
            if message is not None:
                yield message, at, ref >> _LINK_SHIFT, ref & 7

    def clicks_of(self, message: MessageKey) -> list[tuple[float, int]]:
        """The clicks (time, link) of `message` in this window (once it is closed)."""
        index = self.messages.get(message)
        if index is None:
            return []
        return self._index().clicks_of(index)

    def clicks(self) -> Iterator[tuple[MessageKey, list[tuple[float, int]]]]:
        """Each message clicked in this window, with its clicks (once it is closed)."""
        found = self._index()
        for index, message in enumerate(self.keys):
            if message is not None and found.has_clicks(index):
                yield message, found.clicks_of(index)

    def _index(self) -> _ClickIndex:
        if self._clicks is None:
            self._clicks = _ClickIndex(len(self.keys), self.times, self.refs)
        return self._clicks

    def subjects(self) -> set[str]:
        return {message[1] for message in self.keys if message is not None}

    def forget_subject(self, subject: str) -> None:
        """Nothing of `subject` is settled, shared or counted from this window any more."""
        for index, message in enumerate(self.keys):
            if message is not None and message[1] == subject:
                self.keys[index] = None
                del self.messages[message]


class _ClickIndex:
    """A closed window's clicks grouped by message, in arrays (a counting sort of its events):
    message `i`'s clicks are at `starts[i]` up to `starts[i + 1]` of `times` and `links`. The
    burst and honeypot checks read it while the window is kept; no object per click."""

    __slots__ = ("links", "starts", "times")

    def __init__(self, messages: int, times: array[float], refs: array[int]) -> None:
        starts = array("q", bytes(8 * (messages + 1)))
        for ref in refs:
            if ref & CLICK:
                starts[((ref >> 3) & _INDEX_MASK) + 1] += 1
        for index in range(messages):
            starts[index + 1] += starts[index]
        place = array("q", starts)
        self.times = array("d", bytes(8 * starts[-1]))
        self.links = array("q", bytes(8 * starts[-1]))
        for at, ref in zip(times, refs, strict=True):
            if ref & CLICK:
                index = (ref >> 3) & _INDEX_MASK
                spot = place[index]
                self.times[spot], self.links[spot] = at, ref >> _LINK_SHIFT
                place[index] = spot + 1
        self.starts = starts

    def has_clicks(self, index: int) -> bool:
        return self.starts[index + 1] > self.starts[index]

    def clicks_of(self, index: int) -> list[tuple[float, int]]:
        start, end = self.starts[index], self.starts[index + 1]
        return list(zip(self.times[start:end], self.links[start:end], strict=True))
