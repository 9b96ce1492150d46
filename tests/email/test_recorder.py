"""Opens and clicks, settled in batches against a real store, with the clock under control."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import pytest

from gateway.counting.counters import EventCounter
from gateway.email.recipients import Collection, RecipientConsents
from gateway.email.recorder import SETTLE_SECONDS, SHARE_CHUNK, EmailRecorder
from gateway.email.tokens import ClickToken, OpenToken
from gateway.errors import StoreUnavailable
from gateway.model.days import day_of
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.settings import Settings
from gateway.store import Store
from tests.clocks import FixedClock

SETTLE_SECONDS_WHOLE = ceil(SETTLE_SECONDS)


@dataclass
class Parts:
    store: Store
    clock: FixedClock
    consents: RecipientConsents
    counter: EventCounter
    recorder: EmailRecorder
    sent: int  # when the campaign was sent: an hour before the clock starts

    @property
    def day(self) -> str:
        return day_of(self.clock.now)

    def click(self, link: int, subject: str = "esp-1", sent: int | None = None) -> ClickToken:
        return ClickToken("spring-26", subject, link, f"https://x.test/{link}", sent or self.sent)

    def opened(self, subject: str = "esp-1") -> OpenToken:
        return OpenToken("spring-26", subject, self.sent)

    async def grant(self, subject: str, grant: bool = True) -> None:
        await self.consents.choose(subject, grant=grant, collection=Collection(action="api"))

    async def settle(self) -> None:
        await self.recorder.flush(settle=False)
        await self.counter.flush()

    async def counts(self, metric: str) -> dict[str, int]:
        found = await self.store.counts.counts(metric, self.day, self.day)
        return {key.label: value for key, value in found.items()}


@pytest.fixture
async def parts(
    store: Store, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[Parts]:
    settings = make_settings(email_consent_cache_seconds=5.0)
    writer = ReceiptWriter(store, ReceiptSpool(tmp_path / "spool"), 60)
    await writer.start()
    # The stores keep events by the real clock (retention), so the test's time starts at the
    # real now and then moves only when a test moves it: it never crosses midnight by itself.
    sent = int(time.time()) - 3600
    clock = FixedClock(sent + 3600.0)
    counter = EventCounter(store.counts, clock=clock)
    consents = RecipientConsents(store, writer, settings.consent, settings.email, clock=clock)
    recorder = EmailRecorder(
        store,
        counter,
        consents,
        aggregates_without_consent=True,
        min_click_seconds=10,
        clock=clock,
    )
    yield Parts(store, clock, consents, counter, recorder, sent)
    await writer.close()


async def test_events_are_stored_per_recipient_only_with_consent(parts: Parts) -> None:
    await parts.grant("esp-yes")
    await parts.grant("esp-no", grant=False)
    for subject in ("esp-yes", "esp-no", "esp-unknown"):
        parts.recorder.opened(parts.opened(subject), "mail_client")
        parts.clock.now += 30
        parts.recorder.clicked(parts.click(1, subject), "browser")
    await parts.settle()
    events = await parts.store.email.email_events("esp-yes")
    assert [(e.kind, e.link, e.verdict, e.campaign) for e in events] == [
        ("open", 0, "human", "spring-26"),
        ("click", 1, "human", "spring-26"),
    ]
    assert events[0].sent_at == parts.sent
    assert await parts.store.email.email_events("esp-no") == []
    assert await parts.store.email.email_events("esp-unknown") == []
    # everyone is in the per-campaign aggregates
    assert await parts.counts("email_open") == {"spring-26|human": 3}
    assert await parts.counts("email_click") == {"spring-26|1|human": 3}


async def test_an_event_from_before_the_grant_is_not_kept_even_if_it_settles_after(
    parts: Parts,
) -> None:
    parts.recorder.opened(parts.opened(), "mail_client")  # the email shown before they agreed
    parts.clock.now += 20
    await parts.grant("esp-1")  # on the preferences page, before the open has settled
    parts.clock.now += 20
    parts.recorder.opened(parts.opened(), "mail_client")
    await parts.settle()
    events = await parts.store.email.email_events("esp-1")
    assert [e.created_at for e in events] == [parts.clock.now]
    assert await parts.counts("email_open") == {"spring-26|human": 2}


async def test_aggregates_without_consent_can_be_turned_off(parts: Parts) -> None:
    parts.recorder.aggregates_without_consent = False
    await parts.grant("esp-yes")
    parts.recorder.opened(parts.opened("esp-yes"), "image_proxy")
    parts.recorder.opened(parts.opened("esp-no"), "image_proxy")
    await parts.settle()
    assert await parts.counts("email_open") == {"spring-26|proxied": 1}


async def test_events_wait_for_their_neighbours_before_they_settle(parts: Parts) -> None:
    parts.recorder.clicked(parts.click(1), "browser")
    assert await parts.recorder.flush() == 0
    parts.clock.now += SETTLE_SECONDS
    assert await parts.recorder.flush() == 1


async def test_a_burst_of_links_turns_every_click_in_it_to_machine(parts: Parts) -> None:
    await parts.grant("esp-1")
    for link in (1, 2, 3):
        parts.recorder.clicked(parts.click(link), "browser")  # a scanner with a browser's agent
        parts.clock.now += 0.2
    parts.clock.now += 120
    parts.recorder.clicked(parts.click(2), "browser")  # the person, two minutes later
    await parts.settle()
    verdicts = [(e.link, e.verdict) for e in await parts.store.email.email_events("esp-1")]
    assert verdicts == [(1, "machine"), (2, "machine"), (3, "machine"), (2, "human")]
    assert await parts.counts("email_click") == {
        "spring-26|1|machine": 1,
        "spring-26|2|machine": 1,
        "spring-26|3|machine": 1,
        "spring-26|2|human": 1,
    }


async def test_a_honeypot_click_discounts_the_clicks_before_and_after_it(parts: Parts) -> None:
    await parts.grant("esp-1")
    parts.recorder.clicked(parts.click(1), "browser")
    parts.clock.now += 3
    parts.recorder.clicked(parts.click(0), "browser")  # nobody sees this link
    parts.clock.now += 3
    parts.recorder.clicked(parts.click(2), "browser")
    await parts.settle()
    verdicts = [(e.link, e.verdict) for e in await parts.store.email.email_events("esp-1")]
    assert verdicts == [(1, "machine"), (0, "machine"), (2, "machine")]


async def test_a_click_right_after_sending_is_a_machine(parts: Parts) -> None:
    await parts.grant("esp-1")
    parts.recorder.clicked(parts.click(1, sent=int(parts.clock.now) - 2), "browser")
    await parts.settle()
    assert [e.verdict for e in await parts.store.email.email_events("esp-1")] == ["machine"]


async def test_a_withdrawal_takes_effect_within_the_cache_time(parts: Parts) -> None:
    await parts.grant("esp-1")
    assert set(await parts.consents.granted_among(["esp-1"])) == {"esp-1"}
    # Withdrawn through another gateway instance: straight into the store.
    other = RecipientConsents(
        parts.store, parts.consents.receipts, parts.consents.policy, parts.consents.email
    )
    await other.choose("esp-1", grant=False, collection=Collection(action="api"))
    parts.recorder.opened(parts.opened(), "mail_client")
    await parts.recorder.flush(settle=False)
    assert len(await parts.store.email.email_events("esp-1")) == 1  # cached: still granted
    parts.clock.now += 5.0
    parts.recorder.opened(parts.opened(), "mail_client")
    await parts.recorder.flush(settle=False)
    assert len(await parts.store.email.email_events("esp-1")) == 1  # the cache expired: no more


async def test_erasure_forgets_what_is_in_memory_too(parts: Parts) -> None:
    await parts.grant("esp-1")
    parts.recorder.opened(parts.opened(), "mail_client")
    await parts.settle()
    parts.recorder.opened(parts.opened(), "mail_client")
    parts.recorder.forget_subject("esp-1")
    parts.clock.now += 1
    erased = await parts.consents.erase("esp-1", parts.clock.now)
    assert erased == {"receipts": 1, "email_events": 1, "email_consent": 1, "objections": 0}
    assert (
        await parts.store.receipts.subject_receipts("esp-1") == []
    )  # erasure takes the receipts too
    parts.clock.now += 1
    await parts.grant("esp-1", grant=False)  # a withdrawal may still come: nothing is kept
    await parts.settle()
    assert await parts.store.email.email_events("esp-1") == []
    assert (await parts.consents.state_of("esp-1")).state == "erased"  # type: ignore[union-attr]
    # Nothing new is recorded under an erased id, not even the receipt of a withdrawal.
    assert await parts.store.receipts.subject_receipts("esp-1") == []


async def test_an_unreachable_store_means_no_per_recipient_events_and_no_loss_of_counts(
    parts: Parts, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    down, recorder = await _recorder_on_a_store_that_is_down(parts, make_settings)
    recorder.opened(parts.opened(), "mail_client")
    assert await recorder.flush(settle=False) == 1  # consent unknown: counted, not stored
    with pytest.raises(StoreUnavailable):
        await down.ping()
    await down.close()
    await parts.counter.flush()
    assert await parts.counts("email_open") == {"spring-26|human": 1}


async def test_memory_is_bounded(parts: Parts) -> None:
    parts.recorder.max_pending = 3
    for _ in range(5):
        parts.recorder.opened(parts.opened(), "mail_client")
    assert parts.recorder.dropped == 2


async def test_bad_tokens_are_counted(parts: Parts) -> None:
    parts.recorder.invalid("open")
    parts.recorder.invalid("click")
    parts.recorder.invalid("click")
    await parts.counter.flush()
    assert await parts.counts("email_invalid") == {"open": 1, "click": 2}


async def test_every_settled_verdict_is_reported_as_the_aggregates_count_it(parts: Parts) -> None:
    seen: list[tuple[str, str]] = []
    parts.recorder.on_verdict = lambda kind, verdict, n: seen.extend([(kind, verdict)] * n)
    await parts.grant("esp-1")
    parts.recorder.opened(parts.opened(), "image_proxy")
    parts.recorder.clicked(parts.click(1), "browser")
    parts.recorder.clicked(parts.click(2), "link_scanner")
    parts.recorder.aggregates_without_consent = False
    parts.recorder.opened(parts.opened("esp-unknown"), "mail_client")  # counted nowhere
    await parts.settle()
    assert sorted(seen) == [("click", "human"), ("click", "machine"), ("open", "proxied")]


async def test_held_events_are_released_once_settled_and_their_neighbours_aged(
    parts: Parts,
) -> None:
    dropped: list[int] = []
    parts.recorder.max_pending = 4
    parts.recorder.on_drop = lambda: dropped.append(1)
    for _ in range(6):
        parts.recorder.opened(parts.opened(), "mail_client")
    assert (parts.recorder.dropped, len(dropped), parts.recorder.held) == (2, 2, 4)
    await parts.recorder.flush()
    parts.clock.now += SETTLE_SECONDS
    assert await parts.recorder.flush() == 4  # settled, still kept as neighbours
    assert parts.recorder.held == 4
    parts.clock.now += 60
    await parts.recorder.flush()
    assert parts.recorder.held == 0  # nothing near enough to need them: memory back
    parts.recorder.opened(parts.opened(), "mail_client")
    assert (parts.recorder.dropped, parts.recorder.held) == (2, 1)
    await parts.counter.flush()
    assert await parts.counts("email_open") == {"spring-26|human": 4}


async def test_clicks_are_judged_with_their_neighbours_in_other_windows_even_without_the_store(
    parts: Parts, make_settings: Callable[..., Settings]
) -> None:
    """The windows a click's neighbours fell in (before, and after) are this process's own
    record of them: a burst or a honeypot split over flushes is caught with the store down."""
    down, recorder = await _recorder_on_a_store_that_is_down(parts, make_settings)
    for link in (1, 2, 3):  # a burst over three windows
        recorder.clicked(parts.click(link, "esp-burst"), "browser")
        await recorder.flush()
        parts.clock.now += 0.3
    recorder.clicked(parts.click(0, "esp-trap"), "browser")  # the honeypot, then 9 s later
    for _ in range(9):
        parts.clock.now += 1
        await recorder.flush()
    recorder.clicked(parts.click(2, "esp-trap"), "browser")
    for _ in range(SETTLE_SECONDS_WHOLE):  # the honeypot's window settles first, and is kept
        parts.clock.now += 1
        await recorder.flush()
    parts.clock.now += 120
    recorder.clicked(parts.click(1, "esp-person"), "browser")
    await recorder.flush(settle=False)
    await down.close()
    await parts.counter.flush()
    assert await parts.counts("email_click") == {
        "spring-26|0|machine": 1,
        "spring-26|1|machine": 1,
        "spring-26|2|machine": 2,
        "spring-26|3|machine": 1,
        "spring-26|1|human": 1,
    }


async def test_a_window_of_many_clicks_is_shared_in_chunks_and_entirely(parts: Parts) -> None:
    for n in range(SHARE_CHUNK + 500):
        parts.recorder.clicked(parts.click(1 + n % 4, f"esp-{n % 50}"), "browser")
        parts.clock.now += 0.0001
    await parts.recorder.flush()
    names = [(f"spring-26|esp-{n}|{parts.sent}", f"esp-{n}") for n in range(50)]
    found = await parts.store.shared.message_clicks(names)
    assert sum(len(clicks) for clicks in found.values()) == SHARE_CHUNK + 500


async def _recorder_on_a_store_that_is_down(
    parts: Parts, make_settings: Callable[..., Settings]
) -> tuple[Store, EmailRecorder]:
    """A recorder whose store answers nothing (nothing listens on port 1)."""
    from gateway.store import open_store

    down = open_store(make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.2))
    await down.open()
    recorder = EmailRecorder(
        down,
        parts.counter,
        RecipientConsents(
            down, parts.consents.receipts, parts.consents.policy, parts.consents.email
        ),
        aggregates_without_consent=True,
        min_click_seconds=10,
        clock=parts.clock,
    )
    return down, recorder
