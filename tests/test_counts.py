"""Counter keys are types: each kind writes its label and reads it back, in the stored format."""

from __future__ import annotations

import pytest

from gateway.model.counts import (
    ConsentAction,
    ConsentCategory,
    ConsentGpc,
    CountKey,
    EmailClick,
    EmailOpen,
    InvalidEmailLink,
    PixelCount,
)


@pytest.mark.parametrize(
    ("count", "stored"),
    [
        (
            ConsentAction("visitor", "accept_all"),
            CountKey("2026-11-25", "consent_action", "visitor:accept_all"),
        ),
        (ConsentGpc("visitor", gpc=True), CountKey("2026-11-25", "consent_gpc", "visitor:on")),
        (
            ConsentGpc("recipient", gpc=False),
            CountKey("2026-11-25", "consent_gpc", "recipient:off"),
        ),
        (
            ConsentCategory("visitor", "analytics", granted=True),
            CountKey("2026-11-25", "consent_category", "visitor:analytics:granted"),
        ),
        (
            ConsentCategory("recipient", "email_tracking", granted=False),
            CountKey("2026-11-25", "consent_category", "recipient:email_tracking:denied"),
        ),
        (PixelCount("meta_pixel", "block"), CountKey("2026-11-25", "pixel", "meta_pixel:block")),
        (EmailOpen("spring", "human"), CountKey("2026-11-25", "email_open", "spring|human")),
        (
            EmailClick("spring", "2", "proxied"),
            CountKey("2026-11-25", "email_click", "spring|2|proxied"),
        ),
        (
            EmailClick("a|b", "10", "machine"),
            CountKey("2026-11-25", "email_click", "a|b|10|machine"),
        ),
        (EmailOpen("x|y", "human"), CountKey("2026-11-25", "email_open", "x|y|human")),
        (InvalidEmailLink("click"), CountKey("2026-11-25", "email_invalid", "click")),
    ],
)
def test_a_count_is_stored_as_before_and_read_back(count, stored: CountKey) -> None:
    assert count.key("2026-11-25") == stored
    assert type(count).of(stored) == count


def test_reading_a_count_of_another_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="a pixel count is not a email_open count"):
        EmailOpen.of(CountKey("2026-11-25", "pixel", "ga4:forward"))
