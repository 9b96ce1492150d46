"""The windows events wait in: what goes in comes out, a message is kept once per window, an
erased subject is forgotten, and the first-verdict codes agree with `first_verdict`."""

from __future__ import annotations

from typing import get_args

import pytest

from gateway.email.pending import (
    CLICK,
    FIRST_CODES,
    KINDS,
    MAX_LINK,
    SAME_MESSAGES,
    VERDICTS,
    EventWindow,
)
from gateway.email.verdicts import first_verdict
from gateway.model.visitors import AgentRole

ROLES = get_args(AgentRole)


@pytest.mark.parametrize("role", ROLES)
def test_the_codes_are_the_first_verdicts_of_each_role(role: AgentRole) -> None:
    def named(code: int) -> tuple[str, str]:
        return KINDS[code >> 2], VERDICTS[code & 3]

    assert named(FIRST_CODES.open[role]) == (
        "open",
        first_verdict("open", role, seconds_after_send=3600, min_click_seconds=10),
    )
    assert named(FIRST_CODES.click[role]) == (
        "click",
        first_verdict("click", role, seconds_after_send=3600, min_click_seconds=10),
    )
    assert named(FIRST_CODES.early_click[role]) == (
        "click",
        first_verdict("click", role, seconds_after_send=2, min_click_seconds=10),
    )


def test_events_come_out_as_they_went_in_with_each_message_kept_once() -> None:
    window = EventWindow(100.0)
    one, two = ("spring", "esp-1", 50), ("spring", "esp-2", 50)
    added = [
        (one, 100.1, 0, FIRST_CODES.open["mail_client"]),
        (two, 100.2, 3, FIRST_CODES.click["browser"]),
        (one, 100.3, 1, FIRST_CODES.click["link_scanner"]),
        (("spring", "esp-1", 50), 100.4, MAX_LINK, FIRST_CODES.click["browser"]),
    ]
    for event in added:
        window.add(*event)
    assert list(window.events()) == added
    assert len(window) == 4
    assert window.keys == [one, two]  # an equal key is not kept again
    assert window.subjects() == {"esp-1", "esp-2"}
    assert dict(window.clicks()) == {one: [(100.3, 1), (100.4, MAX_LINK)], two: [(100.2, 3)]}
    assert window.clicks_of(one) == [(100.3, 1), (100.4, MAX_LINK)]
    assert window.clicks_of(("spring", "esp-3", 50)) == []
    assert all(code & CLICK for _, _, _, code in list(window.events())[1:])


def test_a_forgotten_subject_leaves_nothing_to_settle_share_or_count() -> None:
    window = EventWindow(100.0)
    window.add(("spring", "esp-1", 50), 100.1, 1, FIRST_CODES.click["browser"])
    window.add(("spring", "esp-2", 50), 100.2, 1, FIRST_CODES.click["browser"])
    assert dict(window.clicks()).keys() == {("spring", "esp-1", 50), ("spring", "esp-2", 50)}
    window.forget_subject("esp-1")
    assert [message[1] for message, *_ in window.events()] == ["esp-2"]
    assert dict(window.clicks()).keys() == {("spring", "esp-2", 50)}
    assert window.clicks_of(("spring", "esp-1", 50)) == []
    assert window.subjects() == {"esp-2"}
    fresh = EventWindow(101.0)  # an event after the erasure goes into a later window
    fresh.add(("spring", "esp-1", 50), 101.3, 2, FIRST_CODES.click["browser"])
    window.forget_subject("esp-1")  # forgetting it twice, or where it is not, is no error
    assert [(m[1], link) for m, _, link, _ in fresh.events()] == [("esp-1", 2)]


def test_many_clicks_of_many_messages_are_grouped_exactly() -> None:
    window = EventWindow(0.0)
    added: dict[tuple[str, str, int], list[tuple[float, int]]] = {}
    for n in range(3000):
        message = ("c", f"esp-{n * 7 % 101}", 1)
        if n % 5 == 0:
            window.add(message, n / 1000, 0, FIRST_CODES.open["mail_client"])
            continue
        window.add(message, n / 1000, n % 9, FIRST_CODES.click["browser"])
        added.setdefault(message, []).append((n / 1000, n % 9))
    assert dict(window.clicks()) == added


def test_windows_keep_one_copy_of_a_message_between_them() -> None:
    first = EventWindow(0.0)
    later = EventWindow(1.0, first.same)
    first.add(("spring", "esp-1", 50), 0.5, 1, FIRST_CODES.click["browser"])
    copy = ("spring", "esp-" + str(1), 50)  # as each request reads it: equal, not the same
    later.add(copy, 1.5, 2, FIRST_CODES.click["browser"])
    assert later.keys[0] is first.keys[0]
    for n in range(SAME_MESSAGES + 1):  # past the bound the shared table starts again
        later.add(("spring", f"esp-{n}", 51), 1.6, 1, FIRST_CODES.click["browser"])
    assert len(later.same) <= SAME_MESSAGES
    assert len(later) == SAME_MESSAGES + 2  # no event is lost for it
