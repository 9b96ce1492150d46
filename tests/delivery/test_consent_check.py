"""What decides, at delivery, that a queued hit may no longer be sent (a pure table)."""

from __future__ import annotations

import pytest

from gateway.delivery.consent_check import Standing, withheld_reason
from gateway.delivery.queue import QueuedHit
from gateway.rules.model import HitRule, Rule
from gateway.tracking.hits import OutboundHit

GA4 = Rule("ga4", "GA4", "analytics", "https://p.example/", HitRule(mode="forward"))
BOTH = frozenset({"analytics", "marketing"})


def hit(signalled: frozenset[str] = BOTH, *, token_time: float | None = None) -> QueuedHit:
    """Queued at 100; decided with a token chosen at `token_time` (None: an older release's
    entry, which only knows when it was queued)."""
    outbound = OutboundHit("ga4", "GET", "https://v.example/c", ())
    return QueuedHit(outbound, "c1", 100.0, signalled, token_time)


def standing(granted=BOTH, *, at=150.0, refused=(), objected=(), erased=False) -> Standing:
    return Standing(erased, frozenset(objected), at, frozenset(granted), frozenset(refused))


@pytest.mark.parametrize(
    ("later", "queued", "reason"),
    [
        (standing(), hit(), None),
        (standing(erased=True), hit(), "erased"),
        (standing(objected=["analytics"]), hit(), "objected"),
        (standing(objected=["marketing"]), hit(), "objected"),  # it signalled marketing
        (standing(objected=["marketing"]), hit(frozenset({"analytics"})), None),
        (standing({"analytics"}), hit(), "withdrawn"),  # narrower: no more ad_storage
        (standing({"analytics"}), hit(frozenset({"analytics"})), None),
        (standing({"marketing"}), hit(frozenset()), None),  # an anonymous ping identifies nobody
        (standing(refused=["ga4"]), hit(), "vendor_refused"),
        (standing(refused=["meta_pixel"]), hit(), None),
        (standing(frozenset(), at=50.0), hit(), None),  # the edge decided with this choice
        (standing(refused=["ga4"], at=50.0), hit(), None),
        # An old token replayed after a narrower choice or a withdrawal, queued after it: the
        # token's own time counts, not the queue's.
        (standing({"analytics"}, at=50.0), hit(token_time=40.0), "withdrawn"),
        (standing(frozenset(), at=50.0), hit(token_time=40.0), "withdrawn"),
        (standing(refused=["ga4"], at=50.0), hit(token_time=40.0), "vendor_refused"),
        (standing({"analytics"}, at=50.0), hit(token_time=60.0), None),  # the token is newer
        (standing({"analytics"}, at=50.0), hit(token_time=51.0), None),  # the token is newer
        # The token's own second: its own choice (the hit fits it), or one made just after.
        (standing(at=50.7), hit(token_time=50.0), None),
        (standing({"analytics"}, at=50.7), hit(frozenset({"analytics"}), token_time=50.0), None),
        (standing({"analytics"}, at=50.7), hit(token_time=50.0), "withdrawn"),
        (standing(frozenset(), at=50.7), hit(token_time=50.0), "withdrawn"),
        (standing(frozenset(), at=50.7), hit(frozenset(), token_time=50.0), None),  # anonymous
    ],
)
def test_withheld_reason(later: Standing, queued: QueuedHit, reason: str | None) -> None:
    assert withheld_reason(later, queued, GA4) == reason


def test_a_queued_hit_keeps_its_token_time_and_an_older_entry_reads_without_one() -> None:
    queued = hit(token_time=1_700_000_000.0)
    assert QueuedHit.from_json(queued.to_json()) == queued
    older = hit()  # as an entry written before tokens' times were queued
    assert '"ct"' not in older.to_json()
    assert QueuedHit.from_json(older.to_json()).chosen_at is None
