"""What decides, at delivery, that a queued hit may no longer be sent (a pure table)."""

from __future__ import annotations

import pytest

from gateway.delivery.consent_check import Standing, withheld_reason
from gateway.delivery.queue import QueuedHit
from gateway.rules.model import HitRule, Rule
from gateway.tracking.hits import OutboundHit

GA4 = Rule("ga4", "GA4", "analytics", "https://p.example/", HitRule(mode="forward"))
BOTH = frozenset({"analytics", "marketing"})


def hit(signalled: frozenset[str] = BOTH) -> QueuedHit:
    return QueuedHit(OutboundHit("ga4", "GET", "https://v.example/c", ()), "c1", 100.0, signalled)


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
        (standing({"marketing"}), hit(frozenset()), "withdrawn"),
        (standing(refused=["ga4"]), hit(), "vendor_refused"),
        (standing(refused=["meta_pixel"]), hit(), None),
        (standing(frozenset(), at=50.0), hit(), None),  # the edge decided with this choice
        (standing(refused=["ga4"], at=50.0), hit(), None),
    ],
)
def test_withheld_reason(later: Standing, queued: QueuedHit, reason: str | None) -> None:
    assert withheld_reason(later, queued, GA4) == reason
